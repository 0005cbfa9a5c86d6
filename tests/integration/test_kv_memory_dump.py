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


AUTO_DUMP_DIR = "/var/lib/libvirt/qemu/dump"  # the libvirt_host role's libvirt_host_auto_dump_path


def test_guest_panic_dumps_memory_and_restarts(run_module, vm_names, linux_guest, guest_console, libvirt_conn,
                                               record_property):
    """memory_dump.on_crash on a real kernel panic: the guest's pvpanic driver tells QEMU, libvirt writes the
    guest's memory to auto_dump_path and starts it again (coredump-restart); the marker is in that dump."""
    marker = "kvcrash-" + uuid.uuid4().hex
    console = guest_console()
    name = vm_names()
    vm = {"name": name, "domain_type": "qemu", "video": "none", "cpu": {"model": "maximum"},
          "memory": {"guest": "128Mi"}, "memory_dump": {"on_crash": True},
          "kernel_boot": linux_guest.kernel_boot(marker=marker, panic_after=3),
          "serial": {"type": "file", "path": str(console.path)}, "shutdown_timeout": 0}
    assert run_module("kv_vm", dict(vm, state="present"))["changed"] is True
    assert run_module("kv_vm", dict(vm, state="present"))["changed"] is False
    xml = libvirt_conn.lookupByName(name).XMLDesc(0)
    assert "<on_crash>coredump-restart</on_crash>" in xml and "<panic model='isa'" in xml
    assert run_module("kv_vm_info", {"name": name})["vms"][0]["spec"]["memory_dump"] == {"on_crash": True}

    before = set(os.listdir(AUTO_DUMP_DIR))
    assert run_module("kv_vm", dict(vm, state="running"))["state"] == "running"
    console.wait_for("KVGUEST READY", timeout=300)
    console.wait_for(marker=marker, timeout=60)
    console.wait_for("KVGUEST PANIC", timeout=60)
    mark = console.mark()
    # coredump-restart: the dump is written first, then the guest boots again.
    console.wait_for("KVGUEST READY", timeout=300, since=mark)
    dumps = [f for f in set(os.listdir(AUTO_DUMP_DIR)) - before if name in f]
    assert len(dumps) == 1, (dumps, sorted(set(os.listdir(AUTO_DUMP_DIR)) - before))
    path = os.path.join(AUTO_DUMP_DIR, dumps[0])
    try:
        st = os.stat(path)
        record_property("crash_dump_bytes", st.st_size)
        assert st.st_mode & 0o077 == 0, "a crash dump holds guest memory: %o" % st.st_mode
        with open(path, "rb") as handle:
            assert marker.encode() in handle.read()
        assert libvirt_conn.lookupByName(name).isActive()
    finally:
        os.unlink(path)

    off = run_module("kv_vm", dict(vm, state="present", memory_dump={"on_crash": False}))
    assert off["changed"], off
    assert "<on_crash>destroy</on_crash>" in libvirt_conn.lookupByName(name).XMLDesc(1 << 1)


def test_async_dump_shows_progress_meanwhile(run_playbook, vm_names):
    """A long dump (2Gi of guest memory as ELF) under Ansible's async: while it runs, kv_vm_info reports
    phase InProgress with libvirt's job progress; when it is done, Completed with the checksum."""
    name = vm_names()
    path = vm_names.dir / "big.elf"
    play = [{
        "hosts": "localhost", "gather_facts": False,
        "tasks": [
            {"name": "vm", "kvcompute.libvirt.kv_vm": {
                "name": name, "state": "running", "domain_type": "qemu", "video": "none",
                "serial": {"type": "none"}, "memory": {"guest": "2Gi"}, "shutdown_timeout": 0}},
            {"name": "dump", "kvcompute.libvirt.kv_memory_dump": {"name": name, "path": str(path)},
             "async": 600, "poll": 0, "register": "job"},
            {"name": "progress", "kvcompute.libvirt.kv_vm_info": {"name": name}, "register": "info",
             "until": "info.vms[0].memory_dump.progress is defined and "
                      "info.vms[0].memory_dump.progress.processed > 0", "retries": 300, "delay": 0},
            {"name": "wait", "ansible.builtin.async_status": {"jid": "{{ job.ansible_job_id }}"},
             "register": "done", "until": "done.finished", "retries": 600, "delay": 1},
            {"name": "after", "kvcompute.libvirt.kv_vm_info": {"name": name}},
        ]}]
    results, rc = run_playbook(play)
    by_task = dict((r["_task"], r) for r in results)
    assert rc == 0, [r.get("msg") for r in results if r.get("failed")]
    during = by_task["progress"]["vms"][0]["memory_dump"]
    assert during["phase"] == "InProgress" and during["path"] == str(path)
    assert 0 < during["progress"]["processed"] <= during["progress"]["total"], during
    done = by_task["wait"]
    assert done["changed"] is True and done["size"] == os.stat(path).st_size
    after = by_task["after"]["vms"][0]["memory_dump"]
    assert after["phase"] == "Completed" and after["sha256"] == done["sha256"] and "progress" not in after
