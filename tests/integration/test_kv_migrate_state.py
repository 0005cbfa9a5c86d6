# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A hugepage-backed UEFI guest with a persistent TPM migrates and keeps its NVRAM and TPM state files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from migration_support import assert_kept_counting, start_counting_guest, ticks, where
from tests.support.two_hosts import guest_xml

pytestmark = [pytest.mark.integration, pytest.mark.libvirt, pytest.mark.migration, pytest.mark.guest,
              pytest.mark.tcg, pytest.mark.slow]

HUGEPAGES = Path("/sys/kernel/mm/hugepages/hugepages-2048kB")
GUEST_MIB = 256


@pytest.fixture
def hugepages():
    """Enough free 2 MiB pages for the guest on both hosts at once (one pool); what was added goes back."""
    need = 2 * GUEST_MIB // 2
    free = int((HUGEPAGES / "free_hugepages").read_text())
    added = max(0, need - free)
    if added:
        total = int((HUGEPAGES / "nr_hugepages").read_text())
        (HUGEPAGES / "nr_hugepages").write_text(str(total + added))
        assert int((HUGEPAGES / "free_hugepages").read_text()) >= need, "the kernel could not reserve hugepages"
    yield
    if added:
        total = int((HUGEPAGES / "nr_hugepages").read_text())
        (HUGEPAGES / "nr_hugepages").write_text(str(max(0, total - added)))


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_hugepages_tpm_nvram_travel(run_module, libvirt_conn, second_libvirt_uri, vm_names, two_hosts,
                                    shared_guest, hugepages):
    import libvirt

    name = vm_names()
    second = two_hosts.second
    console = start_counting_guest(libvirt_conn, name, shared_guest, two_hosts.shared_dir, memory_mib=GUEST_MIB,
                                   hugepages=True, tpm=True, uefi=True, ready_timeout=300)
    uuid = libvirt_conn.lookupByName(name).UUIDString()
    nvram = "/var/lib/libvirt/qemu/nvram/%s_VARS.fd" % name
    nvram_before = sha256(nvram)
    assert Path("/var/lib/libvirt/swtpm/%s/tpm2/tpm2-00.permall" % uuid).stat().st_size > 0
    before = ticks(console)[-1][0]

    out = run_module("kv_migrate", {"name": name, "dest_uri": second.uri, "shared_paths": [str(second.shared)]})
    assert not out.get("failed"), out.get("msg")
    conn2 = libvirt.open(second_libvirt_uri)
    try:
        assert where(libvirt_conn, conn2, name) == ("absent", "running")
        inactive = conn2.lookupByName(name).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
        assert "persistent_state='yes'" in inactive and nvram in inactive and "<hugepages>" in inactive
    finally:
        conn2.close()
    # The second host's /var/lib/libvirt is its node folder.
    there = second.node / "lib"
    assert sha256(there / ("qemu/nvram/%s_VARS.fd" % name)) == nvram_before
    permall = there / ("swtpm/%s/tpm2/tpm2-00.permall" % uuid)
    assert permall.stat().st_size > 0
    assert oct(permall.stat().st_mode)[-3:] == "600"
    assert_kept_counting(console, before)


@pytest.fixture
def dest_images_pool(second_libvirt_uri):
    """A dir pool over /var/lib/libvirt/images on the second host, for libvirt to pre-create copied disks in."""
    import libvirt

    conn = libvirt.open(second_libvirt_uri)
    pool = conn.storagePoolDefineXML("<pool type='dir'><name>kvt-images</name>"
                                     "<target><path>/var/lib/libvirt/images</path></target></pool>")
    try:
        pool.build(0)
        pool.create(0)
        yield pool
    finally:
        if pool.isActive():
            pool.destroy()
        pool.undefine()
        conn.close()


def test_a_local_disk_is_copied_with_copy_storage(run_module, libvirt_conn, second_libvirt_uri, vm_names, two_hosts,
                                                  shared_guest, dest_images_pool):
    """A disk only the source has: refused without copy_storage, copied byte for byte with it."""
    import libvirt

    name = vm_names()
    second = two_hosts.second
    disk = Path("/var/lib/libvirt/images/%s-data.img" % name)
    marker = b"KVT-COPIED-%s" % name.encode()
    with open(disk, "wb") as f:
        f.truncate(16 * 2 ** 20)
        f.seek(2 ** 20)
        f.write(marker)
    there = second.node / "lib" / "images" / disk.name
    try:
        console = start_counting_guest(libvirt_conn, name, shared_guest, two_hosts.shared_dir, disks=[str(disk)])
        args = {"name": name, "dest_uri": second.uri, "shared_paths": [str(second.shared)]}
        refused = run_module("kv_migrate", args)
        assert refused.get("failed") and "copy_storage" in refused["msg"] and str(disk) in refused["msg"], refused
        assert libvirt_conn.lookupByName(name).isActive()
        before = ticks(console)[-1][0]

        out = run_module("kv_migrate", dict(args, copy_storage=True))
        assert not out.get("failed"), out.get("msg")
        assert out["preflight"]["copied_disks"] == ["vda"]
        conn2 = libvirt.open(second_libvirt_uri)
        try:
            assert where(libvirt_conn, conn2, name) == ("absent", "running")
        finally:
            conn2.close()
        assert there.read_bytes() == disk.read_bytes()
        assert_kept_counting(console, before)
    finally:
        for path in (disk, there):
            if path.exists():
                path.unlink()


def test_dedicated_cpus_are_replanned_on_the_destination(run_module, libvirt_conn, second_libvirt_uri, vm_names,
                                                         two_hosts, shared_guest):
    """The VM holds CPU 1 here; there another VM holds CPU 1: it arrives pinned to CPU 0, and keeps counting."""
    import libvirt

    name, occupier = vm_names(), vm_names()
    second = two_hosts.second
    conn2 = libvirt.open(second_libvirt_uri)
    try:
        conn2.defineXML(guest_xml(occupier, shared_guest.kernel, shared_guest.initrd,
                                  two_hosts.shared_dir / ("%s.log" % occupier), shared_guest.cmdline(),
                                  memory_mib=128, pins={0: 1})).create()
        console = start_counting_guest(libvirt_conn, name, shared_guest, two_hosts.shared_dir, pins={0: 1})
        before = ticks(console)[-1][0]
        args = {"name": name, "dest_uri": second.uri, "shared_paths": [str(second.shared)]}
        check = run_module("kv_migrate", args, check=True)
        assert check["preflight"]["new_cpu_pins"] == {"vcpus": {"0": 0}, "emulator": None, "held": [], "cell": 0}
        out = run_module("kv_migrate", args)
        assert not out.get("failed"), out.get("msg")
        assert where(libvirt_conn, conn2, name) == ("absent", "running")
        for flags in (0, libvirt.VIR_DOMAIN_XML_INACTIVE):
            assert "<vcpupin vcpu='0' cpuset='0'/>" in conn2.lookupByName(name).XMLDesc(flags)
        assert conn2.lookupByName(name).vcpuPinInfo(0)[0] == (True, False)
        assert_kept_counting(console, before)
    finally:
        conn2.close()
