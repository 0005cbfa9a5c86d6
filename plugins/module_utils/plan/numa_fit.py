# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fit one VM onto the host's NUMA cells (pure): CPUs, memory and hugepages per cell.

Inputs: the resolved VMSpec, a host/cpu_pool.HostCpus, `taken` ({CPU: VM name}
of every other VM's exclusive CPUs) and, for idempotent re-runs, the placement
the VM already has.  Output: a cpu_pinning.Placement, or a SpecError that says
what was needed and what is free, before anything is defined.

  dedicated, no cpu.numa      one host cell that holds the CPUs (and the memory,
                              then bound strictly there) when one exists, else
                              CPUs from several cells with memory unbound;
  guest_mapping_passthrough   the same CPUs; one guest cell per host cell used;
  numa.cells                  each guest cell on its own host cell, memory strict.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import itertools

from ansible_collections.kvcompute.libvirt.plugins.module_utils.plan import cpu_pinning as pin
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.errors import SpecError

MIB = 2 ** 20
DEDICATED = "cpu.dedicated_cpu_placement"


def place(spec, host, taken, check_memory=True, keep=None):
    cpu, mem = spec.cpu, spec.memory
    placement = pin.Placement(source=host.source, online=host.online,
                              page_kib=mem.hugepages // 1024 if mem.hugepages else None)
    if not cpu.dedicated_cpu_placement:
        placement.shared = pin.shared_cpus(host, taken)
        if cpu.numa is not None and cpu.numa.cells:
            _cells_to_host(spec, host, placement, [(c, None) for c in cpu.numa.cells], check_memory)
        elif check_memory:
            _check_total_pages(spec, host)
        return placement
    placement.thread_policy = cpu.thread_policy
    placement.passthrough = bool(cpu.numa and cpu.numa.guest_mapping_passthrough)
    if keep is not None and _still_valid(keep, spec, host, taken):
        placement.vcpus, placement.emulator, placement.held = list(keep.vcpus), keep.emulator, list(keep.held)
        if cpu.numa is None:
            placement.memory_cells = list(keep.memory_cells)
        else:
            _memory_for(spec, host, placement, check_memory=False)
        return placement
    if cpu.numa is not None and cpu.numa.cells:
        _dedicated_cells(spec, host, taken, placement, check_memory)
    else:
        _dedicated(spec, host, taken, placement, check_memory)
    return placement


def consume(host, spec, placement):
    """Take the VM's memory off the host's free counts, so the next VM of one task sees what is left."""
    page = spec.memory.hugepages
    if placement.guest_cells:
        wants = [(c["host_cell"], c["memory"]) for c in placement.guest_cells]
    elif placement.memory_cells:
        wants = [(placement.memory_cells[0], spec.memory.guest)]
    else:
        wants = [(None, spec.memory.guest)]
    for cell, memory in wants:
        if page:
            counts = host.free_pages
            if cell is None:  # unbound: the kernel takes them where they are; count them off the fullest cell
                cell = max(sorted(counts), key=lambda c: counts[c].get(page // 1024, 0)) if counts else None
            if cell is not None:
                sizes = counts.setdefault(cell, {})
                sizes[page // 1024] = sizes.get(page // 1024, 0) - memory // page
        elif cell is not None and cell in host.free_memory:
            host.free_memory[cell] -= memory


def _still_valid(keep, spec, host, taken):
    """The VM's current CPUs still fit its spec, the pool and nobody else: keep them (idempotent re-runs)."""
    cpu = spec.cpu
    pool = set(host.pool)
    if len(keep.vcpus) != cpu.vcpus or (keep.emulator is not None) != cpu.isolate_emulator_thread:
        return False
    if keep.thread_policy != cpu.thread_policy:
        return False
    if not set(keep.exclusive) <= pool or any(c in taken for c in keep.exclusive):
        return False
    if cpu.numa is not None and cpu.numa.cells:
        return all(len(set(host.cell_of(keep.vcpus[v]) for v in c.cpus)) == 1 for c in cpu.numa.cells)
    return True


def _dedicated(spec, host, taken, placement, check_memory):
    cpu = spec.cpu
    need, policy = pin.count_of(cpu), cpu.thread_policy
    free = pin.free_by_cell(host, taken)
    fits = []
    for cell, cpus in free.items():
        if pin.capacity(host, cpus, policy) >= need and _memory_short(spec, host, cell, spec.memory.guest,
                                                                      check_memory) is None:
            fits.append((pin.capacity(host, cpus, policy), cell))
    if fits:
        cell = min(fits)[1]  # best fit: the cell left with the fewest free CPUs
        _assign(placement, cpu, *pin.pick(host, free[cell], need, policy))
        _memory_for(spec, host, placement, check_memory=False)
        return
    cpu_fits = sorted((pin.capacity(host, cpus, policy), cell) for cell, cpus in free.items()
                      if pin.capacity(host, cpus, policy) >= need)
    if cpu_fits:  # the CPUs fit in one cell but its memory does not: memory stays unbound
        _assign(placement, cpu, *pin.pick(host, free[cpu_fits[0][1]], need, policy))
        _unbound_memory(spec, host, placement, check_memory)
        return
    total = sum(pin.capacity(host, cpus, policy) for cpus in free.values())
    if total < need:
        raise SpecError([(DEDICATED, "need %d dedicated CPU%s%s in one NUMA cell; %s"
                          % (need, "" if need == 1 else "s", _why(cpu),
                             pin.describe_free(host, free, policy, taken)))])
    taken_cpus, held = [], []
    for cell in sorted(free, key=lambda c: (-pin.capacity(host, free[c], policy), c)):
        part = min(need - len(taken_cpus), pin.capacity(host, free[cell], policy))
        got = pin.pick(host, free[cell], part, policy)
        taken_cpus.extend(got[0])
        held.extend(got[1])
        if len(taken_cpus) == need:
            break
    _assign(placement, cpu, taken_cpus, held)
    _unbound_memory(spec, host, placement, check_memory)


def _unbound_memory(spec, host, placement, check_memory):
    if placement.passthrough:
        _memory_for(spec, host, placement, check_memory=check_memory)
        return
    placement.memory_cells = []
    if check_memory:
        _check_total_pages(spec, host)


def _why(cpu):
    parts = []
    if cpu.isolate_emulator_thread:
        parts.append("%d vCPUs + 1 emulator thread" % cpu.vcpus)
    if cpu.thread_policy != "prefer":
        parts.append("thread_policy %s" % cpu.thread_policy)
    return " (%s)" % ", ".join(parts) if parts else ""


def _assign(placement, cpu, cpus, held):
    placement.vcpus = list(cpus[:cpu.vcpus])
    placement.emulator = cpus[cpu.vcpus] if cpu.isolate_emulator_thread else None
    placement.held = sorted(held)


def _memory_for(spec, host, placement, check_memory=True):
    """Memory binding and guest cells that follow the pinned CPUs (dedicated VMs)."""
    cells_used = sorted(set(host.cell_of(c) for c in placement.vcpus))
    numa = spec.cpu.numa
    if numa is not None and numa.cells:
        pairs = [(c, host.cell_of(placement.vcpus[c.cpus[0]])) for c in numa.cells]
        _cells_to_host(spec, host, placement, pairs, check_memory)
        return
    if placement.passthrough:
        _passthrough_cells(spec, host, placement, cells_used, check_memory)
        return
    placement.memory_cells = cells_used if len(cells_used) == 1 else []
    if check_memory and not placement.memory_cells:
        _check_total_pages(spec, host)


def _passthrough_cells(spec, host, placement, cells_used, check_memory):
    """KubeVirt's guestMappingPassthrough: a guest cell per host cell behind the pinned vCPUs, memory split evenly."""
    unit = spec.memory.hugepages or MIB
    units = spec.memory.guest // unit
    share, extra = divmod(units, len(cells_used))
    placement.guest_cells = []
    for i, cell in enumerate(cells_used):
        vcpus = [v for v, c in enumerate(placement.vcpus) if host.cell_of(c) == cell]
        memory = (share + (1 if i < extra else 0)) * unit
        if check_memory:
            _raise_if_short(spec, host, cell, memory, "cpu.numa.guest_mapping_passthrough")
        placement.guest_cells.append({"id": i, "cpus": vcpus, "memory": memory, "host_cell": cell})
    placement.memory_cells = list(cells_used)


def _dedicated_cells(spec, host, taken, placement, check_memory):
    """Explicit guest cells with pinned vCPUs: each guest cell's CPUs (and memory) on one distinct host cell."""
    cpu = spec.cpu
    cells = sorted(cpu.numa.cells, key=lambda c: c.id)
    policy = cpu.thread_policy
    free = pin.free_by_cell(host, taken)
    if len(cells) > len(host.cells):
        raise SpecError([("cpu.numa.cells", "%d guest cells need %d host NUMA cells; this host has %d"
                          % (len(cells), len(cells), len(host.cells)))])
    for hosts in itertools.permutations(sorted(host.cells), len(cells)):
        picks = []
        for i, (gcell, hcell) in enumerate(zip(cells, hosts)):
            need = len(gcell.cpus) + (1 if i == 0 and cpu.isolate_emulator_thread else 0)
            got = pin.pick(host, free[hcell], need, policy)
            if got is None or _memory_short(spec, host, hcell, gcell.memory, check_memory):
                break
            picks.append(got)
        else:
            vcpus = [None] * cpu.vcpus
            held = []
            for gcell, (cpus, hold) in zip(cells, picks):
                for v, c in zip(gcell.cpus, cpus):
                    vcpus[v] = c
                held.extend(hold)
            placement.vcpus, placement.held = vcpus, sorted(held)
            placement.emulator = picks[0][0][-1] if cpu.isolate_emulator_thread else None
            _cells_to_host(spec, host, placement, list(zip(cells, hosts)), check_memory=False)
            return
    wants = ", ".join("guest cell %d: %d CPUs + %s" % (c.id, len(c.cpus), _size(c.memory)) for c in cells)
    raise SpecError([("cpu.numa.cells", "no %d distinct host NUMA cells hold %s%s; %s; %s"
                      % (len(cells), wants, _why(cpu), pin.describe_free(host, free, policy, taken),
                         _memory_text(spec, host)))])


def _cells_to_host(spec, host, placement, pairs, check_memory):
    """Guest cells onto host cells; a None host cell is chosen by memory (shared VMs with explicit cells)."""
    used = set(h for _g, h in pairs if h is not None)
    out = []
    for gcell, hcell in sorted(pairs, key=lambda p: p[0].id):
        if hcell is None:
            choices = [h for h in sorted(host.cells) if h not in used
                       and _memory_short(spec, host, h, gcell.memory, check_memory) is None]
            if not choices:
                raise SpecError([("cpu.numa.cells[%d]" % gcell.id, "no free host NUMA cell holds %s; %s"
                                  % (_size(gcell.memory), _memory_text(spec, host)))])
            hcell = choices[0]
            used.add(hcell)
        elif check_memory:
            _raise_if_short(spec, host, hcell, gcell.memory, "cpu.numa.cells[%d]" % gcell.id)
        out.append({"id": gcell.id, "cpus": list(gcell.cpus), "memory": gcell.memory, "host_cell": hcell})
    placement.guest_cells = out
    placement.memory_cells = sorted(set(c["host_cell"] for c in out))


def _memory_short(spec, host, cell, memory, check_memory):
    """None when `memory` bytes fit on host cell `cell`, else what is short."""
    if not check_memory:
        return None
    page = spec.memory.hugepages
    if page:
        need, free = memory // page, host.free_pages.get(cell, {}).get(page // 1024, 0)
        if free < need:
            return "need %d free %s pages (%s) on NUMA cell %d; cell %d has %d free" % (
                need, _size(page), _size(memory), cell, cell, free)
        return None
    free = host.free_memory.get(cell)
    if free is not None and free < memory:
        return "need %s of memory on NUMA cell %d; cell %d has %s available" % (_size(memory), cell, cell, _size(free))
    return None


def _raise_if_short(spec, host, cell, memory, field):
    short = _memory_short(spec, host, cell, memory, True)
    if short:
        raise SpecError([(field if not spec.memory.hugepages else "memory.hugepages", short)])


def _check_total_pages(spec, host):
    """Memory not bound to a cell: hugepages may come from any cell."""
    page = spec.memory.hugepages
    if not page:
        return
    need = spec.memory.guest // page
    free = sum(sizes.get(page // 1024, 0) for sizes in host.free_pages.values())
    if free < need:
        raise SpecError([("memory.hugepages", "need %d free %s pages (%s); the host has %d free (%s)"
                          % (need, _size(page), _size(spec.memory.guest), free, _pages_text(host, page)))])


def _pages_text(host, page):
    return ", ".join("cell %d: %d" % (cell, sizes.get(page // 1024, 0))
                     for cell, sizes in sorted(host.free_pages.items()))


def _memory_text(spec, host):
    page = spec.memory.hugepages
    if page:
        return "free %s pages: %s" % (_size(page), _pages_text(host, page))
    return "available memory: %s" % ", ".join("cell %d: %s" % (c, _size(b)) for c, b in sorted(host.free_memory.items()))


def _size(count):
    if count % 2 ** 30 == 0:
        return "%dGi" % (count // 2 ** 30)
    return "%dMi" % (count // MIB)
