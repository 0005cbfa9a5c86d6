# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Converge one VM: prepare (validate and plan, no change) then apply.

kv_vm prepares every VM of a task before it applies any, so one bad entry in a
fleet leaves the host untouched.  Check mode stops after prepare: the changes
and actions it reports are the ones apply would carry out.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from dataclasses import dataclass, field
from typing import List, Optional

from ansible_collections.kvcompute.libvirt.plugins.module_utils.converge import devices, lifecycle, live, placement, storage, tpm_state
from ansible_collections.kvcompute.libvirt.plugins.module_utils.converge.probe import probe
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain import cpu, disks, firmware, interfaces, memory, metadata
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.merge import merge
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.parse import parse_options as parse_domain
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.render import render_tree
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import attr, etree, parse, text, tostring
from ansible_collections.kvcompute.libvirt.plugins.module_utils.plan.hardware import Existing, machine_family, resolve
from ansible_collections.kvcompute.libvirt.plugins.module_utils.reconcile.classify import classify
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.errors import SpecError
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.export import to_options
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.fields import Fields
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.options import parse_options

STATES = ("present", "running", "stopped", "absent", "restarted")
RUN_KEYS = ("state", "shutdown_timeout", "wait_timeout", "purge_state")


@dataclass
class Request:
    name: str
    state: str
    shutdown_timeout: int
    wait_timeout: int
    spec: object  # VMSpec
    purge_state: bool = False  # state absent: also delete NVRAM and TPM state


@dataclass
class Prepared:
    request: Request
    current: str  # libvirt state, or 'absent'
    spec: object = None  # resolved VMSpec
    plan: object = None
    xml: Optional[str] = None
    desired: Optional[dict] = None
    observed: Optional[dict] = None
    changes: List[dict] = field(default_factory=list)
    pending: List[str] = field(default_factory=list)
    live: List[str] = field(default_factory=list)  # live groups to apply to the running domain (live.GROUPS)
    actions: List[str] = field(default_factory=list)
    done: List[str] = field(default_factory=list)  # what apply did (the forced stop shows up here)
    state_files: Optional[dict] = None  # state absent: {'kept': [...], 'removed': [...]} (NVRAM file, swtpm dir)
    fs: object = None  # the host's HostFS, for state absent with purge_state
    repin: bool = False  # the running VM's vCPUs move to other host CPUs (converge/placement.py)


def read_request(data, defaults):
    """One VM's options (top-level values fill what an item leaves out) -> Request."""
    merged = dict((k, v) for k, v in defaults.items() if v is not None)
    merged.update(dict((k, v) for k, v in data.items() if v is not None))
    problems = []
    f = Fields("", dict((k, merged[k]) for k in RUN_KEYS if k in merged), problems)
    state = f.text("state", "present", choices=STATES)
    shutdown_timeout = f.integer("shutdown_timeout", 120, minimum=0)
    wait_timeout = f.integer("wait_timeout", 120, minimum=1)
    purge_state = f.boolean("purge_state", False)
    spec_data = dict((k, v) for k, v in merged.items() if k not in RUN_KEYS)
    try:
        spec = parse_options(spec_data)
    except SpecError as err:
        problems.extend(err.problems)
        spec = None
    if problems:
        raise SpecError(problems)
    return Request(spec.name, state, shutdown_timeout, wait_timeout, spec, purge_state)


def _existing(root, live_root):
    if root is None:
        return Existing()
    loader, nvram = firmware.parse_loader(root)
    found = Existing(uuid=text(root, "uuid"), machine=attr(root, "os/type", "machine"), loader=loader, nvram=nvram,
                     secure_boot=attr(root, "os/loader", "secure") == "yes",
                     targets=disks.parse_targets(root), macs=interfaces.parse_macs(root))
    declared = {}
    cpu.parse(root, declared)
    memory.parse(root, declared)
    found.max_sockets, found.max_guest = declared["cpu"]["max_sockets"], declared.get("memory", {}).get("max_guest")
    if live_root is not None:
        booted = {}
        cpu.parse(live_root, booted)
        memory.parse(live_root, booted)
        found.running, found.boot_memory = True, memory.boot_memory(live_root)
        found.live_max_sockets = booted["cpu"]["max_sockets"]
        found.live_max_guest = booted.get("memory", {}).get("max_guest")
    return found


def canonical(options):
    """Options as kv_vm would write them back (defaults filled, quantities spelled one way)."""
    try:
        return to_options(parse_options(options))
    except SpecError:
        return options  # a domain we did not write, with something we do not model


def prepare(conn, host, request):
    """Everything up to (not including) the first change. Raises SpecError."""
    name = request.name
    prepared = Prepared(request=request, current=conn.state(name))
    if request.state == "absent":
        if prepared.current != "absent":
            prepared.actions = ["stop", "undefine"] if prepared.current not in lifecycle.DOWN else ["undefine"]
            found = tpm_state.existing_state_files(host.fs, conn.domain_xml(name, inactive=True))
            prepared.state_files = {"kept": [] if request.purge_state else found,
                                    "removed": found if request.purge_state else []}
            prepared.fs = host.fs
        return prepared
    inactive = conn.domain_xml(name, inactive=True)
    old_root = parse(inactive) if inactive else None
    running = prepared.current in lifecycle.UP or prepared.current == "paused"
    live_xml = conn.domain_xml(name) if running else None
    live_root = parse(live_xml) if running else None
    spec, plan = resolve(request.spec, host.as_plan_input(), probe(conn, host.fs, request.spec),
                         _existing(old_root, live_root),
                         pick_firmware=host.pick_firmware, check_cpu_model=host.check_cpu_model)
    _check_cpu_with_libvirt(conn, spec)
    placement.plan_vm(host, spec, plan, old_root, running,
                      old_root is None or "start" in lifecycle.predict(prepared.current, request.state))
    if getattr(host, "devices", None) is not None:
        host.devices.plan(spec, plan, old_root)
    root = render_tree(spec, plan)
    if old_root is not None:
        old_machine = attr(old_root, "os/type", "machine") or ""
        merge(root, old_root, keep_addresses=machine_family(old_machine) == machine_family(spec.machine))
    prepared.spec, prepared.plan, prepared.xml = spec, plan, tostring(root)
    prepared.fs = host.fs
    prepared.desired = to_options(spec)
    if old_root is not None:
        prepared.observed = canonical(parse_domain(inactive))
    booted = None
    if running:
        booted = metadata.read(live_root)
        booted = canonical(booted) if booted else None
    prepared.changes, prepared.pending = classify(prepared.desired, prepared.observed, running, booted)
    moved = placement.changes(old_root, root, running)
    prepared.changes.extend(moved)
    prepared.repin = any(c["apply"] == "live" for c in moved)
    for create in plan.creates:
        where = create.get("path") or "%s/%s" % (create["pool"], create["volume"])
        prepared.changes.insert(0, {"field": "disks[%s]" % create["name"], "before": None,
                                    "after": "create %s (%s %s)" % (where, create["format"], create["size"]),
                                    "apply": "create"})
    prepared.changes[:0] = devices.creates(plan)
    if running:
        drift = live.live_differences(live_root, spec, plan)
        prepared.live = live.groups(f for f, _b, _a in drift)
        known = live.groups(c["field"] for c in prepared.changes)  # already listed from the definition
        prepared.changes.extend({"field": f, "before": b, "after": a, "apply": "live"}
                                for f, b, a in drift if f not in known)
    planned = lifecycle.predict(prepared.current, request.state)
    if old_root is None:
        prepared.actions.append("define")
    elif any(c["apply"] != "create" for c in prepared.changes):
        prepared.actions.append("redefine")
    if prepared.live:
        prepared.actions.append("apply live")
    if devices.creates(plan):
        prepared.actions.append("create mediated devices")
    prepared.actions.extend(planned)
    devices.check_start(host.fs, spec, prepared.actions)
    if "start" in planned:
        prepared.pending = []  # a (re)boot takes every restart-only change
    return prepared


def _check_cpu_with_libvirt(conn, spec):
    """Unknown CPU features fail here, with libvirt's own word, instead of in QEMU."""
    if not spec.cpu.features and spec.cpu.model in ("host-model", "host-passthrough", "maximum"):
        return
    probe_cpu = etree.Element("cpu")
    etree.SubElement(probe_cpu, "arch").text = "x86_64"
    model = spec.cpu.model if spec.cpu.model not in ("host-model", "host-passthrough", "maximum") else "qemu64"
    etree.SubElement(probe_cpu, "model").text = model
    for feature in spec.cpu.features:
        etree.SubElement(probe_cpu, "feature", name=feature.name, policy="require")
    message = conn.check_cpu(tostring(probe_cpu), spec.domain_type)
    if message:
        fld = "cpu.features" if "feature" in message.lower() else "cpu.model"
        raise SpecError([(fld, "libvirt does not know it: %s" % message)])


def apply(conn, prepared, run_command):
    """Carry out what prepare decided; return the actions done."""
    request, name, done = prepared.request, prepared.request.name, []
    if request.state == "absent":
        if prepared.current != "absent":
            lifecycle.stop(conn, name, request.shutdown_timeout, request.wait_timeout, done)
            purge = request.purge_state
            conn.undefine(name, keep_nvram=not purge, keep_tpm=not purge)
            done.append("undefined")
            if purge:  # a swtpm dir of a domain that has no TPM now is not libvirt's to remove
                tpm_state.remove_leftovers(prepared.fs, prepared.state_files["removed"])
        return done
    # Define first: libvirt's own checks of the definition then refuse before any image exists.
    if "define" in prepared.actions or "redefine" in prepared.actions:
        conn.define(prepared.xml)
        done.append("defined" if "define" in prepared.actions else "redefined")
    for create in prepared.plan.creates:
        storage.create(conn, create, run_command)
        done.append("created disk %s" % create["name"])
    devices.apply(conn, prepared.fs, prepared.plan, done)
    if prepared.live:
        live.apply(conn, name, prepared.spec, prepared.plan, prepared.live, request.wait_timeout, done)
    if prepared.repin and conn.state(name) in lifecycle.UP + ("paused",):
        placement.repin_live(conn, name, prepared.plan.placement, done)
    if "stop" in prepared.actions:
        lifecycle.stop(conn, name, request.shutdown_timeout, request.wait_timeout, done)
    if "start" in prepared.actions:
        if conn.state(name) == "paused":
            conn.resume(name)
            done.append("resumed")
        else:
            lifecycle.start(conn, name, request.wait_timeout, done)
    return done


def result(prepared):
    request = prepared.request
    changed = bool(prepared.actions) or any(c["apply"] == "live" for c in prepared.changes)
    final = _final_state(prepared.current, request.state)
    out = {
        "name": request.name,
        "changed": changed,
        "state": final,
        "actions": prepared.actions,
        "done": prepared.done,
        "changes": prepared.changes,
        "restart_required": bool(prepared.pending),
        "restart_required_fields": prepared.pending,
    }
    if prepared.desired is not None:
        out["spec"] = prepared.desired
    if prepared.plan is not None and prepared.plan.placement is not None:
        out["placement"] = placement.describe(prepared.plan.placement)
    if request.state == "absent" and prepared.current != "absent":
        out["state_files"] = prepared.state_files
    out["diff"] = {
        "before_header": "%s (%s)" % (request.name, prepared.current),
        "after_header": "%s (%s)" % (request.name, final),
        "before": prepared.observed if prepared.observed is not None else {},
        "after": prepared.desired if prepared.desired is not None else {},
    }
    return out


def _final_state(current, state):
    if state == "absent":
        return "absent"
    if state in ("running", "restarted"):
        return "running"
    if state == "stopped":
        return "shutoff"
    return "shutoff" if current == "absent" else current
