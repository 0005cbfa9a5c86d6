# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible_collections.kvcompute.libvirt.plugins.module_utils.host import firmware
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.firmware import FirmwareError, pick
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.hostfs import HostFS

USR = "/usr/share/qemu/firmware"
ETC = "/etc/qemu/firmware"


def descriptor(code, vars_template, machines, features, arch="x86_64", description="", interfaces=("uefi",)):
    return {
        "description": description or code,
        "interface-types": list(interfaces),
        "mapping": {
            "device": "flash",
            "executable": {"filename": code, "format": "raw"},
            "nvram-template": {"filename": vars_template, "format": "raw"},
        },
        "targets": [{"architecture": arch, "machines": list(machines)}],
        "features": list(features),
        "tags": [],
    }


# The three descriptors Debian 12's ovmf package installs (the test bed's).
DEBIAN = {
    "40-edk2-x86_64-secure-enrolled.json": descriptor(
        "/usr/share/OVMF/OVMF_CODE_4M.ms.fd", "/usr/share/OVMF/OVMF_VARS_4M.ms.fd", ["pc-q35-*"],
        ["acpi-s3", "amd-sev", "enrolled-keys", "requires-smm", "secure-boot", "verbose-dynamic"]),
    "50-edk2-x86_64-secure.json": descriptor(
        "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd", ["pc-q35-*"],
        ["acpi-s3", "amd-sev", "requires-smm", "secure-boot", "verbose-dynamic"]),
    "60-edk2-x86_64.json": descriptor(
        "/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd", ["pc-i440fx-*", "pc-q35-*"],
        ["acpi-s3", "amd-sev", "verbose-dynamic"]),
}


def put(root, directory, name, content):
    d = os.path.join(str(root), directory.lstrip("/"))
    if not os.path.isdir(d):
        os.makedirs(d)
    with open(os.path.join(d, name), "w") as f:
        f.write(content if isinstance(content, str) else json.dumps(content))


@pytest.fixture
def debian(tmp_path):
    for name, content in DEBIAN.items():
        put(tmp_path, USR, name, content)
    return tmp_path


def load(root):
    return firmware.load_descriptors(HostFS(str(root)))


def test_load_in_priority_order(debian):
    descs = load(debian)
    assert [d["name"] for d in descs] == sorted(DEBIAN)
    plain = descs[2]
    assert plain["path"] == USR + "/60-edk2-x86_64.json"
    assert plain["code"] == "/usr/share/OVMF/OVMF_CODE_4M.fd"
    assert plain["vars_template"] == "/usr/share/OVMF/OVMF_VARS_4M.fd"
    assert plain["format"] == "raw"
    assert plain["interfaces"] == ["uefi"]
    assert plain["targets"] == [{"arch": "x86_64", "machines": ["pc-i440fx-*", "pc-q35-*"]}]


def test_etc_overrides_same_name_and_empty_file_masks(debian):
    put(debian, ETC, "60-edk2-x86_64.json",
        descriptor("/opt/ovmf/CODE.fd", "/opt/ovmf/VARS.fd", ["pc-q35-*"], ["acpi-s3"]))
    put(debian, ETC, "40-edk2-x86_64-secure-enrolled.json", "")
    put(debian, ETC, "10-local.json",
        descriptor("/opt/local/CODE.fd", "/opt/local/VARS.fd", ["pc-q35-*"], ["secure-boot", "enrolled-keys"]))
    descs = load(debian)
    assert [d["path"] for d in descs] == [
        ETC + "/10-local.json",
        USR + "/50-edk2-x86_64-secure.json",
        ETC + "/60-edk2-x86_64.json",
    ]
    assert descs[2]["code"] == "/opt/ovmf/CODE.fd"
    # The lower numeric prefix wins among equals.
    assert pick(descs, "x86_64", "q35", secure_boot=True)["code"] == "/opt/local/CODE.fd"


def test_broken_and_foreign_files_are_skipped(debian):
    put(debian, USR, "30-broken.json", "{not json")
    put(debian, USR, "README", "not a descriptor")
    assert [d["name"] for d in load(debian)] == sorted(DEBIAN)


def test_no_descriptor_directories(tmp_path):
    assert load(tmp_path) == []
    with pytest.raises(FirmwareError) as err:
        pick([], "x86_64", "q35", secure_boot=False)
    assert "firmware.type" in str(err.value)
    assert "none (no files in /usr/share/qemu/firmware, /etc/qemu/firmware)" in str(err.value)


def test_secure_boot_prefers_enrolled_keys(debian):
    got = pick(load(debian), "x86_64", "pc-q35-7.2", secure_boot=True)
    assert got == {
        "code": "/usr/share/OVMF/OVMF_CODE_4M.ms.fd",
        "vars_template": "/usr/share/OVMF/OVMF_VARS_4M.ms.fd",
        "format": "raw",
        "secure_boot": True,
        "enrolled_keys": True,
        "requires_smm": True,
        "description": "/usr/share/OVMF/OVMF_CODE_4M.ms.fd",
        "path": USR + "/40-edk2-x86_64-secure-enrolled.json",
    }


def test_secure_boot_prefers_enrolled_keys_even_at_lower_priority(tmp_path):
    put(tmp_path, USR, "10-sb-empty.json",
        descriptor("/fw/sb-empty.fd", "/fw/vars-empty.fd", ["pc-q35-*"], ["secure-boot", "requires-smm"]))
    put(tmp_path, USR, "20-sb-keys.json",
        descriptor("/fw/sb-keys.fd", "/fw/vars-keys.fd", ["pc-q35-*"], ["secure-boot", "enrolled-keys", "requires-smm"]))
    assert pick(load(tmp_path), "x86_64", "q35", secure_boot=True)["code"] == "/fw/sb-keys.fd"


def test_without_secure_boot_picks_plain_firmware(debian):
    got = pick(load(debian), "x86_64", "q35", secure_boot=False)
    assert got["code"] == "/usr/share/OVMF/OVMF_CODE_4M.fd"
    assert got["vars_template"] == "/usr/share/OVMF/OVMF_VARS_4M.fd"
    assert (got["secure_boot"], got["enrolled_keys"], got["requires_smm"]) == (False, False, False)
    assert got["path"] == USR + "/60-edk2-x86_64.json"


def test_without_secure_boot_avoids_smm_when_possible(tmp_path):
    put(tmp_path, USR, "10-smm.json", descriptor("/fw/smm.fd", "/fw/v.fd", ["pc-q35-*"], ["requires-smm"]))
    put(tmp_path, USR, "20-nosmm.json", descriptor("/fw/nosmm.fd", "/fw/v.fd", ["pc-q35-*"], []))
    assert pick(load(tmp_path), "x86_64", "q35", secure_boot=False)["code"] == "/fw/nosmm.fd"
    os.remove(str(tmp_path / "usr/share/qemu/firmware/20-nosmm.json"))
    got = pick(load(tmp_path), "x86_64", "q35", secure_boot=False)
    assert (got["code"], got["requires_smm"]) == ("/fw/smm.fd", True)


@pytest.mark.parametrize("machine, code", [
    ("q35", "/usr/share/OVMF/OVMF_CODE_4M.ms.fd"),
    ("pc-q35-7.2", "/usr/share/OVMF/OVMF_CODE_4M.ms.fd"),
    ("pc", "/usr/share/OVMF/OVMF_CODE_4M.fd"),
    ("pc-i440fx-7.2", "/usr/share/OVMF/OVMF_CODE_4M.fd"),
])
def test_machine_alias_matching(debian, machine, code):
    assert pick(load(debian), "x86_64", machine, secure_boot=None)["code"] == code


def test_alias_resolved_through_capabilities_map(tmp_path):
    put(tmp_path, USR, "10-new.json", descriptor("/fw/new.fd", "/fw/v.fd", ["pc-q35-8.*"], []))
    put(tmp_path, USR, "20-old.json", descriptor("/fw/old.fd", "/fw/v.fd", ["pc-q35-7.*"], []))
    descs = load(tmp_path)
    assert pick(descs, "x86_64", "q35", False, aliases={"q35": "pc-q35-7.2"})["code"] == "/fw/old.fd"
    assert pick(descs, "x86_64", "pc-q35-8.1", False)["code"] == "/fw/new.fd"


def test_machine_matches():
    assert firmware.machine_matches(["pc-q35-*"], "q35")
    assert firmware.machine_matches(["*"], "pc")
    assert not firmware.machine_matches(["pc-q35-*"], "pc")
    assert not firmware.machine_matches(["pc-i440fx-*"], "q35")
    assert not firmware.machine_matches(["virt-*"], "pc-q35-7.2")


def test_secure_boot_on_i440fx_names_the_option_and_lists_descriptors(debian):
    with pytest.raises(FirmwareError) as err:
        pick(load(debian), "x86_64", "pc-i440fx-7.2", secure_boot=True)
    msg = str(err.value)
    assert isinstance(err.value, ValueError)
    assert msg.startswith("firmware.secure_boot: this host has no uefi firmware with secure boot "
                          "for x86_64 machine pc-i440fx-7.2; descriptors available: ")
    for name in DEBIAN:
        assert USR + "/" + name in msg
    assert "features: acpi-s3,amd-sev,enrolled-keys,requires-smm,secure-boot,verbose-dynamic" in msg


def test_other_arch_or_interface_names_firmware_type(debian):
    with pytest.raises(FirmwareError) as err:
        pick(load(debian), "aarch64", "virt", secure_boot=False)
    assert str(err.value).startswith("firmware.type: this host has no uefi firmware without secure boot "
                                     "for aarch64 machine virt")
    with pytest.raises(FirmwareError) as err:
        pick(load(debian), "x86_64", "q35", secure_boot=None, interface="bios")
    assert str(err.value).startswith("firmware.type: this host has no bios firmware for x86_64 machine q35")


def test_i686_uses_qemu_arch_name(tmp_path):
    put(tmp_path, USR, "60-ia32.json", descriptor("/fw/ia32.fd", "/fw/v.fd", ["pc-q35-*"], [], arch="i386"))
    assert pick(load(tmp_path), "i686", "q35", secure_boot=False)["code"] == "/fw/ia32.fd"


def test_memory_mapped_descriptor(tmp_path):
    put(tmp_path, USR, "70-sev.json", {
        "description": "SEV", "interface-types": ["uefi"],
        "mapping": {"device": "memory", "filename": "/fw/OVMF.amdsev.fd"},
        "targets": [{"architecture": "x86_64", "machines": ["pc-q35-*"]}],
        "features": ["amd-sev"]})
    got = pick(load(tmp_path), "x86_64", "q35", secure_boot=False)
    assert (got["code"], got["vars_template"]) == ("/fw/OVMF.amdsev.fd", None)


def test_summarise(debian):
    summary = firmware.summarise(load(debian))
    assert [s["code"] for s in summary] == [
        "/usr/share/OVMF/OVMF_CODE_4M.ms.fd",
        "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd",
        "/usr/share/OVMF/OVMF_CODE_4M.fd",
    ]
    assert summary[0]["features"][2] == "enrolled-keys"
    assert set(summary[0]) == {"path", "description", "interfaces", "code", "vars_template", "format",
                               "targets", "features"}
