# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""spec -> resolve -> domain XML -> parse back -> spec: nothing lost, nothing invented."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os
import sys

import pytest
from hypothesis import given, settings

from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain import merge as merge_mod
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain import metadata
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.errors import SpecError
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.parse import parse_options as parse_domain
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.render import render_tree, render_xml
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.resources import (
    memory_params,
    quota,
    scheduler_params,
    shares,
)
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import KV_NS
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import parse as parse_xml
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import tostring
from ansible_collections.kvcompute.libvirt.plugins.module_utils.plan.hardware import Existing, resolve
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.export import to_options
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.options import parse_options

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "spec"))
import vm_strategies  # noqa: E402

HOST = {
    "arch": "x86_64",
    "kvm_usable": True,
    "machines": {"kvm": ["pc", "q35", "pc-q35-7.2", "pc-i440fx-7.2"], "qemu": ["pc", "q35", "pc-q35-7.2",
                                                                               "pc-i440fx-7.2"]},
    "max_vcpus": {"kvm": 255, "qemu": 288},
}
LOADERS = {False: {"code": "/usr/share/OVMF/OVMF_CODE_4M.fd", "vars_template": "/usr/share/OVMF/OVMF_VARS_4M.fd"},
           True: {"code": "/usr/share/OVMF/OVMF_CODE_4M.ms.fd", "vars_template": "/usr/share/OVMF/OVMF_VARS_4M.ms.fd"}}


def pick_firmware(arch, machine, secure_boot):
    return dict(LOADERS[secure_boot])


def probe_for(spec):
    """Everything the spec refers to exists (an odd-length path is raw, else qcow2)."""
    out = {"files": {}, "volumes": {}, "volume_formats": {}, "networks": {}, "dirs": {}}
    for d in spec.disks:
        if d.path:
            out["files"][d.path] = "raw" if len(d.path) % 2 else "qcow2"
        if d.pool:
            key = "%s/%s" % (d.pool, d.volume)
            out["volumes"][key] = "/pools/%s" % key
            out["volume_formats"][key] = "qcow2"
    for n in spec.interfaces:
        if n.type == "network":
            out["networks"][n.source] = True
    return out


def resolved(opts, host=None, existing=None, probe=None):
    spec = parse_options(copy.deepcopy(opts))
    return resolve(spec, host or HOST, probe or probe_for(spec), existing, pick_firmware=pick_firmware)


def check_round_trip(opts, host=None):
    spec, plan = resolved(opts, host)
    xml = render_xml(spec, plan)
    parsed = parse_domain(xml)
    again = parse_options(parsed)
    assert to_options(again) == to_options(spec)
    # the metadata holds the same declared options
    assert metadata.read(parse_xml(xml)) == json.loads(json.dumps(to_options(spec)))
    return spec, plan, xml


def disk(name, **kw):
    out = {"name": name, "path": "/var/lib/libvirt/images/%s.img" % name}
    out.update(kw)
    return out


HAND_WRITTEN = [
    {"name": "minimal"},
    {"name": "efi-sb", "firmware": {"type": "efi", "secure_boot": True}, "machine": "pc-q35-7.2"},
    {"name": "efi-plain", "firmware": {"type": "efi"}, "machine": "pc"},
    {"name": "kernel", "kernel_boot": {"kernel": "/boot/vmlinuz", "initrd": "/boot/initrd.img",
                                       "cmdline": "console=ttyS0 root=/dev/vda1 quiet"}},
    {"name": "kernel-only", "kernel_boot": {"kernel": "/boot/vmlinuz"}},
    {"name": "disks", "disks": [
        disk("virtio", bus="virtio", boot_order=2),
        disk("sata", bus="sata", format="raw"),
        disk("scsi", bus="scsi", readonly=True, boot_order=1),
        {"name": "vol", "pool": "default", "volume": "vol.qcow2", "bus": "virtio"},
        {"name": "vol-scsi", "pool": "fast", "volume": "v2", "bus": "scsi", "format": "raw", "readonly": True},
        {"name": "cd", "device": "cdrom", "path": "/srv/iso/install.iso", "boot_order": 3},
        {"name": "cd-scsi", "device": "cdrom", "bus": "scsi"},
        {"name": "cd-empty", "device": "cdrom"},
        disk("created", size="10Gi"),
    ]},
    {"name": "nics", "interfaces": [
        {"name": "user"},
        {"name": "net", "type": "network", "source": "default", "model": "e1000e"},
        {"name": "br", "type": "bridge", "source": "br0", "model": "e1000", "mac": "52:54:00:AB:CD:EF"},
        {"name": "rtl", "type": "user", "model": "rtl8139"},
        {"name": "virtio", "type": "network", "source": "isolated", "model": "virtio"},
    ]},
    {"name": "video-virtio", "video": "virtio"},
    {"name": "video-vga", "video": "vga"},
    {"name": "video-bochs", "video": "bochs"},
    {"name": "video-none", "video": "none", "serial": {"type": "none"}},
    {"name": "video-auto-efi", "video": "auto", "firmware": {"type": "efi"}},
    {"name": "serial-file", "serial": {"type": "file", "path": "/var/log/libvirt/vm.serial"}},
    {"name": "serial-pty", "serial": {"type": "pty"}},
    {"name": "rng", "rng": True},
    {"name": "wd", "watchdog": {"model": "ib700", "action": "inject-nmi"}},
    {"name": "wd-default", "watchdog": {}},
    {"name": "req-cpu", "resources": {"requests": {"cpu": "500m"}}},
    {"name": "req-mem", "resources": {"requests": {"memory": "768Mi"}}},
    {"name": "lim-cpu", "resources": {"limits": {"cpu": "1500m"}}},
    {"name": "lim-mem", "resources": {"limits": {"memory": "1Gi"}}},
    {"name": "all-res", "memory": {"guest": "2Gi"},
     "resources": {"requests": {"cpu": "2", "memory": "1Gi"}, "limits": {"cpu": "4", "memory": "3Gi"}}},
    {"name": "cpu-named", "cpu": {"model": "Skylake-Client", "sockets": 2, "cores": 3, "threads": 2,
                                  "features": [{"name": "vmx", "policy": "disable"}, {"name": "pcid"},
                                               {"name": "avx2", "policy": "force"}, {"name": "svm", "policy": "forbid"},
                                               {"name": "aes", "policy": "optional"}]}},
    {"name": "cpu-passthrough", "cpu": {"model": "host-passthrough", "features": [{"name": "x2apic"}]}},
    {"name": "cpu-max", "domain_type": "qemu", "cpu": {"model": "maximum", "cores": 4}},
    {"name": "cpu-host-model", "cpu": {"model": "host-model", "threads": 2}},
    {"name": "tcg", "domain_type": "qemu", "machine": "pc-i440fx-7.2", "memory": {"guest": "1.5Gi"}},
]


@pytest.mark.parametrize("opts", HAND_WRITTEN, ids=[o["name"] for o in HAND_WRITTEN])
def test_round_trip_hand_written(opts):
    check_round_trip(opts)


def test_round_trip_on_tcg_host():
    host = dict(HOST, kvm_usable=False)
    spec, _plan, xml = check_round_trip({"name": "t", "cpu": {"sockets": 2}}, host)
    assert spec.domain_type == "qemu" and spec.cpu.model == "maximum"
    assert parse_xml(xml).get("type") == "qemu"


@given(vm_strategies.valid_options())
@settings(max_examples=150, deadline=None)
def test_round_trip_generated(opts):
    check_round_trip(opts)


@pytest.mark.parametrize("cpu", ["1m", "300"])
def test_requests_cpu_outside_shares_range_is_refused(cpu):
    # cputune shares are clamped to 2..262144: outside 2m..256 the request could never read back.
    with pytest.raises(SpecError) as err:
        parse_options({"name": "r", "resources": {"requests": {"cpu": cpu}}})
    assert "resources.requests.cpu" in err.value.fields


@pytest.mark.parametrize("cpu", ["2m", "256"])
def test_round_trip_requests_cpu_extremes(cpu):
    check_round_trip({"name": "r", "resources": {"requests": {"cpu": cpu}}})


@pytest.mark.parametrize("cmdline", ["console=ttyS0 ", ""])
def test_round_trip_cmdline_verbatim(cmdline):
    check_round_trip({"name": "k", "kernel_boot": {"kernel": "/k", "cmdline": cmdline}})


# --- specific XML -------------------------------------------------------------------

FULL = {
    "name": "full",
    "firmware": {"type": "efi", "secure_boot": True},
    "cpu": {"sockets": 2, "cores": 4, "threads": 2, "model": "Skylake-Client",
            "features": [{"name": "vmx", "policy": "disable"}]},
    "memory": {"guest": "2Gi"},
    "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": 2, "memory": "3Gi"}},
    "disks": [disk("root", boot_order=1), {"name": "cd", "device": "cdrom"},
              {"name": "data", "pool": "default", "volume": "d", "bus": "scsi"}],
    "interfaces": [{"name": "nic0", "type": "network", "source": "default"}],
    "serial": {"type": "file", "path": "/var/log/full.log"},
    "rng": True,
    "watchdog": {"action": "poweroff"},
}


@pytest.fixture
def full_root():
    spec, plan = resolved(FULL)
    return parse_xml(render_xml(spec, plan))


def one(root, path):
    found = root.xpath(path)
    assert len(found) == 1, (path, found)
    return found[0]


def test_xml_domain_basics(full_root):
    assert full_root.get("type") == "kvm"
    assert one(full_root, "/domain/name/text()") == "full"
    assert one(full_root, "/domain/os/type/@machine") == "q35"
    assert one(full_root, "/domain/os/type/@arch") == "x86_64"
    assert one(full_root, "/domain/os/type/text()") == "hvm"
    assert one(full_root, "/domain/on_crash/text()") == "destroy"


def test_xml_cpu(full_root):
    cpu = one(full_root, "/domain/cpu")
    assert cpu.get("mode") == "custom" and cpu.get("match") == "exact"
    assert one(cpu, "model/text()") == "Skylake-Client"
    assert one(cpu, "model/@fallback") == "forbid"
    topo = one(cpu, "topology")
    # The topology describes max_sockets (4 × 2 sockets by default); <vcpu current> what is plugged.
    assert (topo.get("sockets"), topo.get("dies"), topo.get("cores"), topo.get("threads")) == ("8", "1", "4", "2")
    assert one(cpu, "feature[@name='vmx']/@policy") == "disable"
    assert one(full_root, "/domain/vcpu/text()") == "64"
    assert one(full_root, "/domain/vcpu/@current") == "16"
    assert one(full_root, "/domain/vcpu/@placement") == "static"
    layout = full_root.xpath("/domain/vcpus/vcpu")
    assert len(layout) == 64
    assert [v.get("enabled") for v in layout].count("yes") == 16
    assert layout[0].get("hotpluggable") == "no" and layout[1].get("hotpluggable") == "yes"


@pytest.mark.parametrize("model, mode, check", [("host-model", "host-model", None),
                                                ("host-passthrough", "host-passthrough", "none"),
                                                ("maximum", "maximum", None)])
def test_xml_cpu_modes(model, mode, check):
    spec, plan = resolved({"name": "c", "cpu": {"model": model}})
    root = parse_xml(render_xml(spec, plan))
    cpu = one(root, "/domain/cpu")
    assert cpu.get("mode") == mode
    assert cpu.get("check") == check
    assert root.xpath("/domain/cpu/model") == []


def test_xml_memory(full_root):
    assert one(full_root, "/domain/memory/text()") == str(2 * 2 ** 20)
    assert one(full_root, "/domain/memory/@unit") == "KiB"
    assert one(full_root, "/domain/currentMemory/text()") == str(2 * 2 ** 20)


def test_xml_cputune_memtune(full_root):
    assert one(full_root, "/domain/cputune/shares/text()") == "512"
    assert one(full_root, "/domain/cputune/period/text()") == "100000"
    assert one(full_root, "/domain/cputune/quota/text()") == "200000"
    assert one(full_root, "/domain/memtune/soft_limit/text()") == str(2 ** 20)
    assert one(full_root, "/domain/memtune/hard_limit/text()") == str(3 * 2 ** 20)
    assert one(full_root, "/domain/memtune/hard_limit/@unit") == "KiB"


def test_no_tune_elements_without_resources():
    spec, plan = resolved({"name": "plain"})
    root = parse_xml(render_xml(spec, plan))
    assert root.xpath("/domain/cputune | /domain/memtune") == []


@pytest.mark.parametrize("milli, expected", [(1000, 1024), (500, 512), (250, 256), (2, 2), (1, 2), (100, 102),
                                             (256000, 262144), (10 ** 6, 262144)])
def test_shares(milli, expected):
    assert shares(milli) == expected


@pytest.mark.parametrize("milli, expected", [(2000, 200000), (10, 1000), (1, 1000), (1500, 150000)])
def test_quota(milli, expected):
    assert quota(milli) == expected


def test_live_params():
    spec = parse_options({"name": "x", "resources": {"requests": {"cpu": "250m", "memory": "1Gi"},
                                                     "limits": {"cpu": "3"}}})
    assert scheduler_params(spec.resources) == {"cpu_shares": 256, "vcpu_period": 100000, "vcpu_quota": 300000}
    assert memory_params(spec.resources) == {"soft_limit": 2 ** 20, "hard_limit": 9007199254740991}
    empty = parse_options({"name": "x"}).resources
    assert scheduler_params(empty) == {"cpu_shares": 1024, "vcpu_period": 100000, "vcpu_quota": -1}


def test_xml_firmware_secure_boot(full_root):
    loader = one(full_root, "/domain/os/loader")
    assert loader.get("secure") == "yes"
    assert loader.get("type") == "pflash" and loader.get("readonly") == "yes"
    assert loader.text == LOADERS[True]["code"]
    assert one(full_root, "/domain/os/nvram/text()") == "/var/lib/libvirt/qemu/nvram/full_VARS.fd"
    assert one(full_root, "/domain/os/nvram/@template") == LOADERS[True]["vars_template"]
    assert one(full_root, "/domain/features/smm/@state") == "on"


def test_xml_efi_without_secure_boot():
    spec, plan = resolved({"name": "e", "firmware": {"type": "efi"}})
    root = parse_xml(render_xml(spec, plan))
    assert one(root, "/domain/os/loader/@secure") == "no"
    assert root.xpath("/domain/features/smm") == []
    assert one(root, "/domain/devices/video/model/@type") == "bochs"


def test_xml_bios_has_no_loader():
    spec, plan = resolved({"name": "b"})
    root = parse_xml(render_xml(spec, plan))
    assert root.xpath("/domain/os/loader | /domain/os/nvram") == []
    assert one(root, "/domain/devices/video/model/@type") == "vga"


def test_xml_kernel_boot():
    spec, plan = resolved(HAND_WRITTEN[3])
    root = parse_xml(render_xml(spec, plan))
    assert one(root, "/domain/os/kernel/text()") == "/boot/vmlinuz"
    assert one(root, "/domain/os/initrd/text()") == "/boot/initrd.img"
    assert one(root, "/domain/os/cmdline/text()") == "console=ttyS0 root=/dev/vda1 quiet"


def test_xml_aliases_and_targets(full_root):
    assert full_root.xpath("/domain/devices/disk/alias/@name") == ["ua-root", "ua-cd", "ua-data"]
    assert full_root.xpath("/domain/devices/interface/alias/@name") == ["ua-nic0"]
    assert full_root.xpath("/domain/devices/disk/target/@dev") == ["vda", "sda", "sdb"]
    assert one(full_root, "/domain/devices/disk[alias/@name='ua-root']/boot/@order") == "1"
    assert one(full_root, "/domain/devices/disk[alias/@name='ua-data']/@type") == "volume"
    assert one(full_root, "/domain/devices/disk[alias/@name='ua-data']/source/@pool") == "default"
    assert one(full_root, "/domain/devices/disk[alias/@name='ua-cd']/@device") == "cdrom"
    assert full_root.xpath("/domain/devices/disk[alias/@name='ua-cd']/readonly")
    assert full_root.xpath("/domain/devices/disk[alias/@name='ua-cd']/source") == []
    assert one(full_root, "/domain/devices/controller[@type='scsi']/@model") == "virtio-scsi"


def test_xml_interface(full_root):
    nic = one(full_root, "/domain/devices/interface")
    assert nic.get("type") == "network"
    assert one(nic, "source/@network") == "default"
    assert one(nic, "model/@type") == "virtio"
    assert one(nic, "mac/@address").startswith("52:54:00:")


def test_xml_graphics_on_loopback(full_root):
    graphics = one(full_root, "/domain/devices/graphics")
    assert graphics.get("type") == "vnc"
    assert graphics.get("listen") == "127.0.0.1"
    assert one(graphics, "listen/@address") == "127.0.0.1"


def test_xml_no_graphics_without_video():
    spec, plan = resolved({"name": "headless", "video": "none"})
    root = parse_xml(render_xml(spec, plan))
    assert root.xpath("/domain/devices/graphics | /domain/devices/video") == []


def test_xml_small_devices(full_root):
    assert one(full_root, "/domain/devices/serial/@type") == "file"
    assert one(full_root, "/domain/devices/serial/source/@path") == "/var/log/full.log"
    assert one(full_root, "/domain/devices/console/target/@type") == "serial"
    assert one(full_root, "/domain/devices/rng/@model") == "virtio"
    assert one(full_root, "/domain/devices/rng/backend/text()") == "/dev/urandom"
    wd = one(full_root, "/domain/devices/watchdog")
    assert (wd.get("model"), wd.get("action")) == ("i6300esb", "poweroff")


def test_xml_metadata_json(full_root):
    found = full_root.xpath("/domain/metadata/kv:vm/kv:spec/text()", namespaces={"kv": KV_NS})
    assert len(found) == 1
    declared = json.loads(found[0])
    assert declared["name"] == "full"
    assert declared["resources"] == {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "2",
                                                                                              "memory": "3Gi"}}
    assert declared["disks"][0]["name"] == "root"


def test_uuid_rendered_when_planned():
    spec, plan = resolved({"name": "u"}, existing=Existing(uuid="1b4e28ba-2fa1-11d2-883f-0016d3cca427"))
    root = parse_xml(render_xml(spec, plan))
    assert one(root, "/domain/uuid/text()") == "1b4e28ba-2fa1-11d2-883f-0016d3cca427"


def test_disk_size_comes_from_metadata():
    spec, plan = resolved({"name": "s", "disks": [disk("root", size="20Gi")]})
    xml = render_xml(spec, plan)
    assert parse_domain(xml)["disks"][0]["size"] == "20Gi"
    stripped = parse_xml(xml)
    stripped.remove(stripped.find("metadata"))
    assert "size" not in parse_domain(tostring(stripped))["disks"][0]


def test_parse_foreign_domain():
    """A domain we did not write: names fall back to targets / positions, defaults are read."""
    xml = """<domain type='kvm'><name>foreign</name><memory unit='MiB'>1024</memory><vcpu>4</vcpu>
      <os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type></os>
      <devices>
        <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/x.qcow2'/>
          <target dev='vda' bus='virtio'/></disk>
        <interface type='bridge'><mac address='52:54:00:00:00:01'/><source bridge='br0'/><model type='virtio'/>
        </interface>
      </devices></domain>"""
    out = parse_domain(xml)
    assert out["name"] == "foreign"
    assert out["memory"] == {"guest": 2 ** 30, "max_guest": 2 ** 30}
    assert out["cpu"] == {"sockets": 4, "max_sockets": 4}
    assert out["firmware"] == {"type": "bios", "secure_boot": False}
    assert out["disks"] == [{"name": "vda", "device": "disk", "bus": "virtio", "format": "qcow2", "path": "/x.qcow2"}]
    assert out["interfaces"] == [{"name": "nic0", "type": "bridge", "model": "virtio", "mac": "52:54:00:00:00:01",
                                  "source": "br0"}]
    assert out["video"] == "none" and out["serial"] == {"type": "none"} and out["rng"] is False
    assert parse_options(out).cpu.vcpus == 4


# --- merge -------------------------------------------------------------------------

EXISTING = """<domain type='kvm'>
  <name>full</name>
  <uuid>1b4e28ba-2fa1-11d2-883f-0016d3cca427</uuid>
  <metadata>
    <other:info xmlns:other='https://example.com/other'><other:owner>team-a</other:owner></other:info>
    <kv:vm xmlns:kv='https://kvcompute.dev/xmlns/libvirt/1'><kv:spec>{"name": "old"}</kv:spec></kv:vm>
  </metadata>
  <memory unit='KiB'>1048576</memory>
  <vcpu placement='static'>1</vcpu>
  <os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os>
  <clock offset='utc'><timer name='rtc' tickpolicy='catchup'/></clock>
  <pm><suspend-to-mem enabled='no'/></pm>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/><source file='/var/lib/libvirt/images/root.img'/>
      <target dev='vda' bus='virtio'/><alias name='ua-root'/>
      <address type='pci' domain='0x0000' bus='0x04' slot='0x00' function='0x0'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/><target dev='sda' bus='sata'/><readonly/><alias name='ua-cd'/>
      <address type='drive' controller='0' bus='0' target='0' unit='0'/>
    </disk>
    <disk type='file' device='disk'>
      <source file='/var/lib/libvirt/images/gone.img'/><target dev='vdb' bus='virtio'/><alias name='ua-gone'/>
      <address type='pci' domain='0x0000' bus='0x05' slot='0x00' function='0x0'/>
    </disk>
    <controller type='scsi' index='0' model='virtio-scsi'>
      <address type='pci' domain='0x0000' bus='0x03' slot='0x00' function='0x0'/>
    </controller>
    <controller type='pci' index='0' model='pcie-root'/>
    <controller type='pci' index='1' model='pcie-root-port'>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>
    </controller>
    <interface type='network'>
      <mac address='52:54:00:12:34:56'/><source network='default'/><model type='virtio'/><alias name='ua-nic0'/>
      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
    </interface>
    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/>
      <address type='virtio-serial' controller='0' bus='0' port='1'/></channel>
    <hostdev mode='subsystem' type='pci' managed='yes'>
      <source><address domain='0x0000' bus='0x3b' slot='0x00' function='0x1'/></source>
    </hostdev>
    <video><model type='qxl'/></video>
    <memballoon model='virtio'/>
  </devices>
</domain>"""


@pytest.fixture
def merged():
    spec, plan = resolved(FULL, existing=Existing(uuid="1b4e28ba-2fa1-11d2-883f-0016d3cca427",
                                                  machine="pc-q35-7.2", targets={"root": "vda", "cd": "sda"},
                                                  macs={"nic0": "52:54:00:12:34:56"}))
    new = render_tree(spec, plan)
    old = parse_xml(EXISTING)
    result = merge_mod.merge(new, old)
    assert result is new
    return parse_xml(tostring(result))


def test_merge_keeps_unmanaged_top_level(merged):
    assert one(merged, "/domain/clock/@offset") == "utc"
    assert one(merged, "/domain/clock/timer/@name") == "rtc"
    assert one(merged, "/domain/pm/suspend-to-mem/@enabled") == "no"
    assert one(merged, "/domain/uuid/text()") == "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
    assert one(merged, "/domain/os/type/@machine") == "pc-q35-7.2"
    assert len(merged.xpath("/domain/name")) == 1 and len(merged.xpath("/domain/memory")) == 1


def test_merge_keeps_other_metadata_and_replaces_ours(merged):
    owner = merged.xpath("/domain/metadata/o:info/o:owner/text()", namespaces={"o": "https://example.com/other"})
    assert owner == ["team-a"]
    specs = merged.xpath("/domain/metadata/kv:vm/kv:spec/text()", namespaces={"kv": KV_NS})
    assert len(specs) == 1
    assert json.loads(specs[0])["name"] == "full"


def test_merge_keeps_unmanaged_devices(merged):
    assert one(merged, "/domain/devices/channel/target/@name") == "org.qemu.guest_agent.0"
    assert one(merged, "/domain/devices/hostdev/source/address/@bus") == "0x3b"
    assert one(merged, "/domain/devices/memballoon/@model") == "virtio"
    assert len(merged.xpath("/domain/devices/controller[@type='pci']")) == 2
    assert one(merged, "/domain/devices/controller[@type='pci'][@index='1']/address/@slot") == "0x02"


def test_merge_does_not_duplicate_managed_devices(merged):
    assert merged.xpath("/domain/devices/disk/alias/@name") == ["ua-root", "ua-cd", "ua-data"]
    assert len(merged.xpath("/domain/devices/interface")) == 1
    assert merged.xpath("/domain/devices/video/model/@type") == ["bochs"]  # ours, not the old qxl
    assert len(merged.xpath("/domain/devices/controller[@type='scsi']")) == 1
    assert len(merged.xpath("/domain/devices/graphics")) == 1
    assert merged.xpath("/domain/devices/emulator") == []


def test_merge_keeps_addresses_on_aliased_devices(merged):
    root = one(merged, "/domain/devices/disk[alias/@name='ua-root']/address")
    assert (root.get("type"), root.get("bus"), root.get("slot")) == ("pci", "0x04", "0x00")
    cd = one(merged, "/domain/devices/disk[alias/@name='ua-cd']/address")
    assert (cd.get("type"), cd.get("unit")) == ("drive", "0")
    assert one(merged, "/domain/devices/interface[alias/@name='ua-nic0']/address/@bus") == "0x01"
    assert one(merged, "/domain/devices/controller[@type='scsi']/address/@bus") == "0x03"
    # a new device gets no address: libvirt assigns one
    assert merged.xpath("/domain/devices/disk[alias/@name='ua-data']/address") == []
    # the removed disk's address is not reused anywhere
    assert merged.xpath("//address[@bus='0x05']") == []


def test_merge_kept_values_flow_from_existing(merged):
    assert one(merged, "/domain/devices/interface/mac/@address") == "52:54:00:12:34:56"
    assert merged.xpath("/domain/devices/disk/target/@dev") == ["vda", "sda", "sdb"]


def test_merge_then_parse_is_still_the_spec(merged):
    spec, _plan = resolved(FULL, existing=Existing(machine="pc-q35-7.2", macs={"nic0": "52:54:00:12:34:56"}))
    assert to_options(parse_options(parse_domain(tostring(merged)))) == to_options(spec)


def test_merge_is_idempotent():
    spec, plan = resolved(FULL)
    first = merge_mod.merge(render_tree(spec, plan), parse_xml(EXISTING))
    second = merge_mod.merge(render_tree(spec, plan), parse_xml(tostring(first)))
    assert tostring(second) == tostring(first)


def test_merge_without_old_metadata():
    spec, plan = resolved({"name": "m"})
    old = parse_xml("<domain type='kvm'><name>m</name><os><type>hvm</type></os><devices/></domain>")
    out = merge_mod.merge(render_tree(spec, plan), old)
    assert len(out.xpath("/domain/metadata/kv:vm", namespaces={"kv": KV_NS})) == 1


def test_merge_drops_address_when_disk_bus_changes():
    opts = copy.deepcopy(FULL)
    opts["disks"][0]["bus"] = "sata"
    spec, plan = resolved(opts, existing=Existing(targets={"root": "vda"}))
    out = merge_mod.merge(render_tree(spec, plan), parse_xml(EXISTING))
    addresses = out.xpath("/domain/devices/disk[alias/@name='ua-root']/address/@type")
    assert addresses in ([], ["drive"])
