# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of dedicated CPUs, NUMA and hugepages: read, cross-checked and exported.

Everything here needs no host; whether the host can give the CPUs, cells and
pages is plan/cpu_pinning.py and plan/numa_fit.py's question.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec import model as m
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.quantity import format_bytes

MIB = 2 ** 20
PAGE_NAMES = dict((size, name) for name, size in m.PAGE_SIZES.items())


def read_cpu(f, cpu):
    """The placement keys of `cpu` (a Fields over the cpu mapping) into the Cpu."""
    cpu.dedicated_cpu_placement = f.boolean("dedicated_cpu_placement", False)
    cpu.isolate_emulator_thread = f.boolean("isolate_emulator_thread", False)
    cpu.thread_policy = f.text("thread_policy", "prefer", choices=m.THREAD_POLICIES)
    if cpu.isolate_emulator_thread and not cpu.dedicated_cpu_placement:
        f.fail("isolate_emulator_thread", "needs cpu.dedicated_cpu_placement: true (the emulator thread gets an "
                                          "exclusive CPU only beside exclusive vCPUs)")
    if f.has("thread_policy") and cpu.thread_policy != "prefer" and not cpu.dedicated_cpu_placement:
        f.fail("thread_policy", "%s needs cpu.dedicated_cpu_placement: true (a thread policy places pinned vCPUs)"
               % cpu.thread_policy)
    if cpu.dedicated_cpu_placement and cpu.max_sockets is not None and cpu.max_sockets != cpu.sockets:
        f.fail("max_sockets", "must equal sockets (%d) with dedicated_cpu_placement: every vCPU gets its exclusive "
                              "host CPU when the VM is defined, so there is no vCPU hotplug" % cpu.sockets)
    if f.has("numa"):
        cpu.numa = _numa(f.sub("numa"), cpu)


def _numa(f, cpu):
    numa = m.Numa(guest_mapping_passthrough=f.boolean("guest_mapping_passthrough", False))
    for item in f.items("cells"):
        cell = m.NumaCell(id=item.integer("id", -1, minimum=0, maximum=255), cpus=_cpu_list(item),
                          memory=item.size("memory", 0, minimum=MIB) or 0)
        for key in ("id", "memory"):
            if not item.has(key):
                item.fail(key, "is required")
        if cell.memory % MIB:
            item.fail("memory", "must be a whole number of MiB, got %d bytes" % cell.memory)
        item.done()
        numa.cells.append(cell)
    f.done()
    if numa.guest_mapping_passthrough and numa.cells:
        f.fail("cells", "give either guest_mapping_passthrough or cells, not both")
    if numa.guest_mapping_passthrough and not cpu.dedicated_cpu_placement:
        f.fail("guest_mapping_passthrough", "needs cpu.dedicated_cpu_placement: true (the guest cells mirror the host "
                                            "cells of the pinned CPUs)")
    if not numa.guest_mapping_passthrough and not numa.cells:
        f.fail(None, "give guest_mapping_passthrough: true or a list of cells")
    return numa


def _cpu_list(item):
    value = item.data.get("cpus")
    item.seen.add("cpus")
    if not isinstance(value, list) or not value or not all(isinstance(v, int) and not isinstance(v, bool)
                                                           and v >= 0 for v in value):
        item.fail("cpus", "must be a non-empty list of vCPU numbers (0, 1, ...), got %r" % (value,))
        return []
    return sorted(value)


def read_hugepages(f):
    """memory.hugepages: {page_size: 2Mi | 1Gi} -> the page size in bytes, or None."""
    if not f.has("hugepages"):
        return None
    sub = f.sub("hugepages")
    name = sub.text("page_size", None, choices=tuple(m.PAGE_SIZES))
    if not sub.has("page_size"):
        sub.fail("page_size", "is required (%s)" % ", ".join(m.PAGE_SIZES))
    sub.done()
    return m.PAGE_SIZES.get(name)


def cross_check(f, spec):
    """What needs several parts of the spec: vCPU coverage of the cells, memory sums and page multiples."""
    cpu, mem = spec.cpu, spec.memory
    page = mem.hugepages
    if page and mem.guest % page:
        f.fail("memory.guest", "must be a multiple of the hugepage size %s, got %s"
               % (PAGE_NAMES[page], format_bytes(mem.guest)))
    fixed_memory = page or (cpu.numa is not None)
    if fixed_memory and mem.max_guest is not None and mem.max_guest != mem.guest:
        f.fail("memory.max_guest", "must equal memory.guest with %s: memory hotplug (virtio-mem) is not combined "
                                   "with them" % ("hugepages" if page else "cpu.numa"))
    if cpu.numa is None or not cpu.numa.cells:
        return
    cells = cpu.numa.cells
    ids = sorted(c.id for c in cells)
    if ids != list(range(len(cells))):
        f.fail("cpu.numa.cells", "ids must be 0..%d, each once, got %s" % (len(cells) - 1, ids))
    seen = []
    for cell in cells:
        seen.extend(cell.cpus)
        if page and cell.memory % page:
            f.fail("cpu.numa.cells[%d].memory" % cells.index(cell), "must be a multiple of the hugepage size %s"
                   % PAGE_NAMES[page])
    if sorted(seen) != list(range(cpu.vcpus)):
        f.fail("cpu.numa.cells", "the cells' cpus must list every vCPU 0..%d exactly once, got %s"
               % (cpu.vcpus - 1, sorted(seen)))
    total = sum(c.memory for c in cells)
    if total != mem.guest:
        f.fail("cpu.numa.cells", "the cells' memory adds up to %s, memory.guest is %s"
               % (format_bytes(total), format_bytes(mem.guest)))


def export_cpu(cpu):
    """The placement keys of cpu for to_options (only what differs from the defaults)."""
    out = {}
    if cpu.dedicated_cpu_placement:
        out["dedicated_cpu_placement"] = True
        out["thread_policy"] = cpu.thread_policy
        if cpu.isolate_emulator_thread:
            out["isolate_emulator_thread"] = True
    if cpu.numa is not None:
        if cpu.numa.guest_mapping_passthrough:
            out["numa"] = {"guest_mapping_passthrough": True}
        else:
            out["numa"] = {"cells": [{"id": c.id, "cpus": list(c.cpus), "memory": format_bytes(c.memory)}
                                     for c in sorted(cpu.numa.cells, key=lambda c: c.id)]}
    return out


def export_memory(mem):
    return {"hugepages": {"page_size": PAGE_NAMES[mem.hugepages]}} if mem.hugepages else {}
