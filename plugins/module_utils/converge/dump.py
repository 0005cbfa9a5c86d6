# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kv_memory_dump: a memory-only dump of a running VM to a file or a dir-pool volume.

Order: check everything (VM running, target directory, format offered by this
QEMU, no overwrite without force) -> record InProgress in the domain's metadata
-> libvirt dumps into a temporary file beside the target -> 0600, sha256 ->
move into place (a link, which never replaces, unless force) -> record
Completed (or Failed). A failed dump leaves the target as it was.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import json
import os
import pwd
import time
import uuid

from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain import memory_dump
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import parse, text
from ansible_collections.kvcompute.libvirt.plugins.module_utils.virt import DUMP_FORMATS, VirtError

FORMATS = tuple(DUMP_FORMATS)
RUNNING = ("running", "paused", "blocked")
CHUNK = 4 * 2 ** 20
QMP_PROBE = ('{"execute": "qmp_capabilities"}\n{"execute": "query-dump-guest-memory-capability"}\n'
             '{"execute": "quit"}\n')


class DumpError(Exception):
    """A bad request or a failed dump; nothing was left at the target."""


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def offered_formats(emulator, run_command):
    """The dump formats this QEMU binary offers (QMP query-dump-guest-memory-capability), or None if unknown.

    Asked of a throw-away QEMU with no machine, not of the guest's monitor (that would taint the domain).
    """
    if not emulator or not os.path.exists(emulator):
        return None
    rc, out, _err = run_command([emulator, "-S", "-nodefaults", "-nographic", "-machine", "none", "-display", "none",
                                 "-qmp", "stdio"], data=QMP_PROBE, binary_data=True)
    if rc != 0:
        return None
    for line in out.splitlines():
        try:
            reply = json.loads(line)
        except ValueError:
            continue
        formats = reply.get("return", {}).get("formats") if isinstance(reply.get("return"), dict) else None
        if formats:
            return list(formats)
    return None


def resolve_target(conn, params):
    """The absolute file path of the dump, from path or pool + volume."""
    if params.get("path"):
        path = params["path"]
        if not os.path.isabs(path):
            raise DumpError("path: must be an absolute path, got %r" % path)
        return os.path.normpath(path)
    pool, volume = params["pool"], params["volume"]
    if "/" in volume or volume in (".", ".."):
        raise DumpError("volume: %r is not a plain file name" % volume)
    pool_xml, active = conn.pool_xml(pool)
    root = parse(pool_xml)
    if root.get("type") != "dir":
        raise DumpError("pool: %s is a %s pool; a memory dump needs a dir pool" % (pool, root.get("type")))
    if not active:
        raise DumpError("pool: %s is not active" % pool)
    return os.path.join(text(root, "target/path"), volume)


def plan(conn, params, run_command):
    """Check the request; return what a dump would do (dict), or raise DumpError. Changes nothing."""
    name, fmt = params["name"], params["format"]
    state = conn.state(name)
    if state == "absent":
        raise DumpError("name: VM %s does not exist" % name)
    if state not in RUNNING:
        raise DumpError("VM %s is %s: a memory dump needs a running VM" % (name, state))
    path = resolve_target(conn, params)
    directory = os.path.dirname(path)
    where = "pool %s" % params["pool"] if params.get("pool") else "path"
    if not os.path.isdir(directory):
        raise DumpError("%s: directory %s does not exist" % (where, directory))
    if os.path.isdir(path):
        raise DumpError("%s: %s is a directory; give a file name" % (where, path))
    emulator = text(parse(conn.domain_xml(name)), "devices/emulator")
    offered = offered_formats(emulator, run_command)
    if offered is not None and fmt not in offered:
        raise DumpError("format: %s is not offered by this host's QEMU (%s); it offers %s"
                        % (fmt, emulator, ", ".join(offered)))
    replaced = None
    if os.path.lexists(path):
        if not params["force"]:
            raise DumpError("%s exists; not overwriting it without force: true" % path)
        st = os.lstat(path)
        replaced = {"path": path, "size": st.st_size,
                    "mtime": datetime.datetime.fromtimestamp(st.st_mtime, datetime.timezone.utc).isoformat()}
    return {"name": name, "path": path, "format": fmt, "replaced": replaced, "offered_formats": offered}


def run(conn, params, run_command, check_mode=False):
    """Plan, then (unless check mode) dump; return the module's result."""
    todo = plan(conn, params, run_command)
    result = dict(changed=True, path=todo["path"], format=todo["format"], replaced=todo["replaced"],
                  offered_formats=todo["offered_formats"])
    if check_mode:
        result["msg"] = "would dump the memory of %s to %s (%s)%s" % (
            todo["name"], todo["path"], todo["format"], ", replacing it" if todo["replaced"] else "")
        return result
    result.update(dump(conn, todo, params))
    return result


def dump(conn, todo, params):
    name, path, fmt = todo["name"], todo["path"], todo["format"]
    record = {"phase": "InProgress", "path": path, "pool": params.get("pool"), "volume": params.get("volume"),
              "format": fmt, "start_timestamp": now()}
    conn.set_metadata(name, memory_dump.render(record), memory_dump.PREFIX, memory_dump.NS)
    tmp = os.path.join(os.path.dirname(path), ".%s.kvdump-%s.part" % (os.path.basename(path), uuid.uuid4().hex[:8]))
    started = time.monotonic()
    try:
        conn.core_dump(name, tmp, fmt)
        duration = time.monotonic() - started
        os.chmod(tmp, 0o600)
        st = os.stat(tmp)
        sha256 = _sha256(tmp)
        _move(tmp, path, todo["replaced"] is not None)
    except (VirtError, OSError, DumpError) as err:
        _remove(tmp)
        record.update(phase="Failed", end_timestamp=now(), message=str(err))
        conn.set_metadata(name, memory_dump.render(record), memory_dump.PREFIX, memory_dump.NS)
        raise DumpError(str(err))
    if params.get("pool"):
        conn.refresh_pool(params["pool"])
    record.update(phase="Completed", end_timestamp=now(), size=st.st_size, sha256=sha256)
    conn.set_metadata(name, memory_dump.render(record), memory_dump.PREFIX, memory_dump.NS)
    msg = "dumped %d bytes of %s to %s (%s) in %.1f s" % (st.st_size, name, path, fmt, duration)
    if todo["replaced"]:
        msg += "; replaced the previous file (%d bytes, modified %s)" % (todo["replaced"]["size"],
                                                                         todo["replaced"]["mtime"])
    return dict(size=st.st_size, sha256=sha256, duration=round(duration, 3), mode="0600",
                owner=_user(st.st_uid), memory_dump=record, msg=msg)


def _move(tmp, path, replace):
    if replace:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)  # fails if path appeared meanwhile: never replaces
    except FileExistsError:
        raise DumpError("%s appeared while dumping; not overwriting it without force: true" % path)
    os.unlink(tmp)


def _remove(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _user(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def last_request(conn, name):
    """The last dump request recorded in a VM (kv_vm_info's memory_dump), with live progress while InProgress."""
    record = memory_dump.read_text(conn.metadata(name, memory_dump.NS))
    if record and record.get("phase") == "InProgress":
        job = conn.job_info(name)
        total, done = job.get("memory_total"), job.get("memory_processed")
        if total:
            record["progress"] = {"total": total, "processed": done or 0,
                                  "percent": round(100.0 * (done or 0) / total, 1)}
    return record
