# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

import pytest

from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.hostfs import HostFS


@pytest.fixture
def fs(tmp_path):
    (tmp_path / "sys/kernel/mm/hugepages/hugepages-2048kB").mkdir(parents=True)
    (tmp_path / "sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages").write_text("128\n")
    (tmp_path / "sys/kernel/mm/hugepages/hugepages-1048576kB").mkdir()
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/notanumber").write_text("abc\n")
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev/kvm").write_text("")
    return HostFS(str(tmp_path))


def test_paths_are_joined_under_root(fs, tmp_path):
    assert fs.real("/dev/kvm") == str(tmp_path / "dev/kvm")
    assert fs.host(str(tmp_path / "dev/kvm")) == "/dev/kvm"
    with pytest.raises(ValueError):
        fs.real("dev/kvm")


def test_read_and_read_int(fs):
    assert fs.read("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages") == "128\n"
    assert fs.read_int("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages") == 128
    assert fs.read_int("/etc/notanumber", default=-1) == -1
    assert fs.read_int("/missing", default=7) == 7
    assert fs.read_int("/missing") is None
    with pytest.raises(IOError):
        fs.read("/missing")


def test_exists_listdir_glob(fs):
    assert fs.exists("/dev/kvm")
    assert not fs.exists("/dev/vhost-vsock")
    assert fs.listdir("/sys/kernel/mm/hugepages") == ["hugepages-1048576kB", "hugepages-2048kB"]
    assert fs.listdir("/sys/class/iommu") == []
    assert fs.glob("/sys/kernel/mm/hugepages/hugepages-*kB/nr_hugepages") == [
        "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
    ]


def test_write_new_file_is_atomic_and_readable(fs, tmp_path):
    (tmp_path / "etc/default").mkdir()
    fs.write("/etc/default/grub", "GRUB_CMDLINE_LINUX=\"iommu=pt\"\n")
    assert fs.read("/etc/default/grub") == "GRUB_CMDLINE_LINUX=\"iommu=pt\"\n"
    # No temp file left behind.
    assert sorted(os.listdir(str(tmp_path / "etc/default"))) == ["grub"]


def test_write_replaces_and_keeps_mode(fs, tmp_path):
    target = tmp_path / "etc/secret.conf"
    target.write_text("old\n")
    os.chmod(str(target), 0o600)
    inode = os.stat(str(target)).st_ino
    fs.write("/etc/secret.conf", "new\n")
    assert target.read_text() == "new\n"
    assert stat.S_IMODE(os.stat(str(target)).st_mode) == 0o600
    # Replaced by rename, not rewritten in place.
    assert os.stat(str(target)).st_ino != inode


def test_write_sysfs_attribute_in_place(fs, tmp_path):
    attr = tmp_path / "sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
    inode = os.stat(str(attr)).st_ino
    fs.write("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "256")
    assert fs.read_int("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages") == 256
    assert os.stat(str(attr)).st_ino == inode


def test_open_rw_ok(fs, tmp_path):
    assert fs.open_rw_ok("/dev/kvm") is True
    assert fs.open_rw_ok("/dev/absent") is False
    assert fs.open_rw_ok("/dev") is False  # a directory cannot be opened read-write, even by root
    if os.geteuid() != 0:  # root opens anything; a read-only file only stops others
        os.chmod(str(tmp_path / "dev/kvm"), 0o400)
        assert fs.open_rw_ok("/dev/kvm") is False
