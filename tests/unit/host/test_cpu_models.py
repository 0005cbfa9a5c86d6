# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.cpu_models import (
    check_cpu_model,
    parse_domain_capabilities,
    supported_modes,
    usable_models,
)

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as f:
        return f.read()


@pytest.fixture(scope="module")
def kvm():
    return parse_domain_capabilities(fixture("domcaps_kvm_q35.xml"))


@pytest.fixture(scope="module")
def tcg():
    return parse_domain_capabilities(fixture("domcaps_qemu_pc.xml"))


# A newer libvirt's shape: deprecated models, no usable attribute, SMM shown.
NEWER = """<domainCapabilities>
  <path>/usr/bin/qemu-system-x86_64</path><domain>kvm</domain><machine>pc-q35-9.0</machine><arch>x86_64</arch>
  <vcpu max='4096'/>
  <os supported='yes'><loader supported='yes'><value>/usr/share/edk2/ovmf/OVMF_CODE.secboot.fd</value>
    <enum name='secure'><value>yes</value><value>no</value></enum></loader></os>
  <cpu>
    <mode name='host-passthrough' supported='yes'/>
    <mode name='maximum' supported='no'/>
    <mode name='host-model' supported='no'/>
    <mode name='custom' supported='yes'>
      <model usable='yes' vendor='Intel' canonical='Skylake-Client-v1'>Skylake-Client</model>
      <model usable='yes' vendor='AMD' deprecated='yes'>Opteron_G1</model>
      <model vendor='Intel'>Haswell</model>
    </mode>
  </cpu>
  <features><smm supported='yes'/></features>
</domainCapabilities>"""


def test_parse_kvm_q35(kvm):
    assert kvm["domain_type"] == "kvm"
    assert kvm["machine"] == "pc-q35-7.2"
    assert kvm["arch"] == "x86_64"
    assert kvm["emulator"] == "/usr/bin/qemu-system-x86_64"
    assert kvm["max_vcpus"] == 288
    assert kvm["cpu_modes"] == {"host-passthrough": True, "maximum": True, "host-model": True, "custom": True}
    assert kvm["host_model"] == {"name": "EPYC-Milan", "vendor": "AMD", "fallback": "forbid"}
    assert len(kvm["models"]) == 53
    assert {"name": "Skylake-Client", "usable": "no", "vendor": "Intel", "deprecated": False} in kvm["models"]
    assert sorted(usable_models(kvm)) == ["486", "pentium", "pentium2", "pentium3"]


def test_parse_firmware_loaders(kvm, tcg):
    fw = kvm["firmware"]
    assert fw["supported"] == ["efi"]
    assert fw["loader_supported"] is True
    # In libvirt's (descriptor priority) order.
    assert fw["loaders"] == [
        "/usr/share/OVMF/OVMF_CODE_4M.ms.fd",
        "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd",
        "/usr/share/OVMF/OVMF_CODE_4M.fd",
    ]
    assert fw["loader_types"] == ["rom", "pflash"]
    assert fw["secure"] == ["yes", "no"]
    assert fw["secure_boot_possible"] is True
    # i440fx cannot do secure boot: libvirt offers only the plain loader there.
    assert tcg["firmware"]["secure_boot_possible"] is False
    assert tcg["firmware"]["loaders"] == ["/usr/share/OVMF/OVMF_CODE_4M.fd"]
    assert kvm["smm"] is None  # libvirt 9.0 does not report it


def test_parse_tcg(tcg):
    assert tcg["domain_type"] == "qemu"
    assert tcg["machine"] == "pc-i440fx-7.2"
    assert tcg["max_vcpus"] == 255
    assert supported_modes(tcg) == ["maximum", "host-model", "custom"]
    assert tcg["host_model"]["name"] == "EPYC"


def test_parse_newer_libvirt():
    caps = parse_domain_capabilities(NEWER)
    assert caps["smm"] is True
    assert caps["host_model"] is None
    assert caps["max_vcpus"] == 4096
    by_name = dict((m["name"], m) for m in caps["models"])
    assert by_name["Opteron_G1"]["deprecated"] is True
    assert by_name["Haswell"]["usable"] == "unknown"
    assert sorted(usable_models(caps)) == ["Haswell", "Opteron_G1", "Skylake-Client"]


@pytest.mark.parametrize("model", ["host-passthrough", "host-model", "maximum", "pentium3", "486"])
def test_check_accepts_on_kvm(kvm, model):
    assert check_cpu_model(kvm, model) is None


def test_check_accepts_xml_string():
    assert check_cpu_model(fixture("domcaps_kvm_q35.xml"), "pentium") is None
    assert "not usable" in check_cpu_model(fixture("domcaps_kvm_q35.xml"), "Haswell")


def test_check_unknown_model_suggests_close_names(kvm):
    msg = check_cpu_model(kvm, "Skylake")
    assert msg.startswith("cpu.model: 'Skylake' is not a CPU model this host knows for domain type kvm")
    assert "closest: " in msg
    closest = msg.split("closest: ", 1)[1].split(", ")
    assert 1 <= len(closest) <= 4
    assert all(name.startswith("Skylake-") for name in closest)


def test_check_unknown_model_case_insensitive_hint(kvm):
    msg = check_cpu_model(kvm, "epyc-milan")
    assert "'epyc-milan' is not a CPU model" in msg
    assert "closest: EPYC-Milan" in msg


def test_check_unknown_model_without_anything_close(kvm):
    msg = check_cpu_model(kvm, "zzzzzzzzzzzzzzzzzzzz")
    assert msg == "cpu.model: 'zzzzzzzzzzzzzzzzzzzz' is not a CPU model this host knows for domain type kvm"


def test_check_unusable_model(kvm, tcg):
    msg = check_cpu_model(kvm, "EPYC-Milan")
    assert msg.startswith("cpu.model: 'EPYC-Milan' is not usable on this host for domain type kvm")
    assert msg.endswith("or host-model")
    # TCG emulates older models that KVM on this AMD host cannot offer.
    assert "not usable" in check_cpu_model(kvm, "Penryn")
    assert check_cpu_model(tcg, "Penryn") is None
    assert "domain type qemu" in check_cpu_model(tcg, "EPYC-Milan")


def test_check_mode_not_supported(tcg):
    msg = check_cpu_model(tcg, "host-passthrough")
    assert msg == ("cpu.model: host-passthrough is not supported by this host for domain type qemu "
                   "(supported modes: maximum, host-model, custom)")


def test_check_mode_not_supported_newer():
    caps = parse_domain_capabilities(NEWER)
    assert "cpu.model: maximum is not supported" in check_cpu_model(caps, "maximum")
    assert check_cpu_model(caps, "host-passthrough") is None
    assert check_cpu_model(caps, "Haswell") is None  # usable unknown: libvirt decides at start


def test_check_custom_mode_unsupported():
    xml = NEWER.replace("<mode name='custom' supported='yes'>", "<mode name='custom' supported='no'>")
    msg = check_cpu_model(parse_domain_capabilities(xml), "Haswell")
    assert msg == "cpu.model: named CPU models are not supported by this host for domain type kvm"
