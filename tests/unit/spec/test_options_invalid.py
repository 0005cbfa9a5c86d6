# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Invalid kv_vm options: each is refused with a SpecError naming the field.

INVALID_OPTIONS is reused by the integration suite.  Pass each case as one item of
kv_vm's `vms` list (items are not coerced by Ansible's argument spec, top-level
options are), and expect the field prefixed with `vms[0].`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.errors import SpecError
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.options import parse_options
from tests.unit.spec.test_options_pinning import PINNING_INVALID


def vm(**kw):
    out = {"name": "vm1"}
    out.update(kw)
    return out


def disk(**kw):
    out = {"name": "root", "path": "/var/lib/libvirt/images/root.qcow2"}
    out.update(kw)
    return out


def nic(**kw):
    out = {"name": "nic0"}
    out.update(kw)
    return out


EFI_SB = {"type": "efi", "secure_boot": True}

# (options, expected_field)
INVALID_OPTIONS = [
    # --- name
    ({}, "name"),
    ({"name": ""}, "name"),
    ({"name": "-vm"}, "name"),
    ({"name": ".vm"}, "name"),
    ({"name": "a" * 65}, "name"),
    ({"name": "vm/1"}, "name"),
    ({"name": "vm 1"}, "name"),
    ({"name": "vm:1"}, "name"),
    ({"name": 5}, "name"),
    ({"name": ["vm"]}, "name"),
    # --- unknown top-level keys
    (vm(cpus={"cores": 2}), "cpus"),
    (vm(disk=[]), "disk"),
    (vm(memory_mb=1024), "memory_mb"),
    # --- domain_type / machine
    (vm(domain_type="xen"), "domain_type"),
    (vm(domain_type="KVM"), "domain_type"),
    (vm(domain_type=True), "domain_type"),
    (vm(machine="q 35"), "machine"),
    (vm(machine="-q35"), "machine"),
    (vm(machine=35), "machine"),
    # --- firmware
    (vm(firmware="efi"), "firmware"),
    (vm(firmware={"type": "uefi"}), "firmware.type"),
    (vm(firmware={"type": "efi", "secure_boot": "maybe"}), "firmware.secure_boot"),
    (vm(firmware={"secure_boot": True}), "firmware.secure_boot"),
    (vm(firmware={"type": "bios", "secure_boot": True}), "firmware.secure_boot"),
    (vm(firmware=EFI_SB, machine="pc"), "firmware.secure_boot"),
    (vm(firmware=EFI_SB, machine="pc-i440fx-7.2"), "firmware.secure_boot"),
    (vm(firmware={"typ": "efi"}), "firmware.typ"),
    # --- kernel_boot
    (vm(kernel_boot={}), "kernel_boot.kernel"),
    (vm(kernel_boot={"initrd": "/boot/initrd.img"}), "kernel_boot.kernel"),
    (vm(kernel_boot={"kernel": "vmlinuz"}), "kernel_boot.kernel"),
    (vm(kernel_boot={"kernel": "/boot/vmlinuz", "initrd": "initrd.img"}), "kernel_boot.initrd"),
    (vm(kernel_boot={"kernel": "/boot/vmlinuz", "cmdline": 5}), "kernel_boot.cmdline"),
    (vm(kernel_boot={"kernel": "/boot/vmlinuz", "append": "quiet"}), "kernel_boot.append"),
    (vm(kernel_boot="/boot/vmlinuz"), "kernel_boot"),
    # --- cpu
    (vm(cpu={"sockets": 0}), "cpu.sockets"),
    (vm(cpu={"cores": -1}), "cpu.cores"),
    (vm(cpu={"threads": 5000}), "cpu.threads"),
    (vm(cpu={"sockets": "two"}), "cpu.sockets"),
    (vm(cpu={"sockets": 1.5}), "cpu.sockets"),
    (vm(cpu={"sockets": True}), "cpu.sockets"),
    (vm(cpu={"sockets": 32, "cores": 32, "threads": 8}), "cpu"),
    (vm(cpu={"model": "host model"}), "cpu.model"),
    (vm(cpu={"model": 7}), "cpu.model"),
    (vm(cpu={"socket": 2}), "cpu.socket"),
    (vm(cpu=4), "cpu"),
    (vm(cpu={"features": "vmx"}), "cpu.features"),
    (vm(cpu={"features": ["vmx"]}), "cpu.features[0]"),
    (vm(cpu={"features": [{"policy": "require"}]}), "cpu.features[0].name"),
    (vm(cpu={"features": [{"name": "vmx", "policy": "enable"}]}), "cpu.features[0].policy"),
    (vm(cpu={"features": [{"name": "vmx"}, {"name": "vmx", "policy": "disable"}]}), "cpu.features[1].name"),
    (vm(cpu={"features": [{"name": "vmx", "state": "on"}]}), "cpu.features[0].state"),
    (vm(cpu={"features": [{"name": "v m x"}]}), "cpu.features[0].name"),
    # --- memory
    (vm(memory={"guest": "1Gb"}), "memory.guest"),
    (vm(memory={"guest": "1.5Mi"}), "memory.guest"),
    (vm(memory={"guest": "1536.5Mi"}), "memory.guest"),
    (vm(memory={"guest": "8Mi"}), "memory.guest"),
    (vm(memory={"guest": "1000M"}), "memory.guest"),
    (vm(memory={"guest": "1.5"}), "memory.guest"),
    (vm(memory={"guest": -1}), "memory.guest"),
    (vm(memory={"guest": True}), "memory.guest"),
    (vm(memory={"guest": "-1Gi"}), "memory.guest"),
    (vm(memory={"size": "1Gi"}), "memory.size"),
    (vm(memory="1Gi"), "memory"),
    # --- resources
    (vm(resources={"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}), "resources.requests.cpu"),
    (vm(resources={"requests": {"memory": "2Gi"}, "limits": {"memory": "1Gi"}}), "resources.requests.memory"),
    (vm(resources={"limits": {"memory": "256Mi"}}), "resources.limits.memory"),
    (vm(memory={"guest": "2Gi"}, resources={"limits": {"memory": "1Gi"}}), "resources.limits.memory"),
    (vm(resources={"limits": {"cpu": "5m"}}), "resources.limits.cpu"),
    (vm(resources={"requests": {"cpu": "0"}}), "resources.requests.cpu"),
    (vm(resources={"requests": {"cpu": "1.5m"}}), "resources.requests.cpu"),
    (vm(resources={"requests": {"cpu": "abc"}}), "resources.requests.cpu"),
    (vm(resources={"limits": {"cpu": "-1"}}), "resources.limits.cpu"),
    (vm(resources={"requests": {"cpu": True}}), "resources.requests.cpu"),
    (vm(resources={"requests": {"memory": "1000001"}}), "resources.requests.memory"),
    (vm(resources={"requests": {"memory": "1Gb"}}), "resources.requests.memory"),
    (vm(resources={"limits": {"memory": "512Ki"}}), "resources.limits.memory"),
    (vm(resources={"request": {"cpu": "1"}}), "resources.request"),
    (vm(resources={"requests": {"gpu": 1}}), "resources.requests.gpu"),
    (vm(resources={"limits": {"storage": "1Gi"}}), "resources.limits.storage"),
    (vm(resources={"requests": "1"}), "resources.requests"),
    # --- disks
    (vm(disks={"name": "root"}), "disks"),
    (vm(disks=["root"]), "disks[0]"),
    (vm(disks=[{"path": "/img"}]), "disks[0].name"),
    (vm(disks=[disk(name="Root")]), "disks[0].name"),
    (vm(disks=[disk(name="root_disk")]), "disks[0].name"),
    (vm(disks=[disk(name="-root")]), "disks[0].name"),
    (vm(disks=[disk(name="root-")]), "disks[0].name"),
    (vm(disks=[disk(name="a" * 64)]), "disks[0].name"),
    (vm(disks=[{"name": "root"}]), "disks[0].path"),
    (vm(disks=[disk(path="images/root.img")]), "disks[0].path"),
    (vm(disks=[disk(pool="default", volume="root.qcow2")]), "disks[0].path"),
    (vm(disks=[{"name": "root", "pool": "default"}]), "disks[0].volume"),
    (vm(disks=[{"name": "root", "volume": "root.qcow2"}]), "disks[0].pool"),
    (vm(disks=[disk(device="floppy")]), "disks[0].device"),
    (vm(disks=[disk(bus="ide")]), "disks[0].bus"),
    (vm(disks=[{"name": "cd", "device": "cdrom", "bus": "virtio"}]), "disks[0].bus"),
    (vm(disks=[{"name": "cd", "device": "cdrom", "size": "1Gi"}]), "disks[0].size"),
    (vm(disks=[{"name": "ro", "path": "/img", "bus": "sata", "readonly": True}]), "disks[0].readonly"),
    (vm(disks=[disk(size="10GB")]), "disks[0].size"),
    (vm(disks=[disk(size="512Ki")]), "disks[0].size"),
    (vm(disks=[disk(format="vmdk")]), "disks[0].format"),
    (vm(disks=[disk(boot_order=0)]), "disks[0].boot_order"),
    (vm(disks=[disk(boot_order=256)]), "disks[0].boot_order"),
    (vm(disks=[disk(boot_order="first")]), "disks[0].boot_order"),
    (vm(disks=[disk(readonly="sometimes")]), "disks[0].readonly"),
    (vm(disks=[disk(cache="none")]), "disks[0].cache"),
    (vm(disks=[disk(), disk(path="/b")]), "disks"),
    (vm(disks=[disk(boot_order=1), disk(name="data", path="/b", boot_order=1)]), "disks"),
    (vm(disks=[disk(), {"name": "data"}]), "disks[1].path"),
    # --- interfaces
    (vm(interfaces=nic()), "interfaces"),
    (vm(interfaces=[{"type": "user"}]), "interfaces[0].name"),
    (vm(interfaces=[nic(name="eth_0")]), "interfaces[0].name"),
    (vm(interfaces=[nic(name="Eth0")]), "interfaces[0].name"),
    (vm(interfaces=[nic(type="macvtap", source="eth0")]), "interfaces[0].type"),
    (vm(interfaces=[nic(type="network")]), "interfaces[0].source"),
    (vm(interfaces=[nic(type="bridge")]), "interfaces[0].source"),
    (vm(interfaces=[nic(source="default")]), "interfaces[0].source"),
    (vm(interfaces=[nic(type="user", source="default")]), "interfaces[0].source"),
    (vm(interfaces=[nic(model="virtio-net")]), "interfaces[0].model"),
    (vm(interfaces=[nic(mac="52:54:00:zz:00:01")]), "interfaces[0].mac"),
    (vm(interfaces=[nic(mac="52-54-00-00-00-01")]), "interfaces[0].mac"),
    (vm(interfaces=[nic(mac="52:54:00:00:01")]), "interfaces[0].mac"),
    (vm(interfaces=[nic(mac="01:00:5e:00:00:01")]), "interfaces[0].mac"),
    (vm(interfaces=[nic(mac="FF:FF:FF:FF:FF:FF")]), "interfaces[0].mac"),
    (vm(interfaces=[nic(), nic(type="network", source="default")]), "interfaces"),
    (vm(interfaces=[nic(mac="52:54:00:aa:bb:cc"), nic(name="nic1", mac="52:54:00:AA:BB:CC")]), "interfaces"),
    (vm(interfaces=[nic(vlan=10)]), "interfaces[0].vlan"),
    # --- video / serial / rng / watchdog
    (vm(video="qxl"), "video"),
    (vm(video=1), "video"),
    (vm(serial={"type": "tcp"}), "serial.type"),
    (vm(serial={"type": "file"}), "serial.path"),
    (vm(serial={"type": "file", "path": "serial.log"}), "serial.path"),
    (vm(serial={"type": "pty", "path": "/var/log/s.log"}), "serial.path"),
    (vm(serial={"type": "none", "path": "/var/log/s.log"}), "serial.path"),
    (vm(serial={"kind": "pty"}), "serial.kind"),
    (vm(serial="pty"), "serial"),
    (vm(rng="maybe"), "rng"),
    (vm(rng=1), "rng"),
    (vm(watchdog={"action": "reboot"}), "watchdog.action"),
    (vm(watchdog={"model": "itco"}), "watchdog.model"),
    (vm(watchdog={"actoin": "reset"}), "watchdog.actoin"),
    (vm(watchdog="reset"), "watchdog"),
]
INVALID_OPTIONS += PINNING_INVALID  # dedicated CPUs, NUMA, hugepages (test_options_pinning.py)


def _id(case):
    options, field = case
    return "%s<-%s" % (field, "|".join(sorted("%s=%r" % (k, v) for k, v in options.items() if k != "name"))[:60]
                       or repr(options.get("name"))[:30])


@pytest.mark.parametrize("options, expected_field", INVALID_OPTIONS, ids=[_id(c) for c in INVALID_OPTIONS])
def test_invalid_option_is_named(options, expected_field):
    with pytest.raises(SpecError) as info:
        parse_options(copy.deepcopy(options))
    err = info.value
    assert expected_field in err.fields
    assert expected_field + ": " in str(err)
    # Every problem carries a non-empty message.
    assert all(msg for _f, msg in err.problems)


def test_table_is_large_and_distinct():
    assert len(INVALID_OPTIONS) >= 60
    reprs = [repr(sorted(o.items())) for o, _f in INVALID_OPTIONS]
    assert len(reprs) == len(set(reprs))


@pytest.mark.parametrize("options, field, hint", [
    (vm(nmae="x"), "nmae", "did you mean 'name'?"),
    (vm(cpus={}), "cpus", "did you mean 'cpu'?"),
    (vm(interface=[]), "interface", "did you mean 'interfaces'?"),
    (vm(firmware={"secureboot": True}), "firmware.secureboot", "did you mean 'secure_boot'?"),
    (vm(kernel_boot={"kernel": "/k", "initramfs": "/i"}), "kernel_boot.initramfs", "did you mean 'initrd'?"),
    (vm(cpu={"core": 2}), "cpu.core", "did you mean 'cores'?"),
    (vm(cpu={"features": [{"name": "vmx", "polcy": "require"}]}), "cpu.features[0].polcy", "did you mean 'policy'?"),
    (vm(memory={"guets": "1Gi"}), "memory.guets", "did you mean 'guest'?"),
    (vm(resources={"limit": {}}), "resources.limit", "did you mean 'limits'?"),
    (vm(resources={"requests": {"memroy": "1Gi"}}), "resources.requests.memroy", "did you mean 'memory'?"),
    (vm(resources={"limits": {"cpus": "1"}}), "resources.limits.cpus", "did you mean 'cpu'?"),
    (vm(disks=[disk(boot_ordr=1)]), "disks[0].boot_ordr", "did you mean 'boot_order'?"),
    (vm(interfaces=[nic(modle="e1000")]), "interfaces[0].modle", "did you mean 'model'?"),
    (vm(serial={"type": "file", "pth": "/x"}), "serial.pth", "did you mean 'path'?"),
    (vm(watchdog={"modle": "ib700"}), "watchdog.modle", "did you mean 'model'?"),
    (vm(domain_type="kvn"), "domain_type", "did you mean 'kvm'?"),
    (vm(video="virtoi"), "video", "did you mean 'virtio'?"),
    (vm(disks=[disk(bus="virtoi")]), "disks[0].bus", "did you mean 'virtio'?"),
])
def test_did_you_mean(options, field, hint):
    with pytest.raises(SpecError) as info:
        parse_options(options)
    messages = dict(info.value.problems)
    assert field in messages
    assert hint in messages[field]


def test_unknown_key_lists_allowed_keys():
    with pytest.raises(SpecError) as info:
        parse_options(vm(watchdog={"timeout": 5}))
    assert info.value.problems == [("watchdog.timeout", "unknown option; allowed: action, model")]


@pytest.mark.parametrize("options, field, fragment", [
    (vm(cpu={"sockets": 0}), "cpu.sockets", "must be ≥ 1, got 0"),
    (vm(cpu={"threads": 5000}), "cpu.threads", "must be ≤ 4096, got 5000"),
    (vm(cpu={"sockets": "two"}), "cpu.sockets", "must be an integer, not a string"),
    (vm(cpu={"sockets": 32, "cores": 32, "threads": 8}), "cpu", "8192 vCPUs, more than 4096"),
    (vm(memory={"guest": "1536.5Mi"}), "memory.guest", "whole number of MiB"),
    (vm(memory={"guest": "1.5Mi"}), "memory.guest", "must be at least 16777216 bytes"),
    (vm(memory={"guest": "8Mi"}), "memory.guest", "must be at least 16777216 bytes"),
    (vm(resources={"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}), "resources.requests.cpu",
     "request is above resources.limits.cpu"),
    (vm(resources={"limits": {"memory": "256Mi"}}), "resources.limits.memory", "is below memory.guest (536870912 bytes)"),
    (vm(resources={"limits": {"cpu": "5m"}}), "resources.limits.cpu", "at least 10m"),
    (vm(firmware={"secure_boot": True}), "firmware.secure_boot", "needs firmware.type efi (it is bios)"),
    (vm(firmware=EFI_SB, machine="pc"), "firmware.secure_boot", "needs a q35 machine type (SMM), machine is pc"),
    (vm(disks=[{"name": "cd", "device": "cdrom", "bus": "virtio"}]), "disks[0].bus", "cannot sit on virtio"),
    (vm(disks=[disk(), disk(path="/b")]), "disks", "name 'root' is used twice"),
    (vm(disks=[disk(boot_order=2), disk(name="b", path="/b", boot_order=2)]), "disks",
     "boot_order values must be unique, got [2, 2]"),
    (vm(interfaces=[nic(mac="01:00:5e:00:00:01")]), "interfaces[0].mac", "01:00:5e:00:00:01 is a multicast address"),
    (vm(interfaces=[nic(mac="52:54:00:aa:bb:cc"), nic(name="b", mac="52:54:00:AA:BB:CC")]), "interfaces",
     "mac '52:54:00:aa:bb:cc' is used twice"),
    (vm(interfaces=[nic(type="network")]), "interfaces[0].source", "is required for type network"),
    (vm(interfaces=[nic(source="x")]), "interfaces[0].source", "type user takes no source"),
    (vm(serial={"type": "file"}), "serial.path", "is required for type file"),
    (vm(watchdog={"action": "reboot"}), "watchdog.action", "'reboot' is not allowed; allowed: reset, shutdown"),
    ({"name": "a b"}, "name", "'a b' is not valid: 1-64 characters"),
    ({}, "name", "is required"),
])
def test_messages(options, field, fragment):
    with pytest.raises(SpecError) as info:
        parse_options(options)
    messages = [msg for f, msg in info.value.problems if f == field]
    assert messages, info.value.problems
    assert any(fragment in msg for msg in messages), messages


def test_all_problems_reported_together():
    options = {
        "name": "bad name",
        "domain_type": "xen",
        "cpu": {"sockets": 0, "features": [{"name": "vmx", "policy": "maybe"}]},
        "memory": {"guest": "1536.5Mi"},
        "disks": [{"name": "Root"}, {"name": "cd", "device": "cdrom", "bus": "virtio", "size": "1Gi"}],
        "interfaces": [{"name": "n", "type": "network"}],
        "serial": {"type": "file"},
        "watchdog": {"action": "reboot"},
        "bogus": 1,
    }
    with pytest.raises(SpecError) as info:
        parse_options(options)
    fields = info.value.fields
    for expected in ("name", "domain_type", "cpu.sockets", "cpu.features[0].policy", "memory.guest",
                     "disks[0].name", "disks[0].path", "disks[1].bus", "disks[1].size",
                     "interfaces[0].source", "serial.path", "watchdog.action", "bogus"):
        assert expected in fields, (expected, fields)
        assert expected + ": " in str(info.value)
    assert str(info.value) == "; ".join("%s: %s" % p for p in info.value.problems)
    assert len(info.value.problems) >= 13


def test_error_str_format():
    with pytest.raises(SpecError) as info:
        parse_options(vm(cpu={"cores": 0}))
    assert str(info.value) == "cpu.cores: must be ≥ 1, got 0"
    assert info.value.fields == ["cpu.cores"]
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("options", ["vm1", ["vm1"], 42])
def test_top_level_not_a_mapping(options):
    with pytest.raises(SpecError) as info:
        parse_options(options)
    assert "(top level)" in info.value.fields
    assert "name" in info.value.fields


def test_none_kernel_boot_and_watchdog_read_as_absent():
    spec = parse_options({"name": "vm1", "kernel_boot": None, "watchdog": None})
    assert spec.kernel_boot is None and spec.watchdog is None


def test_exa_quantity_reads_and_nan_cpu_is_a_spec_error():
    assert parse_options(vm(memory={"guest": "1Ei"})).memory.guest == 2 ** 60
    with pytest.raises(SpecError) as info:
        parse_options(vm(memory={"guest": "1e"}, resources={"requests": {"cpu": "nan"}}))
    assert info.value.fields == ["memory.guest", "resources.requests.cpu"]
