# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import os
import sys

import pytest
from hypothesis import given, settings

from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec import model as m
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.export import to_options
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.options import parse_options

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vm_strategies  # noqa: E402

MIB = 2 ** 20
GIB = 2 ** 30


def test_defaults():
    spec = parse_options({"name": "vm1"})
    assert spec == m.VMSpec(name="vm1")
    assert spec.domain_type == "auto"
    assert spec.machine == "q35"
    assert spec.firmware == m.Firmware(type="bios", secure_boot=False)
    assert spec.kernel_boot is None
    assert spec.cpu == m.Cpu(sockets=1, cores=1, threads=1, model=None, features=[])
    assert spec.cpu.vcpus == 1
    assert spec.memory.guest == 512 * MIB
    assert spec.resources == m.Resources(None, None, None, None)
    assert spec.disks == [] and spec.interfaces == []
    assert spec.video == "auto"
    assert spec.serial == m.Serial(type="pty", path=None)
    assert spec.rng is False
    assert spec.watchdog is None


def test_none_values_read_as_absent():
    """Ansible passes unset options as None (kernel_boot/watchdog: see the xfail in test_options_invalid)."""
    opts = dict((k, None) for k in ("domain_type", "machine", "firmware", "cpu", "memory",
                                    "resources", "disks", "interfaces", "video", "serial", "rng"))
    opts["name"] = "vm1"
    opts["cpu"] = {"sockets": None, "model": None, "features": None}
    opts["disks"] = [{"name": "d", "path": "/d", "bus": None, "size": None, "format": None}]
    assert parse_options(opts) == m.VMSpec(name="vm1", disks=[m.Disk(name="d", bus="virtio", path="/d")])


def test_default_export():
    assert to_options(parse_options({"name": "vm1"})) == {
        "name": "vm1",
        "domain_type": "auto",
        "machine": "q35",
        "firmware": {"type": "bios", "secure_boot": False},
        "cpu": {"sockets": 1, "cores": 1, "threads": 1, "features": []},
        "memory": {"guest": "512Mi"},
        "resources": {},
        "disks": [],
        "interfaces": [],
        "video": "auto",
        "serial": {"type": "pty"},
        "rng": False,
    }


FULL = {
    "name": "web-01.example_a+b",
    "domain_type": "kvm",
    "machine": "pc-q35-7.2",
    "firmware": {"type": "efi", "secure_boot": True},
    "kernel_boot": {"kernel": "/boot/vmlinuz", "initrd": "/boot/initrd.img", "cmdline": "console=ttyS0 quiet"},
    "cpu": {"sockets": 2, "cores": 4, "threads": 2, "model": "Skylake-Client",
            "features": [{"name": "vmx", "policy": "disable"}, {"name": "pcid"}]},
    "memory": {"guest": "1.5Gi"},
    "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": 2, "memory": "2Gi"}},
    "disks": [
        {"name": "root", "path": "/var/lib/libvirt/images/root.qcow2", "bus": "virtio", "format": "qcow2",
         "boot_order": 1, "size": "10Gi"},
        {"name": "data", "pool": "default", "volume": "data.raw", "bus": "scsi", "format": "raw",
         "readonly": True},
        {"name": "iso", "device": "cdrom", "path": "/srv/iso/install.iso", "boot_order": 2},
        {"name": "empty", "device": "cdrom", "bus": "scsi"},
    ],
    "interfaces": [
        {"name": "nic0", "type": "network", "source": "default", "model": "e1000e", "mac": "52:54:00:AA:BB:CC"},
        {"name": "nic1", "type": "bridge", "source": "br0"},
        {"name": "nic2"},
    ],
    "video": "virtio",
    "serial": {"type": "file", "path": "/var/log/vm.log"},
    "rng": True,
    "watchdog": {"model": "ib700", "action": "poweroff"},
}


def test_every_field_accepted():
    spec = parse_options(copy.deepcopy(FULL))
    assert spec.name == "web-01.example_a+b"
    assert spec.domain_type == "kvm"
    assert spec.machine == "pc-q35-7.2"
    assert spec.firmware == m.Firmware("efi", True)
    assert spec.kernel_boot == m.KernelBoot("/boot/vmlinuz", "/boot/initrd.img", "console=ttyS0 quiet")
    assert spec.cpu == m.Cpu(2, 4, 2, "Skylake-Client", [m.CpuFeature("vmx", "disable"), m.CpuFeature("pcid", "require")])
    assert spec.cpu.vcpus == 16
    assert spec.memory.guest == 1536 * MIB
    assert spec.resources == m.Resources(requests_cpu=500, requests_memory=GIB, limits_cpu=2000, limits_memory=2 * GIB)
    assert spec.disks == [
        m.Disk("root", "disk", "virtio", "/var/lib/libvirt/images/root.qcow2", None, None, 10 * GIB, "qcow2", 1, False),
        m.Disk("data", "disk", "scsi", None, "default", "data.raw", None, "raw", None, True),
        m.Disk("iso", "cdrom", "sata", "/srv/iso/install.iso", None, None, None, "raw", 2, True),
        m.Disk("empty", "cdrom", "scsi", None, None, None, None, "raw", None, True),
    ]
    assert spec.interfaces == [
        m.Interface("nic0", "network", "default", "e1000e", "52:54:00:aa:bb:cc"),
        m.Interface("nic1", "bridge", "br0", "virtio", None),
        m.Interface("nic2", "user", None, "virtio", None),
    ]
    assert spec.video == "virtio"
    assert spec.serial == m.Serial("file", "/var/log/vm.log")
    assert spec.rng is True
    assert spec.watchdog == m.Watchdog("ib700", "poweroff")


def test_full_export():
    out = to_options(parse_options(copy.deepcopy(FULL)))
    assert out["memory"] == {"guest": "1536Mi"}
    assert out["resources"] == {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}}
    assert out["disks"][0] == {"name": "root", "device": "disk", "bus": "virtio",
                               "path": "/var/lib/libvirt/images/root.qcow2", "size": "10Gi", "format": "qcow2",
                               "boot_order": 1}
    assert out["disks"][1]["readonly"] is True
    assert "readonly" not in out["disks"][2]  # cdroms are always read-only: not spelled out
    assert out["interfaces"][0]["mac"] == "52:54:00:aa:bb:cc"
    assert out["interfaces"][2] == {"name": "nic2", "type": "user", "model": "virtio"}
    assert out["kernel_boot"] == FULL["kernel_boot"]
    assert out["watchdog"] == {"model": "ib700", "action": "poweroff"}
    assert out["serial"] == {"type": "file", "path": "/var/log/vm.log"}
    assert out["cpu"]["features"] == [{"name": "vmx", "policy": "disable"}, {"name": "pcid", "policy": "require"}]


def test_cdrom_defaults():
    disk = parse_options({"name": "v", "disks": [{"name": "cd", "device": "cdrom"}]}).disks[0]
    assert (disk.bus, disk.readonly, disk.format, disk.path, disk.size) == ("sata", True, "raw", None, None)


def test_cdrom_readonly_false_is_forced_true():
    disk = parse_options({"name": "v", "disks": [{"name": "cd", "device": "cdrom", "readonly": False}]}).disks[0]
    assert disk.readonly is True


def test_cdrom_explicit_format_kept():
    disk = parse_options({"name": "v", "disks": [{"name": "cd", "device": "cdrom", "path": "/a.qcow2",
                                                  "format": "qcow2", "bus": "scsi"}]}).disks[0]
    assert (disk.bus, disk.format) == ("scsi", "qcow2")


def test_disk_defaults():
    disk = parse_options({"name": "v", "disks": [{"name": "root", "path": "/img"}]}).disks[0]
    assert disk == m.Disk(name="root", device="disk", bus="virtio", path="/img", format=None, readonly=False)


def test_sized_disk_format_is_left_to_the_plan():
    # An existing image given with size keeps its detected format; only a created one becomes qcow2 (plan/).
    disk = parse_options({"name": "v", "disks": [{"name": "root", "path": "/img", "size": "1Gi"}]}).disks[0]
    assert (disk.size, disk.format) == (GIB, None)


def test_feature_policy_default_require():
    spec = parse_options({"name": "v", "cpu": {"features": [{"name": "vmx"}]}})
    assert spec.cpu.features == [m.CpuFeature("vmx", "require")]


def test_watchdog_empty_mapping_takes_defaults():
    assert parse_options({"name": "v", "watchdog": {}}).watchdog == m.Watchdog("i6300esb", "reset")


@pytest.mark.parametrize("value, expected", [(True, True), ("yes", True), ("on", True), ("true", True),
                                             ("True", True), (False, False), ("no", False), ("off", False)])
def test_booleans(value, expected):
    assert parse_options({"name": "v", "rng": value}).rng is expected


def test_integer_strings_accepted():
    spec = parse_options({"name": "v", "cpu": {"sockets": "2", "cores": " 3 "}})
    assert (spec.cpu.sockets, spec.cpu.cores) == (2, 3)


@pytest.mark.parametrize("guest, count", [("512Mi", 512 * MIB), ("1Gi", GIB), ("1.5Gi", 1536 * MIB),
                                          (str(64 * MIB), 64 * MIB), (64 * MIB, 64 * MIB), ("65536Ki", 64 * MIB),
                                          ("16Mi", 16 * MIB), ("4194304e1", 40 * MIB), ("0.0625Gi", 64 * MIB)])
def test_memory_spellings(guest, count):
    assert parse_options({"name": "v", "memory": {"guest": guest}}).memory.guest == count


def test_cpu_max_topology_accepted():
    spec = parse_options({"name": "v", "cpu": {"sockets": 16, "cores": 16, "threads": 16}})
    assert spec.cpu.vcpus == 4096


def test_secure_boot_on_versioned_q35():
    spec = parse_options({"name": "v", "machine": "pc-q35-8.0", "firmware": {"type": "efi", "secure_boot": True}})
    assert spec.firmware.secure_boot is True


def test_requests_equal_limits_ok():
    spec = parse_options({"name": "v", "memory": {"guest": "1Gi"},
                          "resources": {"requests": {"cpu": 1, "memory": "1Gi"}, "limits": {"cpu": "1000m",
                                                                                            "memory": "1Gi"}}})
    assert spec.resources == m.Resources(1000, GIB, 1000, GIB)


def test_mac_lowercased_and_duplicates_case_insensitive():
    spec = parse_options({"name": "v", "interfaces": [{"name": "a", "mac": "02:AB:CD:EF:01:23"}]})
    assert spec.interfaces[0].mac == "02:ab:cd:ef:01:23"


def test_input_not_mutated():
    opts = copy.deepcopy(FULL)
    parse_options(opts)
    assert opts == FULL


@pytest.mark.parametrize("opts", [
    {"name": "a"},
    FULL,
    {"name": "b", "disks": [{"name": "cd", "device": "cdrom"}], "serial": {"type": "none"}, "video": "none"},
    {"name": "c", "resources": {"limits": {"cpu": "10m"}}},
    {"name": "d", "resources": {"requests": {"memory": "1Mi"}}},
    {"name": "e", "kernel_boot": {"kernel": "/k"}},
    {"name": "f", "firmware": {"type": "efi"}, "machine": "pc"},
])
def test_round_trip_examples(opts):
    spec = parse_options(copy.deepcopy(opts))
    exported = to_options(spec)
    assert parse_options(exported) == spec
    assert to_options(parse_options(exported)) == exported


@given(vm_strategies.valid_options())
@settings(max_examples=300, deadline=None)
def test_round_trip_generated(opts):
    spec = parse_options(copy.deepcopy(opts))
    assert spec.name == opts["name"]
    assert len(spec.disks) == len(opts.get("disks", []))
    assert [i.name for i in spec.interfaces] == [i["name"] for i in opts.get("interfaces", [])]
    exported = to_options(spec)
    again = parse_options(copy.deepcopy(exported))
    assert again == spec
    assert to_options(again) == exported


@given(vm_strategies.valid_options())
@settings(max_examples=100, deadline=None)
def test_generated_values_as_expected(opts):
    """Spot-check that generated values land where they belong (the strategy is not vacuous)."""
    spec = parse_options(copy.deepcopy(opts))
    cpu = opts.get("cpu", {})
    assert spec.cpu.vcpus == cpu.get("sockets", 1) * cpu.get("cores", 1) * cpu.get("threads", 1)
    assert spec.cpu.model == cpu.get("model")
    assert spec.memory.guest % MIB == 0
    for d, o in zip(spec.disks, opts.get("disks", [])):
        assert d.name == o["name"]
        assert d.boot_order == o.get("boot_order")
        if d.device == "cdrom":
            assert d.readonly is True and d.bus in ("sata", "scsi")
    for n, o in zip(spec.interfaces, opts.get("interfaces", [])):
        assert n.mac == (o["mac"].lower() if "mac" in o else None)
        assert n.type == o.get("type", "user")
