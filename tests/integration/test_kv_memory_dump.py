"""kv_memory_dump against the tiny Linux guest: a marker the guest holds in its memory is in the dump."""

import hashlib
import os
import struct
import uuid
import zlib

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.guest, pytest.mark.tcg]


def sha256(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def unflatten(flat):
    """makedumpfile's flattened format (what QEMU writes to a pipe, as libvirt gives it): a 4 KiB header,
    then records of big-endian (offset, size) + data, up to (-1, -1). Returns the plain kdump file."""
    out = bytearray()
    pos = 4096
    while True:
        offset, size = struct.unpack_from(">qq", flat, pos)
        pos += 16
        if offset < 0:
            return bytes(out)
        if len(out) < offset + size:
            out.extend(b"\0" * (offset + size - len(out)))
        out[offset:offset + size] = flat[pos:pos + size]
        pos += size


def kdump_pages(path):
    """The page data of a kdump-compressed file (QEMU's dump.c layout), zlib pages decompressed, in pfn order."""
    with open(path, "rb") as handle:
        data = handle.read()
    if data.startswith(b"makedumpfile"):
        data = unflatten(data)
    assert data[:8] == b"KDUMP   ", data[:8]
    # struct disk_dump_header (64-bit): signature[8], header_version, utsname[390], pad, timeval[16], status,
    # block_size, sub_hdr_size, bitmap_blocks, ...
    block_size, sub_hdr_size, bitmap_blocks = struct.unpack_from("<III", data, 428)
    pos = (1 + sub_hdr_size + bitmap_blocks) * block_size
    first = end = None
    out = []
    while end is None or pos < end:
        offset, size, flags, _page_flags = struct.unpack_from("<QIIQ", data, pos)
        pos += 24
        if end is None:
            first = end = offset  # page data starts right after the descriptors
        page = data[offset:offset + size]
        out.append(zlib.decompress(page) if flags & 1 else page)
    assert first is not None
    return b"".join(out)


def boot(run_module, vm_names, linux_guest, guest_console, marker):
    console = guest_console()
    name = vm_names()
    result = run_module("kv_vm", {
        "name": name, "state": "running", "domain_type": "qemu", "video": "none",
        "cpu": {"model": "maximum"}, "memory": {"guest": "128Mi"},
        "kernel_boot": linux_guest.kernel_boot(marker=marker),
        "serial": {"type": "file", "path": str(console.path)}, "shutdown_timeout": 0,
    })
    assert result["state"] == "running", result.get("msg")
    console.wait_for("KVGUEST READY", timeout=120)
    console.wait_for(marker=marker, timeout=60)
    return name


def test_dump_formats_marker_no_overwrite_and_info(run_module, vm_names, linux_guest, guest_console, record_property):
    marker = "kvmark-" + uuid.uuid4().hex
    name = boot(run_module, vm_names, linux_guest, guest_console, marker)
    out = vm_names.dir / "dumps"
    out.mkdir()
    elf = out / "mem.elf"

    predicted = run_module("kv_memory_dump", {"name": name, "path": str(elf)}, check=True)
    assert predicted["changed"] is True and not predicted.get("failed"), predicted.get("msg")
    assert not elf.exists() and list(out.iterdir()) == []
    assert run_module("kv_vm_info", {"name": name})["vms"][0]["memory_dump"] is None

    first = run_module("kv_memory_dump", {"name": name, "path": str(elf), "format": "elf"})
    assert first["changed"] is True and not first.get("failed"), first.get("msg")
    st = os.stat(elf)
    assert st.st_mode & 0o777 == 0o600 and first["mode"] == "0600"
    assert first["size"] == st.st_size and first["sha256"] == sha256(elf)
    assert list(out.iterdir()) == [elf]  # no temporary file left
    with open(elf, "rb") as handle:
        body = handle.read()
    assert body[:4] == b"\x7fELF"
    assert marker.encode() in body
    record_property("dump_elf_bytes", first["size"])
    record_property("dump_elf_s", first["duration"])

    again = run_module("kv_memory_dump", {"name": name, "path": str(elf)})
    assert again.get("failed") is True and "force" in again["msg"], again
    assert sha256(elf) == first["sha256"]

    info = run_module("kv_vm_info", {"name": name})["vms"][0]["memory_dump"]
    assert info["phase"] == "Completed" and info["sha256"] == first["sha256"] and info["path"] == str(elf), info
    assert info["format"] == "elf" and info["size"] == first["size"]

    kdump = out / "mem.kdump"
    second = run_module("kv_memory_dump", {"name": name, "path": str(kdump), "format": "kdump-zlib"})
    assert not second.get("failed"), second.get("msg")
    assert os.stat(kdump).st_mode & 0o777 == 0o600 and second["sha256"] == sha256(kdump)
    assert second["size"] < first["size"]
    assert marker.encode() in kdump_pages(kdump)
    record_property("dump_kdump_zlib_bytes", second["size"])
    record_property("dump_kdump_zlib_s", second["duration"])

    forced = run_module("kv_memory_dump", {"name": name, "path": str(elf), "force": True})
    assert not forced.get("failed") and forced["replaced"]["size"] == first["size"], forced.get("msg")
    assert "replaced" in forced["msg"] and forced["sha256"] == sha256(elf)

    info = run_module("kv_vm_info", {"name": name})["vms"][0]
    assert info["memory_dump"]["sha256"] == forced["sha256"]
    # kv_vm does not see the dump record as drift, and keeps it on redefine.
    spec = dict(info["spec"], state="running")
    assert run_module("kv_vm", spec)["changed"] is False


def test_bad_requests_change_nothing(run_module, vm_names, linux_guest, guest_console, host_snapshot):
    name = boot(run_module, vm_names, linux_guest, guest_console, "kvmark-bad")
    before = host_snapshot(only=lambda n: n == name)
    cases = [
        ({"path": str(vm_names.dir / "nowhere" / "x.elf")}, "does not exist"),
        ({"path": str(vm_names.dir / "x.kd"), "format": "kdump-lzo"}, "not offered"),
        ({"path": str(vm_names.dir / "x.kd"), "format": "lzma"}, "value of format must be one of"),
        ({"pool": "no-such-pool-kvt", "volume": "x"}, "no-such-pool-kvt"),
    ]
    for args, words in cases:
        result = run_module("kv_memory_dump", dict(args, name=name))
        assert result.get("failed") is True and words in result["msg"], (args, result.get("msg"))
    assert not (vm_names.dir / "x.kd").exists()
    assert host_snapshot(only=lambda n: n == name) == before

    run_module("kv_vm", {"name": name, "state": "stopped", "shutdown_timeout": 0})
    stopped = run_module("kv_memory_dump", {"name": name, "path": str(vm_names.dir / "y.elf")})
    assert stopped.get("failed") is True and "needs a running VM" in stopped["msg"], stopped.get("msg")
    assert not (vm_names.dir / "y.elf").exists()
    missing = run_module("kv_memory_dump", {"name": "kvt-no-such-vm", "path": str(vm_names.dir / "z.elf")})
    assert missing.get("failed") is True and "does not exist" in missing["msg"]


def test_dump_to_pool_volume(run_module, vm_names, linux_guest, guest_console, libvirt_conn):
    name = boot(run_module, vm_names, linux_guest, guest_console, "kvmark-pool")
    pool_dir = vm_names.dir / "pool"
    pool_dir.mkdir()
    pool_name = "kvt-dump-" + uuid.uuid4().hex[:6]
    pool = libvirt_conn.storagePoolCreateXML(
        "<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>" % (pool_name, pool_dir), 0)
    try:
        result = run_module("kv_memory_dump", {"name": name, "pool": pool_name, "volume": "vm.kdump",
                                               "format": "kdump-zlib"})
        assert not result.get("failed"), result.get("msg")
        vol = pool.storageVolLookupByName("vm.kdump")
        assert vol.path() == str(pool_dir / "vm.kdump") == result["path"]
        assert sha256(vol.path()) == result["sha256"]
        again = run_module("kv_memory_dump", {"name": name, "pool": pool_name, "volume": "vm.kdump"})
        assert again.get("failed") is True and "force" in again["msg"]
        info = run_module("kv_vm_info", {"name": name})["vms"][0]["memory_dump"]
        assert info["pool"] == pool_name and info["volume"] == "vm.kdump" and info["phase"] == "Completed"
    finally:
        pool.destroy()


def test_dump_on_crash_is_defined(run_module, vm_names, libvirt_conn):
    """memory_dump.on_crash -> coredump-restart + a pvpanic device, accepted by libvirt, and no drift on re-run.

    Not crashed here: the test guest's initramfs has no pvpanic driver, so QEMU never hears of its panic.
    """
    name = vm_names()
    vm = {"name": name, "state": "present", "domain_type": "qemu", "video": "none",
          "memory": {"guest": "128Mi"}, "memory_dump": {"on_crash": True}}
    assert run_module("kv_vm", vm)["changed"] is True
    assert run_module("kv_vm", vm)["changed"] is False
    xml = libvirt_conn.lookupByName(name).XMLDesc(0)
    assert "<on_crash>coredump-restart</on_crash>" in xml and "<panic model='isa'" in xml
    assert run_module("kv_vm_info", {"name": name})["vms"][0]["spec"]["memory_dump"] == {"on_crash": True}
    off = run_module("kv_vm", dict(vm, memory_dump={"on_crash": False}))
    assert [c["field"] for c in off["changes"]] == ["memory_dump"] or off["changed"], off
    assert "<on_crash>destroy</on_crash>" in libvirt_conn.lookupByName(name).XMLDesc(0)
