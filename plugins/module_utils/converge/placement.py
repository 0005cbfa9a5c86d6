# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Dedicated CPUs, NUMA cells and hugepages for kv_vm: the host lock, what is taken, live re-pinning.

What is taken is read from libvirt's defined domains (our <kv:placement>
record), never from a side file.  A host-wide lock (flock on
/run/kvcompute/placement.lock) is held from the first read to the last define,
so parallel runs cannot give one CPU to two VMs.  Shared VMs float on the pool
minus every exclusive CPU; when exclusive CPUs are taken or freed, the shared
VMs placed with the same pool file are redefined and, when running, re-pinned live.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain import pinning
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import parse, tostring
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host import cpu_pool, topology
from ansible_collections.kvcompute.libvirt.plugins.module_utils.plan import cpu_pinning, numa_fit
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.errors import SpecError
from ansible_collections.kvcompute.libvirt.plugins.module_utils.virt import VirtError

def needs_lock(conn, fs, source, requests):
    """Lock when the host has CPU pools, a VM asks for dedicated CPUs, NUMA or hugepages, or one that holds
    dedicated CPUs goes away (its CPUs go back to the shared VMs)."""
    if fs.exists(source):
        return True
    for request in requests:
        spec = request.spec
        if spec.cpu.dedicated_cpu_placement or spec.cpu.numa is not None or spec.memory.hugepages:
            return True
        if request.state == "absent":
            xml = conn.domain_xml(request.name, inactive=True)
            held = pinning.read(parse(xml)) if xml else None
            if held is not None and held.vcpus:
                return True
    return False


class PlacementView:
    """The host's pools and every placement recorded with the same pool file, by VM name."""

    def __init__(self, conn, caps, fs, source):
        try:
            self.host = cpu_pool.read_host(caps, fs, source)
        except cpu_pool.PoolError as err:
            raise SpecError([("cpu", str(err))])
        self.roots = {}
        self.placements = {}
        for name, xml in conn.all_domain_xml(inactive=True).items():
            root = parse(xml)
            found = pinning.read(root)
            if found is not None and found.source == source:
                self.roots[name] = root
                self.placements[name] = found

    def taken(self, but=None):
        """{CPU: VM name} of every exclusive CPU, except those of VM `but`."""
        out = {}
        for name, placement in self.placements.items():
            if name != but and placement is not None:
                for cpu in placement.exclusive:
                    out[cpu] = name
        return out

    def shared(self):
        return cpu_pinning.shared_cpus(self.host, self.taken())


def view_of(host):
    """The HostView's PlacementView, read once per run (after the lock is taken)."""
    if host.placement is None:
        host.placement = PlacementView(host.conn, host.caps, host.fs, host.cpu_manager_file)
    return host.placement


def plan_vm(host, spec, plan, old_root, running, will_start):
    """Set plan.placement (or raise SpecError saying what is needed and what is free)."""
    view = view_of(host)
    keep = pinning.read(old_root) if old_root is not None else None
    if keep is not None and keep.source != view.host.source:
        keep = None
    # Pages and memory are taken when QEMU starts: check a VM about to start; a running one holds its own.
    check_memory = not running and (old_root is None or will_start)
    plan.placement = numa_fit.place(spec, view.host, view.taken(but=spec.name), check_memory, keep)
    view.placements[spec.name] = plan.placement  # the next VM of this task sees these CPUs taken
    if check_memory:
        numa_fit.consume(view.host, spec, plan.placement)  # ... and this memory gone


def describe(placement):
    """kv_vm's `placement` result: where the VM's vCPUs, emulator threads and memory are."""
    fmt = cpu_pool.format_cpuset
    out = {"pool_file": placement.source, "memory_cells": fmt(placement.memory_cells)}
    if placement.vcpus:
        out.update(dedicated=True, vcpus=list(placement.vcpus), exclusive=fmt(placement.exclusive),
                   emulator=fmt([placement.emulator] if placement.emulator is not None else placement.vcpus))
    else:
        out.update(dedicated=False, cpus=fmt(placement.shared))
    if placement.guest_cells:
        out["guest_cells"] = [{"id": c["id"], "host_cell": c["host_cell"]} for c in placement.guest_cells]
    return out


def changes(old_root, new_root, running):
    """Placement differences between the existing definition and the planned one, as kv_vm changes."""
    if old_root is None:
        return []
    before, after = pinning.pins(old_root), pinning.pins(new_root)
    out = []
    cpu_keys = ("vcpupin", "emulatorpin", "cpuset")
    if any(before[k] != after[k] for k in cpu_keys):
        out.append({"field": "cpu.placement", "before": _text(before, cpu_keys), "after": _text(after, cpu_keys),
                    "apply": "live" if running else "define"})
    if before["memory_nodes"] != after["memory_nodes"]:
        out.append({"field": "memory.placement", "before": before["memory_nodes"], "after": after["memory_nodes"],
                    "apply": "restart" if running else "define"})
    return out


def _text(pins, keys):
    return " ".join("%s=%s" % (k, pins[k]) for k in keys if pins[k]) or "floating on all CPUs"


def repin_live(conn, name, placement, done):
    """Pin a running VM's vCPUs and emulator threads to its placement now."""
    every = _vcpus(parse(conn.domain_xml(name)))
    if placement.vcpus:
        for vcpu in every:  # a VM that booted with more vCPUs than it now has CPUs keeps the extra ones on them
            conn.pin_vcpu(name, vcpu, [placement.vcpus[vcpu]] if vcpu < len(placement.vcpus) else placement.vcpus)
        emulator = [placement.emulator] if placement.emulator is not None else placement.vcpus
    else:
        for vcpu in every:
            conn.pin_vcpu(name, vcpu, placement.shared)
        emulator = placement.shared
    conn.pin_emulator(name, emulator)
    done.append("pinned %s live to CPUs %s" % (name, cpu_pool.format_cpuset(placement.vcpus or placement.shared)))


def _vcpus(live_root):
    """Every vCPU, plugged or not: libvirt keeps the pinning of an unplugged one for its next hotplug."""
    return list(range(int(live_root.find("vcpu").text)))


def rebalance(conn, host, done):
    """Give every shared VM of this pool file the CPUs no VM holds exclusively now; return the VMs changed."""
    host.placement = None  # read again: this run defined and undefined domains
    view = view_of(host)
    shared = view.shared()
    changed = []
    for name, placement in sorted(view.placements.items()):
        if placement.vcpus or sorted(placement.shared) == sorted(shared):
            continue
        root = view.roots[name]
        placement.shared = shared
        placement.online = view.host.online
        vcpu = root.find("vcpu")
        if sorted(shared) == view.host.online:
            vcpu.attrib.pop("cpuset", None)
        else:
            vcpu.set("cpuset", cpu_pool.format_cpuset(shared))
        root.find("metadata/%s/%s" % (pinning.VM_TAG, pinning.TAG)).set("shared", cpu_pool.format_cpuset(shared))
        conn.define(tostring(root))
        if conn.state(name) in ("running", "blocked", "paused"):
            repin_live(conn, name, placement, [])
        changed.append(name)
        done.append("re-pinned shared VM %s to CPUs %s" % (name, cpu_pool.format_cpuset(shared)))
    return changed


def pool_facts(conn, fs, source):
    """kv_host_info's cpu_pools: the pools, who holds which exclusive CPUs, what is free per cell."""
    caps = topology.parse_capabilities(conn.capabilities_xml())
    fmt = cpu_pool.format_cpuset
    try:
        view = PlacementView(conn, caps, fs, source)
    except SpecError as err:
        return {"file": source, "file_present": fs.exists(source), "error": err.problems[0][1]}
    host, taken = view.host, view.taken()
    held = {}
    for cpu, name in sorted(taken.items()):
        held.setdefault(name, []).append(cpu)
    free = cpu_pinning.free_by_cell(host, taken)
    return {
        "file": source,
        "file_present": fs.exists(source),
        "reserved": fmt(host.reserved),
        "pool": fmt(host.pool),
        "exclusive": dict((name, fmt(cpus)) for name, cpus in held.items()),
        "shared": fmt(view.shared()),
        "cells": [{"id": cell, "free_cpus": fmt(free[cell]), "free_memory_bytes": host.free_memory.get(cell),
                   "free_hugepages": dict((str(size), count) for size, count in
                                          sorted(host.free_pages.get(cell, {}).items()))}
                  for cell in sorted(host.cells)],
    }
