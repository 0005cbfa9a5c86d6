# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible_collections.kvcompute.libvirt.plugins.module_utils.plan.hardware import (
    Existing,
    HardwarePlan,
    machine_matches,
    resolve,
    stable_mac,
)
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.errors import SpecError
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.options import parse_options

GIB = 2 ** 30
LOADER = {"code": "/usr/share/OVMF/OVMF_CODE_4M.fd", "vars_template": "/usr/share/OVMF/OVMF_VARS_4M.fd"}
LOADER_SB = {"code": "/usr/share/OVMF/OVMF_CODE_4M.ms.fd", "vars_template": "/usr/share/OVMF/OVMF_VARS_4M.ms.fd"}


def host(kvm=True, **kw):
    out = {
        "arch": "x86_64",
        "kvm_usable": kvm,
        "machines": {"kvm": ["pc", "q35", "pc-q35-7.2", "pc-i440fx-7.2"],
                     "qemu": ["pc", "q35", "pc-q35-7.2", "pc-i440fx-7.2", "microvm"]},
        "max_vcpus": {"kvm": 255, "qemu": 288},
    }
    out.update(kw)
    return out


class FirmwarePicker:
    def __init__(self, error=None):
        self.calls = []
        self.error = error

    def __call__(self, arch, machine, secure_boot):
        self.calls.append((arch, machine, secure_boot))
        if self.error:
            raise ValueError(self.error)
        return dict(LOADER_SB if secure_boot else LOADER)


class ModelChecker:
    def __init__(self, bad=()):
        self.calls = []
        self.bad = bad

    def __call__(self, dtype, model):
        self.calls.append((dtype, model))
        if model in self.bad:
            return "%s is not usable on this host" % model
        return None


def spec(**kw):
    opts = {"name": "vm1"}
    opts.update(kw)
    return parse_options(opts)


def run(opts=None, host_=None, probe=None, existing=None, picker=None, checker=None):
    return resolve(spec(**(opts or {})), host_ or host(), probe or {}, existing,
                   pick_firmware=picker or FirmwarePicker(), check_cpu_model=checker)


def problems(**kw):
    with pytest.raises(SpecError) as info:
        run(**kw)
    return dict(info.value.problems)


# --- domain type -----------------------------------------------------------------

@pytest.mark.parametrize("kvm, expected", [(True, "kvm"), (False, "qemu")])
def test_auto_domain_type(kvm, expected):
    resolved, plan = run(host_=host(kvm=kvm))
    assert resolved.domain_type == expected
    assert isinstance(plan, HardwarePlan)
    assert plan.arch == "x86_64"


def test_explicit_qemu_on_kvm_host_kept():
    assert run({"domain_type": "qemu"})[0].domain_type == "qemu"


def test_kvm_unusable_error():
    errs = problems(opts={"domain_type": "kvm"}, host_=host(kvm=False))
    assert list(errs) == ["domain_type"]
    assert "kvm is not usable on this host" in errs["domain_type"]


def test_resolve_does_not_mutate_input():
    original = spec(disks=[{"name": "root", "path": "/img"}], interfaces=[{"name": "n"}])
    before = copy.deepcopy(original)
    resolve(original, host(), {"files": {"/img": "qcow2"}}, pick_firmware=FirmwarePicker())
    assert original == before
    assert original.domain_type == "auto" and original.interfaces[0].mac is None


def test_arch_from_host():
    assert run(host_=host(arch="aarch64"))[1].arch == "aarch64"


# --- cpu -------------------------------------------------------------------------

@pytest.mark.parametrize("kvm, dtype, expected", [(True, None, "host-model"), (False, None, "maximum"),
                                                  (True, "qemu", "maximum"), (True, "kvm", "host-model")])
def test_default_cpu_model(kvm, dtype, expected):
    opts = {"domain_type": dtype} if dtype else {}
    assert run(opts, host_=host(kvm=kvm))[0].cpu.model == expected


def test_explicit_cpu_model_kept():
    assert run({"cpu": {"model": "Skylake-Client"}})[0].cpu.model == "Skylake-Client"


def test_host_passthrough_with_qemu_error():
    errs = problems(opts={"domain_type": "qemu", "cpu": {"model": "host-passthrough"}})
    assert "host-passthrough needs domain_type kvm" in errs["cpu.model"]


def test_host_passthrough_with_auto_on_tcg_host_error():
    errs = problems(opts={"cpu": {"model": "host-passthrough"}}, host_=host(kvm=False))
    assert "cpu.model" in errs


def test_host_passthrough_on_kvm_ok():
    assert run({"cpu": {"model": "host-passthrough"}})[0].cpu.model == "host-passthrough"


def test_check_cpu_model_called_with_resolved_values():
    checker = ModelChecker()
    run({"cpu": {"model": "EPYC"}}, host_=host(kvm=False), checker=checker)
    assert checker.calls == [("qemu", "EPYC")]
    checker = ModelChecker()
    run({}, checker=checker)
    assert checker.calls == [("kvm", "host-model")]


def test_check_cpu_model_message_reported():
    errs = problems(opts={"cpu": {"model": "Haswell"}}, checker=ModelChecker(bad=("Haswell",)))
    assert errs == {"cpu.model": "Haswell is not usable on this host"}


@pytest.mark.parametrize("kvm, topology, limit", [(True, (16, 16, 1), 255), (False, (17, 17, 1), 288)])
def test_vcpu_max_error(kvm, topology, limit):
    s, c, t = topology
    errs = problems(opts={"cpu": {"sockets": s, "cores": c, "threads": t}}, host_=host(kvm=kvm))
    assert "this host allows at most %d" % limit in errs["cpu"]
    assert "%d vCPUs" % (s * c * t) in errs["cpu"]


def test_vcpu_at_max_ok():
    assert run({"cpu": {"sockets": 255}})[0].cpu.vcpus == 255
    assert run({"cpu": {"sockets": 288}, "domain_type": "qemu"})[0].cpu.vcpus == 288


# --- machine ---------------------------------------------------------------------

@pytest.mark.parametrize("wanted, actual, expected", [
    ("q35", "pc-q35-7.2", True), ("q35", "q35", True), ("pc", "pc-i440fx-7.2", True), ("q35", "pc-i440fx-7.2", False),
    ("pc", "pc-q35-7.2", False), ("pc-q35-7.2", "pc-q35-8.0", False), ("pc-q35-7.2", "pc-q35-7.2", True),
    ("q35", None, False),
])
def test_machine_matches(wanted, actual, expected):
    assert machine_matches(wanted, actual) is expected


def test_machine_pinned_to_existing_version():
    resolved, _plan = run(existing=Existing(machine="pc-q35-7.2"))
    assert resolved.machine == "pc-q35-7.2"


def test_machine_pinned_even_when_host_no_longer_offers_it():
    resolved, _plan = run(existing=Existing(machine="pc-q35-6.0"))
    assert resolved.machine == "pc-q35-6.0"


def test_machine_family_change_not_pinned():
    resolved, _plan = run({"machine": "pc"}, existing=Existing(machine="pc-q35-7.2"))
    assert resolved.machine == "pc"


def test_machine_without_existing_stays_alias():
    assert run()[0].machine == "q35"
    assert run({"machine": "pc-i440fx-7.2"})[0].machine == "pc-i440fx-7.2"


def test_unknown_machine_error():
    errs = problems(opts={"machine": "virt"})
    assert "'virt' is not offered by this host for kvm domains" in errs["machine"]
    assert "offered: pc, q35" in errs["machine"]


def test_unknown_machine_qemu_lists_families():
    errs = problems(opts={"machine": "pc-q35-1.0", "domain_type": "qemu"})
    assert "offered: microvm, pc, q35" in errs["machine"]


def test_machine_not_checked_without_host_list():
    assert run({"machine": "anything"}, host_=host(machines={}))[0].machine == "anything"


# --- firmware --------------------------------------------------------------------

def test_bios_has_no_loader():
    picker = FirmwarePicker()
    resolved, plan = run(picker=picker)
    assert plan.loader is None and plan.nvram is None
    assert picker.calls == []


def test_efi_loader_picked_and_nvram_path():
    picker = FirmwarePicker()
    resolved, plan = run({"firmware": {"type": "efi"}}, picker=picker)
    assert picker.calls == [("x86_64", "q35", False)]
    assert plan.loader == LOADER
    assert plan.nvram == "/var/lib/libvirt/qemu/nvram/vm1_VARS.fd"


def test_secure_boot_picker_gets_pinned_machine():
    picker = FirmwarePicker()
    _r, plan = run({"firmware": {"type": "efi", "secure_boot": True}}, picker=picker,
                   existing=Existing(machine="pc-q35-7.2"))
    assert picker.calls == [("x86_64", "pc-q35-7.2", True)]
    assert plan.loader == LOADER_SB


def test_efi_loader_kept_from_existing():
    kept = {"code": "/old/CODE.fd", "vars_template": "/old/VARS.fd"}
    picker = FirmwarePicker()
    _r, plan = run({"firmware": {"type": "efi"}}, picker=picker,
                   existing=Existing(loader=kept, nvram="/nv/custom_VARS.fd", secure_boot=False))
    assert plan.loader == kept
    assert plan.nvram == "/nv/custom_VARS.fd"
    assert picker.calls == []


def test_efi_loader_repicked_when_secure_boot_changes():
    kept = {"code": "/old/CODE.fd", "vars_template": "/old/VARS.fd"}
    picker = FirmwarePicker()
    _r, plan = run({"firmware": {"type": "efi", "secure_boot": True}}, picker=picker,
                   existing=Existing(loader=kept, nvram="/nv/x_VARS.fd", secure_boot=False))
    assert plan.loader == LOADER_SB
    assert plan.nvram == "/nv/x_VARS.fd"
    assert picker.calls == [("x86_64", "q35", True)]


def test_firmware_pick_error():
    errs = problems(opts={"firmware": {"type": "efi"}}, picker=FirmwarePicker(error="no UEFI build for pc"))
    assert errs == {"firmware": "no UEFI build for pc"}


@pytest.mark.parametrize("fw, video, expected", [("bios", "auto", "vga"), ("efi", "auto", "bochs"),
                                                 ("efi", "virtio", "virtio"), ("bios", "none", "none")])
def test_video_auto(fw, video, expected):
    assert run({"firmware": {"type": fw}, "video": video})[0].video == expected


def test_uuid_from_existing():
    assert run(existing=Existing(uuid="1b4e28ba-2fa1-11d2-883f-0016d3cca427"))[1].uuid == \
        "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
    assert run()[1].uuid is None


# --- disks -----------------------------------------------------------------------

def files(*paths, **fmt):
    return {"files": dict((p, fmt.get("fmt", "qcow2")) for p in paths)}


def test_disk_targets_by_bus():
    disks = [{"name": "a", "path": "/a"}, {"name": "b", "path": "/b"}, {"name": "cd", "device": "cdrom"},
             {"name": "s", "path": "/s", "bus": "scsi"}, {"name": "c", "path": "/c"}]
    _r, plan = run({"disks": disks}, probe=files("/a", "/b", "/s", "/c"))
    assert plan.targets == {"a": "vda", "b": "vdb", "cd": "sda", "s": "sdb", "c": "vdc"}


def test_disk_targets_stable_with_existing():
    disks = [{"name": "new", "path": "/n"}, {"name": "root", "path": "/r"}, {"name": "data", "path": "/d"}]
    existing = Existing(targets={"root": "vda", "data": "vdb", "gone": "vdc"})
    _r, plan = run({"disks": disks}, probe=files("/n", "/r", "/d"), existing=existing)
    assert plan.targets == {"root": "vda", "data": "vdb", "new": "vdd"}


def test_disk_target_not_kept_when_bus_changes():
    disks = [{"name": "root", "path": "/r", "bus": "sata"}]
    _r, plan = run({"disks": disks}, probe=files("/r"), existing=Existing(targets={"root": "vda"}))
    assert plan.targets == {"root": "sda"}


def test_disk_targets_past_z():
    disks = [{"name": "d%d" % i, "path": "/d%d" % i} for i in range(28)]
    _r, plan = run({"disks": disks}, probe=files(*["/d%d" % i for i in range(28)]))
    assert plan.targets["d0"] == "vda"
    assert plan.targets["d25"] == "vdz"
    assert plan.targets["d26"] == "vdaa"
    assert plan.targets["d27"] == "vdab"
    assert len(set(plan.targets.values())) == 28


@pytest.mark.parametrize("found", ["qcow2", "raw"])
def test_format_detected_from_probe(found):
    resolved, plan = run({"disks": [{"name": "root", "path": "/img"}]}, probe=files("/img", fmt=found))
    assert resolved.disks[0].format == found
    assert plan.creates == []


def test_explicit_format_wins_over_probe():
    resolved, _p = run({"disks": [{"name": "root", "path": "/img", "format": "raw"}]}, probe=files("/img"))
    assert resolved.disks[0].format == "raw"


def test_format_detected_for_existing_file_given_with_size():
    resolved, plan = run({"disks": [{"name": "root", "path": "/img", "size": "10Gi"}]}, probe=files("/img", fmt="raw"))
    assert plan.creates == []
    assert resolved.disks[0].format == "raw"


def test_missing_file_without_size_error():
    errs = problems(opts={"disks": [{"name": "ok", "path": "/ok"}, {"name": "root", "path": "/missing.img"}]},
                    probe=files("/ok"))
    assert errs == {"disks[1].path": "/missing.img does not exist; give size to create it"}


def test_missing_cdrom_iso_error():
    errs = problems(opts={"disks": [{"name": "cd", "device": "cdrom", "path": "/iso/x.iso"}]}, probe={"files": {}})
    assert errs == {"disks[0].path": "/iso/x.iso does not exist"}


def test_empty_cdrom_needs_nothing():
    resolved, plan = run({"disks": [{"name": "cd", "device": "cdrom"}]})
    assert plan.targets == {"cd": "sda"} and plan.creates == []
    assert resolved.disks[0].format == "raw"


def test_create_planned_with_size():
    resolved, plan = run({"disks": [{"name": "root", "path": "/var/lib/images/root.qcow2", "size": "10Gi"}]},
                         probe={"files": {"/var/lib/images/root.qcow2": None}, "dirs": {"/var/lib/images": True}})
    assert plan.creates == [{"name": "root", "path": "/var/lib/images/root.qcow2", "size": 10 * GIB, "format": "qcow2"}]
    assert resolved.disks[0].format == "qcow2"


def test_create_raw_when_asked():
    _r, plan = run({"disks": [{"name": "root", "path": "/r.img", "size": "1Gi", "format": "raw"}]})
    assert plan.creates[0]["format"] == "raw"


def test_missing_directory_error():
    errs = problems(opts={"disks": [{"name": "root", "path": "/nowhere/root.qcow2", "size": "1Gi"}]},
                    probe={"files": {}, "dirs": {"/nowhere": False}})
    assert errs == {"disks[0].path": "cannot create /nowhere/root.qcow2: its directory does not exist"}


def test_pool_volume_existing():
    resolved, plan = run({"disks": [{"name": "data", "pool": "default", "volume": "data.img"}]},
                         probe={"volumes": {"default/data.img": "/var/lib/libvirt/images/data.img"},
                                "volume_formats": {"default/data.img": "qcow2"}})
    assert plan.creates == []
    assert resolved.disks[0].format == "qcow2"
    assert plan.targets == {"data": "vda"}


def test_pool_volume_format_defaults_raw():
    resolved, _p = run({"disks": [{"name": "data", "pool": "default", "volume": "v"}]},
                       probe={"volumes": {"default/v": "/p/v"}})
    assert resolved.disks[0].format == "raw"


def test_pool_volume_missing_error():
    errs = problems(opts={"disks": [{"name": "data", "pool": "default", "volume": "data.img"}]},
                    probe={"volumes": {"default/data.img": None}})
    assert errs == {"disks[0].volume": "'data.img' does not exist in pool 'default'; give size to create it"}


def test_pool_not_defined_error():
    errs = problems(opts={"disks": [{"name": "data", "pool": "fast", "volume": "data.img"}]}, probe={"volumes": {}})
    assert errs == {"disks[0].pool": "storage pool 'fast' is not defined or not active"}


def test_pool_volume_creating():
    resolved, plan = run({"disks": [{"name": "data", "pool": "default", "volume": "data.qcow2", "size": "2Gi"}]},
                         probe={"volumes": {"default/data.qcow2": None}})
    assert plan.creates == [{"name": "data", "pool": "default", "volume": "data.qcow2", "size": 2 * GIB,
                             "format": "qcow2"}]


# --- interfaces ------------------------------------------------------------------

def test_stable_mac_deterministic():
    mac = stable_mac("vm1", "nic0")
    assert mac == stable_mac("vm1", "nic0")
    assert mac.startswith("52:54:00:")
    assert len(mac.split(":")) == 6 and all(len(o) == 2 for o in mac.split(":"))
    assert mac != stable_mac("vm1", "nic1")
    assert mac != stable_mac("vm2", "nic0")
    assert mac == mac.lower()


def test_stable_mac_value():
    import hashlib
    digest = hashlib.sha256(b"vm1/nic0").digest()
    assert stable_mac("vm1", "nic0") == "52:54:00:%02x:%02x:%02x" % (digest[0], digest[1], digest[2])


def test_mac_generated_kept_and_explicit():
    nics = [{"name": "a"}, {"name": "b"}, {"name": "c", "mac": "02:00:00:00:00:01"}]
    resolved, _p = run({"interfaces": nics}, existing=Existing(macs={"b": "52:54:00:11:22:33", "c": "52:54:00:99:99:99"}))
    assert [n.mac for n in resolved.interfaces] == [stable_mac("vm1", "a"), "52:54:00:11:22:33", "02:00:00:00:00:01"]


def test_unknown_network_error():
    errs = problems(opts={"interfaces": [{"name": "a", "type": "network", "source": "default"},
                                         {"name": "b", "type": "network", "source": "nope"}]},
                    probe={"networks": {"default": True, "nope": False}})
    assert errs == {"interfaces[1].source": "network 'nope' is not defined on this host"}


def test_bridge_not_checked_against_networks():
    resolved, _p = run({"interfaces": [{"name": "a", "type": "bridge", "source": "br0"}]},
                       probe={"networks": {"br0": False}})
    assert resolved.interfaces[0].source == "br0"


def test_all_problems_at_once():
    with pytest.raises(SpecError) as info:
        run({"domain_type": "kvm", "machine": "virt", "cpu": {"model": "host-passthrough", "sockets": 300},
             "firmware": {"type": "efi"},
             "disks": [{"name": "root", "path": "/missing"}],
             "interfaces": [{"name": "n", "type": "network", "source": "nope"}]},
            host_=host(kvm=False), probe={"networks": {"nope": False}}, picker=FirmwarePicker(error="none"))
    assert info.value.fields == ["domain_type", "machine", "cpu", "firmware", "disks[0].path",
                                 "interfaces[0].source"]
