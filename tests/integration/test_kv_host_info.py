# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kv_host_info against the real libvirtd, checked against what virsh and the kernel say."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re
import subprocess

import pytest

URI = "qemu:///system"
VERSION = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+$")


def virsh(*args):
    return subprocess.check_output(("virsh", "-c", URI) + args, universal_newlines=True)


@pytest.fixture(scope="module")
def nodeinfo():
    info = {}
    for line in virsh("nodeinfo").splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            info[key.strip()] = value.strip()
    return info


@pytest.fixture(scope="module")
def host(run_module):
    result = run_module("kv_host_info", {}, check=False)
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is False
    return result["host"]


def test_topology_matches_nodeinfo(host, nodeinfo):
    cpu = host["cpu"]
    cells = int(nodeinfo["NUMA cell(s)"])
    assert cpu["count"] == int(nodeinfo["CPU(s)"]) == os.cpu_count()
    assert cpu["cores"] == int(nodeinfo["Core(s) per socket"])
    assert cpu["threads"] == int(nodeinfo["Thread(s) per core"])
    # nodeinfo counts sockets per NUMA cell; the module counts them over the host.
    assert cpu["sockets"] in (int(nodeinfo["CPU socket(s)"]), int(nodeinfo["CPU socket(s)"]) * cells)
    assert len(cpu["numa_cells"]) == cells
    assert sorted(c for cell in cpu["numa_cells"] for c in cell["cpus"]) == list(range(cpu["count"]))
    total_kib = int(nodeinfo["Memory size"].split()[0])
    assert sum(cell["memory_bytes"] for cell in cpu["numa_cells"]) == total_kib * 1024
    assert sorted(c for group in cpu["siblings"] for c in group) == list(range(cpu["count"]))
    assert cpu["arch"] == os.uname()[4]


def test_versions_match_virsh(host):
    assert VERSION.match(host["versions"]["libvirt"])
    assert VERSION.match(host["versions"]["qemu"])
    out = virsh("version")
    assert "libvirt %s" % host["versions"]["libvirt"] in out
    assert "QEMU %s" % host["versions"]["qemu"] in out


def test_kvm_usable_matches_dev_kvm(host):
    usable = os.path.exists("/dev/kvm") and os.access("/dev/kvm", os.R_OK | os.W_OK)
    assert host["kvm"]["usable"] is usable
    assert host["domain_type"] == ("kvm" if usable else "qemu")
    assert host["cpu_models"]["domain_type"] == host["domain_type"]


def test_hugepages_match_sysfs(host):
    for path in glob.glob("/sys/kernel/mm/hugepages/hugepages-*kB"):
        size = re.search(r"hugepages-([0-9]+)kB", path).group(1)
        with open(path + "/nr_hugepages") as f:
            assert host["hugepages"][size]["total"] == int(f.read())
        with open(path + "/free_hugepages") as f:
            assert host["hugepages"][size]["free"] == int(f.read())


def test_cpu_models_machines_and_firmware(host):
    assert "custom" in host["cpu_modes"]
    assert host["cpu_models"]["usable"]
    assert host["cpu_models"]["max_vcpus"] >= 1
    assert host["machines"]["aliases"]["q35"].startswith("pc-q35-")
    assert host["cpu_models"]["machine"] == host["machines"]["aliases"]["q35"]
    codes = dict((d["code"], d) for d in host["firmware"]["descriptors"])
    plain = codes["/usr/share/OVMF/OVMF_CODE_4M.fd"]
    assert plain["vars_template"] == "/usr/share/OVMF/OVMF_VARS_4M.fd"
    assert "secure-boot" not in plain["features"]
    assert plain["path"].startswith("/usr/share/qemu/firmware/")
    assert "/usr/share/OVMF/OVMF_CODE_4M.fd" in host["firmware"]["loaders"]


def test_iommu_matches_sysfs(host):
    groups = os.listdir("/sys/kernel/iommu_groups") if os.path.isdir("/sys/kernel/iommu_groups") else []
    units = os.listdir("/sys/class/iommu") if os.path.isdir("/sys/class/iommu") else []
    assert host["iommu"] == {"enabled": bool(groups or units), "groups": len(groups)}


def test_check_mode_gives_the_same_facts(run_module, host):
    result = run_module("kv_host_info", {}, check=True)
    assert result["changed"] is False
    assert result["host"]["cpu"] == host["cpu"]
    assert result["host"]["versions"] == host["versions"]


def test_root_points_host_files_at_a_fake_tree(run_module, tmp_path):
    hp = tmp_path / "sys/devices/system/node/node0/hugepages/hugepages-2048kB"
    hp.mkdir(parents=True)
    (hp / "nr_hugepages").write_text("64\n")
    (hp / "free_hugepages").write_text("16\n")
    (tmp_path / "sys/kernel/iommu_groups/7").mkdir(parents=True)
    result = run_module("kv_host_info", {"root": str(tmp_path)}, check=False)
    assert not result.get("failed"), result.get("msg")
    fake = result["host"]
    # No /dev/kvm in the tree: the facts fall back to TCG.
    assert fake["kvm"] == {"present": False, "usable": False}
    assert fake["domain_type"] == "qemu"
    assert fake["hugepages"] == {"2048": {"total": 64, "free": 16, "nodes": {"0": {"total": 64, "free": 16}}}}
    assert fake["iommu"] == {"enabled": True, "groups": 1}
    assert fake["firmware"]["descriptors"] == []


def test_bad_uri_fails_with_the_uri_in_the_message(run_module):
    result = run_module("kv_host_info", {"uri": "qemu:///nonexistent"}, check=False)
    assert result.get("failed") is True
    assert "qemu:///nonexistent" in result["msg"]
