# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible_collections.kvcompute.libvirt.plugins.module_utils.host import facts, topology
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.hostfs import HostFS

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as f:
        return f.read()


@pytest.fixture(scope="module")
def two_node():
    return topology.parse_capabilities(fixture("capabilities_2socket_2numa.xml"))


@pytest.fixture(scope="module")
def this_host():
    return topology.parse_capabilities(fixture("capabilities_1socket.xml"))


def write(root, path, text):
    full = os.path.join(str(root), path.lstrip("/"))
    if not os.path.isdir(os.path.dirname(full)):
        os.makedirs(os.path.dirname(full))
    with open(full, "w") as f:
        f.write(text)


def hugepage_tree(root, base, sizes):
    for size, (total, free) in sizes.items():
        write(root, "%s/hugepages-%skB/nr_hugepages" % (base, size), "%d\n" % total)
        write(root, "%s/hugepages-%skB/free_hugepages" % (base, size), "%d\n" % free)


@pytest.mark.parametrize("text, expected", [
    ("0", [0]),
    ("0-3", [0, 1, 2, 3]),
    ("0,4", [0, 4]),
    ("0-2,8,10-11", [0, 1, 2, 8, 10, 11]),
    ("0-5,^3", [0, 1, 2, 4, 5]),
    ("", []),
])
def test_parse_cpuset(text, expected):
    assert topology.parse_cpuset(text) == expected


def test_to_bytes_units():
    assert topology.to_bytes("4", "KiB") == 4096
    assert topology.to_bytes("2", "GiB") == 2 * 1024 ** 3
    assert topology.to_bytes("1", None) == 1024
    assert topology.page_size_kib("1", "GiB") == 1048576


def test_two_socket_host_cpu(two_node):
    assert two_node["arch"] == "x86_64"
    assert two_node["vendor"] == "Intel"
    assert two_node["model"] == "Skylake-Server-IBRS"
    # <topology sockets='1'> is per cell: the host has two distinct socket ids.
    assert two_node["sockets"] == 2
    assert two_node["cores"] == 2
    assert two_node["threads"] == 2
    assert two_node["count"] == 8


def test_two_socket_host_every_cpu(two_node):
    by_id = dict((c["id"], c) for c in two_node["cpus"])
    assert sorted(by_id) == list(range(8))
    assert by_id[5] == {"id": 5, "cell": 0, "socket": 0, "die": 0, "core": 1, "siblings": [1, 5]}
    assert by_id[6] == {"id": 6, "cell": 1, "socket": 1, "die": 0, "core": 0, "siblings": [2, 6]}
    assert two_node["siblings"] == [[0, 4], [1, 5], [2, 6], [3, 7]]


def test_two_socket_host_numa_cells(two_node):
    cells = two_node["cells"]
    assert [c["id"] for c in cells] == [0, 1]
    assert cells[0]["cpus"] == [0, 1, 4, 5]
    assert cells[1]["cpus"] == [2, 3, 6, 7]
    assert cells[0]["memory_bytes"] == 8 * 1024 ** 3
    assert cells[0]["pages"] == {"4": 1835008, "2048": 512, "1048576": 0}
    assert cells[1]["pages"]["1048576"] == 2
    assert two_node["page_sizes_kib"] == [4, 2048, 1048576]


def test_machine_aliases_per_arch_and_domain_type(two_node):
    guests = two_node["guests"]
    assert sorted(guests) == ["aarch64", "x86_64"]
    assert sorted(guests["x86_64"]) == ["kvm", "qemu"]
    assert guests["aarch64"]["qemu"]["aliases"] == {"virt": "virt-8.2"}
    qemu = guests["x86_64"]["qemu"]
    assert qemu["aliases"] == {"pc": "pc-i440fx-8.2", "q35": "pc-q35-8.2"}
    # Numeric ordering of versions, aliases kept in the name list.
    assert qemu["names"] == ["pc", "pc-i440fx-1.4", "pc-i440fx-8.2", "pc-q35-2.9", "pc-q35-2.10", "pc-q35-8.2", "q35"]
    assert qemu["deprecated"] == ["pc-i440fx-1.4"]
    # Machines under <domain type='kvm'> belong to kvm only.
    assert "pc-q35-8.2-kvm-only" in guests["x86_64"]["kvm"]["names"]
    assert "pc-q35-8.2-kvm-only" not in qemu["names"]


def test_canonical_machine(two_node):
    guests = two_node["guests"]
    assert topology.canonical_machine(guests, "x86_64", "kvm", "q35") == "pc-q35-8.2"
    assert topology.canonical_machine(guests, "x86_64", "kvm", "pc-q35-2.9") == "pc-q35-2.9"
    assert topology.canonical_machine(guests, "s390x", "kvm", "q35") == "q35"


def test_this_machine_capabilities(this_host):
    # Captured on the test bed: 1 socket, 2 cores, no SMT, one NUMA cell.
    assert (this_host["sockets"], this_host["cores"], this_host["threads"], this_host["count"]) == (1, 2, 1, 2)
    assert this_host["vendor"] == "AMD"
    assert this_host["cells"][0]["memory_bytes"] == 4810528 * 1024
    assert this_host["siblings"] == [[0], [1]]
    x86 = this_host["guests"]["x86_64"]["kvm"]
    assert x86["aliases"] == {"pc": "pc-i440fx-7.2", "q35": "pc-q35-7.2"}
    assert this_host["guests"]["i686"]["qemu"]["aliases"]["q35"] == "pc-q35-7.2"


def test_offline_cpu_without_attributes():
    xml = """<capabilities><host><cpu><arch>x86_64</arch></cpu><topology><cells num='1'>
      <cell id='0'><memory unit='KiB'>1024</memory><cpus num='2'>
        <cpu id='0' socket_id='0' die_id='0' core_id='0' siblings='0'/>
        <cpu id='1'/>
      </cpus></cell></cells></topology></host></capabilities>"""
    caps = topology.parse_capabilities(xml)
    assert caps["cpus"][1] == {"id": 1, "cell": 0, "socket": None, "die": None, "core": None, "siblings": [1]}
    assert caps["sockets"] == 1
    assert caps["cells"][0]["memory_bytes"] == 1024 * 1024


def test_hugepages_per_node(tmp_path):
    hugepage_tree(tmp_path, "/sys/devices/system/node/node0/hugepages", {2048: (512, 100), 1048576: (0, 0)})
    hugepage_tree(tmp_path, "/sys/devices/system/node/node1/hugepages", {2048: (0, 0), 1048576: (2, 1)})
    # The global pool must be ignored when nodes exist.
    hugepage_tree(tmp_path, "/sys/kernel/mm/hugepages", {2048: (999, 999)})
    write(tmp_path, "/sys/devices/system/node/online", "0-1\n")
    result = topology.read_hugepages(HostFS(str(tmp_path)))
    assert result == {
        "0": {"2048": {"total": 512, "free": 100}, "1048576": {"total": 0, "free": 0}},
        "1": {"2048": {"total": 0, "free": 0}, "1048576": {"total": 2, "free": 1}},
    }


def test_hugepages_without_node_dirs_fall_back_to_global_pool(tmp_path):
    hugepage_tree(tmp_path, "/sys/kernel/mm/hugepages", {2048: (256, 200)})
    assert topology.read_hugepages(HostFS(str(tmp_path))) == {"0": {"2048": {"total": 256, "free": 200}}}


def test_iommu(tmp_path):
    fs = HostFS(str(tmp_path))
    assert topology.read_iommu(fs) == {"enabled": False, "groups": 0}
    os.makedirs(str(tmp_path / "sys/kernel/iommu_groups"))
    os.makedirs(str(tmp_path / "sys/class/iommu"))
    assert topology.read_iommu(fs) == {"enabled": False, "groups": 0}
    for g in ("0", "1", "12"):
        os.makedirs(str(tmp_path / "sys/kernel/iommu_groups" / g / "devices"))
    assert topology.read_iommu(fs) == {"enabled": True, "groups": 3}


def test_iommu_unit_without_groups_counts_as_enabled(tmp_path):
    os.makedirs(str(tmp_path / "sys/class/iommu/dmar0"))
    assert topology.read_iommu(HostFS(str(tmp_path))) == {"enabled": True, "groups": 0}


def test_kvm(tmp_path):
    fs = HostFS(str(tmp_path))
    assert topology.read_kvm(fs) == {"present": False, "usable": False}
    write(tmp_path, "/dev/kvm", "")
    assert topology.read_kvm(fs) == {"present": True, "usable": True}


# --- facts.gather, with a fake connection and a fake tree ------------------

class FakeConn:
    def __init__(self, caps, domcaps):
        self.caps, self.domcaps, self.asked = caps, domcaps, []

    def capabilities_xml(self):
        return self.caps

    def domain_capabilities_xml(self, virt_type=None, arch=None, machine=None, emulator=None):
        self.asked.append((virt_type, arch, machine))
        return self.domcaps[virt_type]

    def versions(self):
        return "9.0.0", "7.2.0"


def fake_host(tmp_path, kvm=True):
    hugepage_tree(tmp_path, "/sys/devices/system/node/node0/hugepages", {2048: (512, 100)})
    hugepage_tree(tmp_path, "/sys/devices/system/node/node1/hugepages", {2048: (64, 64)})
    os.makedirs(str(tmp_path / "sys/kernel/iommu_groups/0"))
    if kvm:
        write(tmp_path, "/dev/kvm", "")
    write(tmp_path, "/usr/share/qemu/firmware/60-edk2-x86_64.json", json.dumps({
        "description": "UEFI without secure boot", "interface-types": ["uefi"],
        "mapping": {"device": "flash", "executable": {"filename": "/usr/share/OVMF/OVMF_CODE_4M.fd", "format": "raw"},
                    "nvram-template": {"filename": "/usr/share/OVMF/OVMF_VARS_4M.fd", "format": "raw"}},
        "targets": [{"architecture": "x86_64", "machines": ["pc-q35-*"]}], "features": ["acpi-s3"], "tags": []}))
    return HostFS(str(tmp_path))


@pytest.mark.parametrize("kvm, domain_type", [(True, "kvm"), (False, "qemu")])
def test_gather(tmp_path, kvm, domain_type):
    conn = FakeConn(fixture("capabilities_2socket_2numa.xml"),
                    {"kvm": fixture("domcaps_kvm_q35.xml"), "qemu": fixture("domcaps_qemu_pc.xml")})
    host = facts.gather(conn, fake_host(tmp_path, kvm=kvm))
    assert json.loads(json.dumps(host)) == host  # survives the trip to the controller unchanged
    assert conn.asked == [(domain_type, "x86_64", "q35")]
    assert host["domain_type"] == domain_type
    assert host["kvm"] == {"present": kvm, "usable": kvm}
    cpu = host["cpu"]
    assert (cpu["sockets"], cpu["cores"], cpu["threads"], cpu["count"]) == (2, 2, 2, 8)
    assert cpu["numa_cells"][1] == {"id": 1, "cpus": [2, 3, 6, 7], "memory_bytes": 8 * 1024 ** 3,
                                    "hugepages": {"2048": {"total": 64, "free": 64}}}
    assert host["hugepages"] == {"2048": {"total": 576, "free": 164, "nodes": {
        "0": {"total": 512, "free": 100}, "1": {"total": 64, "free": 64}}}}
    assert host["versions"] == {"libvirt": "9.0.0", "qemu": "7.2.0"}
    assert host["iommu"] == {"enabled": True, "groups": 1}
    assert host["machines"]["aliases"]["q35"] == "pc-q35-8.2"
    assert ("pc-q35-8.2-kvm-only" in host["machines"]["names"]) is kvm
    assert [d["code"] for d in host["firmware"]["descriptors"]] == ["/usr/share/OVMF/OVMF_CODE_4M.fd"]
    if kvm:
        assert host["cpu_modes"] == ["host-passthrough", "maximum", "host-model", "custom"]
        assert host["cpu_models"]["host_model"]["name"] == "EPYC-Milan"
        assert host["cpu_models"]["usable"] == ["486", "pentium", "pentium2", "pentium3"]
        assert host["firmware"]["secure_boot_possible"] is True
    else:
        assert "host-passthrough" not in host["cpu_modes"]
        assert "Penryn" in host["cpu_models"]["usable"]
        assert "EPYC" not in host["cpu_models"]["usable"]
        assert host["firmware"]["secure_boot_possible"] is False
