# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kv_migrate's I/O: gather facts on both hosts, pre-flight, start the migration, watch it, report.

The migration call blocks in a thread of its own; the main thread watches libvirt's job stats
on a second connection, applies the policy (migrate/policy.py: downtime ramp, timeouts,
post-copy switch) and rewrites the progress file that ``state: status`` reads.

peer2peer: the source libvirtd drives the migration; if this process dies, libvirt carries on
with the settings it has (only the ramp, timeouts and post-copy switch stop).
managed: this process drives both ends; if it dies the destination drops the incoming VM and the
source keeps running (libvirt's close callbacks); a SIGTERM/SIGINT/SIGHUP aborts explicitly.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import os
import signal
import threading
import time

from ansible_collections.kvcompute.libvirt.plugins.module_utils import virt
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import etree, parse
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host import topology
from ansible_collections.kvcompute.libvirt.plugins.module_utils.migrate import cpus as cpu_plan
from ansible_collections.kvcompute.libvirt.plugins.module_utils.migrate import preflight
from ansible_collections.kvcompute.libvirt.plugins.module_utils.migrate.policy import Watch

RUNNING = ("running", "paused", "blocked")
# jobStats keys -> the result's names.
STAT_KEYS = (("time_elapsed", "total_time_ms"), ("downtime", "downtime_ms"), ("data_total", "data_total"),
             ("data_processed", "data_transferred"), ("data_remaining", "data_remaining"),
             ("memory_iteration", "iterations"), ("memory_dirty_rate", "memory_dirty_rate"),
             ("memory_bps", "memory_bps"), ("auto_converge_throttle", "auto_converge_throttle"),
             ("memory_postcopy_requests", "postcopy_requests"), ("disk_processed", "disk_transferred"))


# virDomainJobOperation's MIGRATION_OUT (a stable libvirt enum value).
MIGRATION_OUT = 5


class MigrateError(Exception):
    """A refusal before anything moved, or a migration that failed (the VM stays where it was).

    ``data`` holds what the module returns beside the message (the progress record, states).
    """

    def __init__(self, msg, data=None):
        super(MigrateError, self).__init__(msg)
        self.data = data or {}


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _stats(raw):
    return dict((name, raw[key]) for key, name in STAT_KEYS if key in raw)


# --------------------------------------------------------------------------- progress file


def progress_path(req):
    return os.path.join(req["progress_dir"], "%s.json" % req["name"])


def write_progress(req, record):
    """Atomically replace the progress file (0600: it names hosts and VMs)."""
    os.makedirs(req["progress_dir"], mode=0o700, exist_ok=True)
    path = progress_path(req)
    tmp = "%s.%d.tmp" % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(record, handle, sort_keys=True)
    os.replace(tmp, path)


def read_progress(req):
    try:
        with open(progress_path(req)) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def _alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


# --------------------------------------------------------------------------- facts and pre-flight


def _local(uri):
    return "://" in uri and uri.split("://", 1)[1].startswith("/")


def cpu_check(root, src_caps, dst):
    """Compare what the guest sees of the CPU with what the destination can give."""
    cpu = root.find("cpu")
    mode = cpu.get("mode", "custom") if cpu is not None else "custom"
    virt_type = root.get("type")
    arch = root.find("os/type").get("arch")
    machine = root.find("os/type").get("machine")
    if virt_type == "qemu" and mode in ("maximum", "host-passthrough"):
        return {"result": "skipped", "detail": "TCG emulates the CPU (%s): any host with this QEMU runs it" % mode}
    if mode in ("host-passthrough", "maximum"):
        cpu_xml = etree.tostring(src_caps.find("host/cpu"), encoding="unicode")
        what = "the source host's CPU (%s)" % mode
    elif cpu is not None and cpu.find("model") is not None:
        cpu_xml = etree.tostring(cpu, encoding="unicode")
        what = "CPU model %s" % cpu.findtext("model")
    else:
        return {"result": "skipped", "detail": "the VM names no CPU model"}
    try:
        result = dst.compare_cpu(cpu_xml, virt_type, arch, machine)
    except virt.VirtError as err:
        return {"result": "incompatible", "detail": "%s: %s" % (what, err)}
    return {"result": result, "detail": what}


def gather(src, dst, req, root):
    src_caps, dst_caps = parse(src.capabilities_xml()), parse(dst.capabilities_xml())
    facts = {
        "source_host_uuid": src_caps.findtext("host/uuid"),
        "dest_host_uuid": dst_caps.findtext("host/uuid"),
        "dest_domain": dst.domain_identity(req["name"]),
        "cpu": cpu_check(root, src_caps, dst),
    }
    need = preflight.hugepages_needed(root)
    if need is not None:
        cells = len(dst_caps.findall("host/topology/cells/cell")) or 1
        facts["dest_free_pages"] = {need[0]: dst.free_pages(need[0], cells)}
    dest_roots = None
    if cpu_plan.dedicated_pins(root) is not None:
        dest_roots = [parse(x) for x in dst.active_domain_xml()]
        facts["dest_host"] = cpu_plan.dest_host(topology.parse_capabilities(dst.capabilities_xml()),
                                                req["dest_cpu_pool"])
        facts["dest_taken"] = cpu_plan.held_by(dest_roots)
    if preflight.vsock_cid(root) is not None:
        dest_roots = dest_roots or [parse(x) for x in dst.active_domain_xml()]
        facts["dest_vsock_cids"] = set(c for c in (preflight.vsock_cid(r) for r in dest_roots) if c is not None)
    facts["fs_types"] = {}
    if _local(src.uri):
        try:
            with open("/proc/self/mountinfo") as handle:
                mountinfo = handle.read()
        except OSError:
            mountinfo = ""
        for disk in preflight.file_disks(root):
            facts["fs_types"][disk["path"]] = preflight.fs_type(disk["path"], mountinfo)
    return facts


def plan_migration(src, dst, req):
    """Pre-flight: (live lxml root, plan, warnings); MigrateError listing every problem."""
    name = req["name"]
    root = parse(src.domain_xml(name))
    facts = gather(src, dst, req, root)
    problems, warnings, plan = preflight.check(root, req, facts)
    if problems:
        raise MigrateError("%s cannot move to %s: %s" % (name, req["dest_uri"],
                                                         "; ".join("%s: %s" % p for p in problems)))
    if req["copy_storage"]:
        for disk in plan["unshared"]:
            disk["capacity"] = src.disk_capacity(name, disk["dev"])
        plan["data_bytes"] += sum(d["capacity"] for d in plan["unshared"])
    plan["facts"] = facts
    return root, plan, warnings


def flags_and_params(req, plan, src):
    policy = req["policy"]
    flags = ["LIVE", "PERSIST_DEST", "UNDEFINE_SOURCE", "ABORT_ON_ERROR"]
    flags.append("PEER2PEER" if req["mode"] == "peer2peer" else "CHANGE_PROTECTION")
    params = {}
    if req["migrate_uri"]:
        params["URI"] = req["migrate_uri"]
    if policy["bandwidth_mib"]:
        params["BANDWIDTH"] = policy["bandwidth_mib"]
    if policy["allow_auto_converge"]:
        flags.append("AUTO_CONVERGE")
        for key in ("auto_converge_initial", "auto_converge_increment"):
            if policy.get(key) is not None:
                params[key.upper()] = policy[key]
    if policy["allow_post_copy"]:
        flags.append("POSTCOPY")
    if req["tls"]:
        flags.append("TLS")
        if req["tls_destination"]:
            params["TLS_DESTINATION"] = req["tls_destination"]
    if req["compression"] != "none":
        flags.append("COMPRESSED")
        params["COMPRESSION"] = req["compression"]
    if req["parallel_connections"] > 1:
        flags.append("PARALLEL")
        params["PARALLEL_CONNECTIONS"] = req["parallel_connections"]
    if req["copy_storage"] and plan["unshared"]:
        flags.append("NON_SHARED_DISK")
        params["MIGRATE_DISKS"] = [d["dev"] for d in plan["unshared"]]
    if plan["pins"]:
        for key, inactive in (("DEST_XML", False), ("PERSIST_XML", True)):
            doc = parse(src.migratable_xml(req["name"], inactive=inactive))
            cpu_plan.apply_pins(doc, plan["pins"])
            params[key] = etree.tostring(doc, encoding="unicode")
    return flags, params


# --------------------------------------------------------------------------- the move


def migrate(req, check_mode=False):
    src = virt.Connection(req["uri"])
    try:
        dst = virt.Connection(req["dest_uri"])
    except virt.VirtError:
        src.close()
        raise
    try:
        return _migrate(src, dst, req, check_mode)
    finally:
        dst.close()
        src.close()


def _migrate(src, dst, req, check_mode):
    name = req["name"]
    state = src.state(name)
    if state == "absent":
        here = dst.domain_identity(name)
        if here and here["active"]:
            return dict(changed=False, msg="%s already runs on %s" % (name, req["dest_uri"]),
                        migration=read_progress(req), source_state="absent", destination_state=dst.state(name))
        raise MigrateError("name: VM %s is defined on neither %s nor %s" % (name, req["uri"], req["dest_uri"]))
    if state not in RUNNING:
        raise MigrateError("%s is %s: live migration moves a running VM (define a stopped one on the "
                           "destination with kv_vm instead)" % (name, state))
    root, plan, warnings = plan_migration(src, dst, req)
    summary = dict(mode=req["mode"], source=req["uri"], destination=req["dest_uri"],
                   migrate_uri=req["migrate_uri"], cpu_check=plan["facts"]["cpu"],
                   copied_disks=[d["dev"] for d in plan["unshared"]] if req["copy_storage"] else [],
                   new_cpu_pins=plan["pins"])
    if check_mode:
        return dict(changed=True, warnings=warnings, preflight=summary,
                    msg="would migrate %s to %s (%s)" % (name, req["dest_uri"], req["mode"]))
    flags, params = flags_and_params(req, plan, src)
    outcome = run(src, dst, req, flags, params, plan["data_bytes"])
    outcome.update(preflight=summary, warnings=warnings + outcome.get("warnings", []))
    return outcome


def run(src, dst, req, flags, params, data_bytes):
    name, policy = req["name"], req["policy"]
    watcher = virt.Connection(req["uri"])  # its own connection: the migrating one is blocked
    watch = Watch(policy, data_bytes, ramp=req["mode"] == "managed")
    record = dict(phase="Running", mode=req["mode"], name=name, migration_name=req["migration_name"],
                  source=req["uri"], destination=req["dest_uri"], start_timestamp=now(), pid=os.getpid(),
                  post_copy=False, downtime_target_ms=None, message=None)
    write_progress(req, record)
    outcome = {}

    def move():
        try:
            src.migrate(name, flags, params, dest=dst if req["mode"] == "managed" else None,
                        peer_uri=req["dest_peer_uri"])
        except virt.VirtError as err:
            outcome["error"] = str(err)

    restore = _abort_on_signals(watcher, name) if req["mode"] == "managed" else {}
    mover = threading.Thread(target=move, name="kv_migrate")
    mover.daemon = True
    started = time.monotonic()
    mover.start()
    warnings, last = [], {}
    try:
        while mover.is_alive():
            stats = watcher.job_info(name)
            if stats.get("type"):
                last = stats
                for action, value in watch.step(time.monotonic() - started, stats):
                    _act(watcher, watch, name, action, value, warnings, record)
            record.update(elapsed_s=round(time.monotonic() - started, 1), **_stats(last))
            write_progress(req, record)
            mover.join(req["poll_interval"])
    finally:
        for sig, handler in restore.items():
            signal.signal(sig, handler)
        watcher.close()
    wall = time.monotonic() - started
    record.update(end_timestamp=now(), elapsed_s=round(wall, 1))
    if "error" in outcome:
        return _failed(src, dst, req, record, outcome["error"], watch, warnings)
    final = _stats(dst.completed_job_stats(name)) or _stats(last)
    final.setdefault("total_time_ms", int(wall * 1000))
    record.update(phase="Succeeded", **final)
    write_progress(req, record)
    where = dst.domain_identity(name) or {}
    result = dict(changed=True, migration=record, warnings=warnings,
                  msg="%s moved to %s in %.1f s (downtime %s ms)" % (name, req["dest_uri"], wall,
                                                                     final.get("downtime_ms", "?")),
                  destination_state=dst.state(name), destination_persistent=where.get("persistent"),
                  source_state=src.state(name))
    result.update(final)
    return result


def _act(watcher, watch, name, action, value, warnings, record):
    try:
        if action == "downtime":
            watcher.set_max_downtime(name, value)
            record["downtime_target_ms"] = value
        elif action == "postcopy":
            watcher.start_postcopy(name)
            record.update(post_copy=True, message="switched to post-copy: %s" % value)
        elif action == "abort":
            record["message"] = "aborting: %s" % value
            watcher.abort_job(name)
    except virt.VirtError as err:
        warnings.append("%s (%s): %s" % (action, value, err))
        if action == "postcopy":
            watch.switch_failed()


def _failed(src, dst, req, record, error, watch, warnings):
    name = req["name"]
    reason = watch.aborting
    record.update(phase="Failed", message=("aborted: %s" % reason) if reason else error)
    write_progress(req, record)
    src_state = src.state(name)
    where = "%s keeps running on %s" % (name, req["uri"]) if src_state in RUNNING else \
        "%s is %s on the source" % (name, src_state)
    try:  # the destination may be what failed
        dst_dom, dst_state = dst.domain_identity(name), dst.state(name)
        there = "" if dst_dom is None else "; the destination has it %s" % ("running" if dst_dom["active"]
                                                                            else "defined")
    except virt.VirtError as err:
        dst_state, there = "unknown", "; the destination does not answer (%s)" % err
    raise MigrateError("%s; %s%s" % (record["message"], where, there),
                       dict(migration=record, warnings=warnings, source_state=src_state,
                            destination_state=dst_state))


def _abort_on_signals(conn, name):
    """Managed mode: a terminated controller aborts its migration instead of leaving it half done."""
    def handler(_sig, _frame):
        try:
            conn.abort_job(name)
        except virt.VirtError:
            pass

    previous = {}
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        previous[sig] = signal.signal(sig, handler)
    return previous


# --------------------------------------------------------------------------- status and abort


def status(req):
    src = virt.Connection(req["uri"])
    try:
        return _status(src, req)
    finally:
        src.close()


def _status(src, req):
    name = req["name"]
    record = read_progress(req) or {}
    live = src.job_info(name)
    if live.get("type") and live.get("operation", MIGRATION_OUT) == MIGRATION_OUT:
        record = dict(record, phase="Running", **_stats(live))
        if record.get("pid") and not _alive(record["pid"]):
            record["message"] = "its watcher (pid %d) is gone; libvirt carries on" % record["pid"]
    return dict(changed=False, migration=record or None,
                running=bool(live.get("type")), msg="%s: %s" % (name, record.get("phase", "no migration recorded")))


def abort(req, check_mode=False):
    src = virt.Connection(req["uri"])
    try:
        name = req["name"]
        live = src.job_info(name)
        if not live.get("type") or live.get("operation", MIGRATION_OUT) != MIGRATION_OUT:
            out = _status(src, req)
            out["msg"] = "%s: no migration running, nothing to abort" % name
            return out
        if check_mode:
            return dict(changed=True, msg="would abort the migration of %s" % name)
        src.abort_job(name)
        deadline = time.monotonic() + 60
        while src.job_info(name).get("type") and time.monotonic() < deadline:
            time.sleep(0.2)
        out = _status(src, req)
        out.update(changed=True, msg="aborted the migration of %s; it is %s on %s" % (name, src.state(name),
                                                                                      req["uri"]))
        return out
    finally:
        src.close()
