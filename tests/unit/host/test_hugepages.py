# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kv_hugepages' logic on a fake sysfs/proc/etc tree (two NUMA nodes, both page sizes)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.kvcompute.libvirt.plugins.module_utils.host import hugepages as hp
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.hostfs import HostFS
from tests.support import fake_host
from tests.support.fake_host import snapshot


class FakeKernel(HostFS):
    """A HostFS whose nr_hugepages files behave like the kernel's: grants at most `limit`
    pages per pool file and keeps free_hugepages in step (free = granted - in use)."""

    def __init__(self, root, limit=None, in_use=0):
        HostFS.__init__(self, root)
        self.limit, self.in_use = limit, in_use

    def write(self, path, text):
        if path.endswith("/nr_hugepages"):
            n = int(text)
            if self.limit is not None:
                n = min(n, self.limit)
            HostFS.write(self, path, "%d\n" % n)
            HostFS.write(self, path.replace("/nr_hugepages", "/free_hugepages"), "%d\n" % max(n - self.in_use, 0))
            return
        HostFS.write(self, path, text)


def make_host(tmp_path, nodes=(0, 1), meminfo=None, limit=None, **tree):
    fake_host.make_host(tmp_path, nodes=nodes, **tree)
    if meminfo is not None:
        fake_host.write(tmp_path, "/proc/meminfo", meminfo)
    return FakeKernel(str(tmp_path), limit=limit)


def nr(tmp_path, node, kib=2048):
    base = "sys/kernel/mm/hugepages" if node == "all" else "sys/devices/system/node/node%s/hugepages" % node
    return int((tmp_path / base / ("hugepages-%dkB" % kib) / "nr_hugepages").read_text())


def test_per_node_reservation_reads_back_and_is_idempotent(tmp_path):
    fs = make_host(tmp_path)
    result = hp.apply(fs, "2Mi", nodes={"0": 64, 1: 32})
    assert result["pages"] == [
        {"node": "0", "size": "2Mi", "requested": 64, "before": 0, "granted": 64, "free": 64, "changed": True},
        {"node": "1", "size": "2Mi", "requested": 32, "before": 0, "granted": 32, "free": 32, "changed": True},
    ]
    assert (nr(tmp_path, 0), nr(tmp_path, 1), nr(tmp_path, "all")) == (64, 32, 0)
    assert result["changed"] and result["files"] == [] and result["persistent"] is None
    again = hp.apply(fs, "2Mi", nodes={"0": 64, 1: 32})
    assert not again["changed"]


def test_count_uses_the_global_pool(tmp_path):
    fs = make_host(tmp_path)
    result = hp.apply(fs, "2Mi", count=16)
    assert [(p["node"], p["granted"]) for p in result["pages"]] == [("all", 16)]
    assert nr(tmp_path, "all") == 16


def test_host_without_numa_directories(tmp_path):
    fs = make_host(tmp_path, nodes=())
    assert hp.apply(fs, "2Mi", count=8)["pages"][0]["granted"] == 8
    with pytest.raises(hp.HugepagesError) as err:
        hp.apply(fs, "2Mi", nodes={0: 8})
    assert "nodes: 0 is not a NUMA node of this host (nodes: none)" in str(err.value)


def test_fewer_granted_fails_and_restores(tmp_path):
    fs = make_host(tmp_path, limit=40)
    (tmp_path / "sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages").write_text("8\n")
    with pytest.raises(hp.HugepagesError) as err:
        hp.apply(fs, "2Mi", nodes={0: 64, 1: 16}, persistent=True)
    assert str(err.value).startswith(
        "node 0: asked for 64 2Mi pages, the kernel granted 40 (not enough contiguous free memory); "
        "the previous counts are back (node 0: 8, node 1: 0).")
    assert (nr(tmp_path, 0), nr(tmp_path, 1)) == (8, 0)
    assert not (tmp_path / "etc/sysctl.d").exists()  # nothing persisted either


def test_allow_partial_keeps_the_grant_and_warns(tmp_path):
    fs = make_host(tmp_path, limit=40)
    result = hp.apply(fs, "2Mi", nodes={0: 64}, allow_partial=True)
    assert result["pages"][0]["granted"] == 40 and nr(tmp_path, 0) == 40
    assert result["warnings"] == ["node 0: asked for 64 2Mi pages, the kernel granted 40"]


def test_check_mode_changes_nothing(tmp_path):
    fs = make_host(tmp_path, mounts="", grub='GRUB_CMDLINE_LINUX=""\n')
    before = snapshot(tmp_path)
    result = hp.apply(fs, "1Gi", count=2, persistent=True, check_mode=True)
    assert snapshot(tmp_path) == before
    assert result["changed"] and result["pages"][0]["granted"] is None
    assert result["files"] == ["/etc/default/grub", "/etc/fstab"]
    assert result["reboot_required"]


@pytest.mark.parametrize("kwargs, message", [
    (dict(size="4Mi", count=1), "size: '4Mi' is not one of 1Gi, 2Mi"),
    (dict(size="2Mi"), "give either count (all nodes) or nodes"),
    (dict(size="2Mi", count=-1), "count: -1 is not a number of pages >= 0"),
    (dict(size="2Mi", nodes={"7": 1, "x": 1}),
     "nodes: '7' is not a NUMA node of this host (nodes: 0, 1); nodes: 'x' is not a NUMA node"),
    (dict(size="2Mi", nodes={"0": "many"}), "nodes[0]: 'many' is not a number of pages >= 0"),
    (dict(size="1Gi", count=1, persistent=True), "no bootloader configuration to edit"),
    (dict(size="2Mi", count=1, mount_path="/mnt"), None),
])
def test_bad_input_changes_nothing(tmp_path, kwargs, message):
    fs = make_host(tmp_path, mounts="tmpfs /mnt tmpfs rw 0 0\n")
    before = snapshot(tmp_path)
    with pytest.raises(ValueError) as err:
        hp.apply(fs, **kwargs)
    assert message is None or message in str(err.value)
    assert snapshot(tmp_path) == before


def test_mount_conflicts(tmp_path):
    fs = make_host(tmp_path, mounts="hugetlbfs /dev/hugepages hugetlbfs rw,pagesize=1024M 0 0\n"
                                    "tmpfs /mnt tmpfs rw 0 0\n")
    with pytest.raises(hp.HugepagesError) as err:
        hp.apply(fs, "2Mi", count=1)
    assert "mount_path: /dev/hugepages is hugetlbfs with 1048576 kB pages, not 2Mi" in str(err.value)
    with pytest.raises(hp.HugepagesError) as err:
        hp.apply(fs, "2Mi", count=1, mount_path="/mnt")
    assert "mount_path: /mnt is mounted as tmpfs, not hugetlbfs" in str(err.value)
    assert hp.apply(fs, "1Gi", count=1, mount_path="/dev/hugepages")["mount"]["mounted"]


def test_persistent_2mi_sysctl_file(tmp_path):
    fs = make_host(tmp_path)
    result = hp.apply(fs, "2Mi", nodes={0: 64, 1: 64}, persistent=True)
    assert result["persistent"] == "sysctl" and result["files"] == ["/etc/sysctl.d/80-kvcompute-hugepages.conf"]
    assert (tmp_path / "etc/sysctl.d/80-kvcompute-hugepages.conf").read_text() == (
        "# Managed by kvcompute.libvirt (kv_hugepages): 2Mi hugepages reserved at boot.\n"
        "vm.nr_hugepages = 128\n")
    assert result["warnings"] == ["at boot vm.nr_hugepages spreads 128 pages evenly over the NUMA nodes; "
                                  "this module sets the per-node split again when it runs"]
    assert not hp.apply(fs, "2Mi", nodes={0: 64, 1: 64}, persistent=True)["changed"]
    gone = hp.apply(fs, "2Mi", count=0, persistent=True)
    assert gone["files"] == ["/etc/sysctl.d/80-kvcompute-hugepages.conf"]
    assert not (tmp_path / "etc/sysctl.d/80-kvcompute-hugepages.conf").exists()


def test_persistent_2mi_refused_when_default_size_is_1g(tmp_path):
    fs = make_host(tmp_path, meminfo="Hugepagesize:    1048576 kB\n", mounts="")
    with pytest.raises(hp.HugepagesError) as err:
        hp.apply(fs, "2Mi", count=4, persistent=True)
    assert "this host's default is 1048576 kB" in str(err.value)


def test_persistent_1gi_kernel_args_and_mount(tmp_path):
    fs = make_host(tmp_path, grub='GRUB_CMDLINE_LINUX="ro hugepages=16"\n', limit=1, fstab="UUID=1 / ext4 defaults 0 1\n")
    result = hp.apply(fs, "1Gi", nodes={0: 2, 1: 2}, persistent=True)
    # fewer now is fine: the kernel reserves them at the next boot
    assert [p["granted"] for p in result["pages"]] == [1, 1]
    assert result["reboot_required"] and result["persistent"] == "kernel_args"
    assert (tmp_path / "etc/default/grub").read_text() == 'GRUB_CMDLINE_LINUX="ro hugepages=0:2,1:2 hugepagesz=1G"\n'
    assert (tmp_path / "etc/fstab").read_text() == (
        "UUID=1 / ext4 defaults 0 1\nhugetlbfs /dev/hugepages1G hugetlbfs pagesize=1G 0 0\n")
    assert result["files"] == ["/etc/default/grub", "/etc/fstab"]
    assert result["warnings"][-1] == "/dev/hugepages1G is not mounted and root is not /: nothing mounted now"
    assert not result["libvirtd_restart_required"]
    again = hp.apply(fs, "1Gi", nodes={0: 2, 1: 2}, persistent=True)
    assert again["files"] == [] and (tmp_path / "etc/fstab").read_text().count("hugepages1G") == 1
    off = hp.apply(fs, "1Gi", count=0, persistent=True)
    assert (tmp_path / "etc/default/grub").read_text() == 'GRUB_CMDLINE_LINUX="ro"\n'
    assert off["mount"] is None


def test_existing_fstab_entry_is_kept(tmp_path):
    fs = make_host(tmp_path, fstab="hugetlbfs /dev/hugepages hugetlbfs defaults 0 0")
    result = hp.apply(fs, "2Mi", count=2)
    assert result["mount"] == {"path": "/dev/hugepages", "pagesize": "2M", "mounted": True, "in_fstab": True}
    assert (tmp_path / "etc/fstab").read_text() == "hugetlbfs /dev/hugepages hugetlbfs defaults 0 0"


def test_libvirtd_running(tmp_path):
    fs = make_host(tmp_path)
    assert not hp.libvirtd_running(fs)
    (tmp_path / "run").mkdir()
    (tmp_path / "run/libvirtd.pid").write_text("4242\n")
    assert not hp.libvirtd_running(fs)
    (tmp_path / "proc/4242").mkdir()
    assert hp.libvirtd_running(fs)
