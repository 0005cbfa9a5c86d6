# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exclusive host CPUs for pinned vCPUs, by Nova's thread policies (pure).

A core is a set of thread siblings.  `free` is always a set of pool CPUs that
no other VM holds.  Thread policies, as Nova's hw:cpu_thread_policy means them:
  prefer   as few cores as hold the vCPUs, so siblings are used together, and a
           partly used core is finished before a whole one is broken;
  isolate  each CPU on its own, wholly free core; the other threads of that core
           are held too, so nothing else runs beside it (no SMT: one CPU per core anyway);
  require  only on an SMT host, and only on cores with at least two free threads,
           so vCPUs sit on thread siblings.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from dataclasses import dataclass, field
from typing import Dict, List, Optional

from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.cpu_pool import format_cpuset


@dataclass
class Placement:
    """Where one VM runs on the host; what domain/pinning.py, numa.py and hugepages.py render."""

    source: str  # the pool file the placement was made against
    online: List[int] = field(default_factory=list)
    vcpus: List[int] = field(default_factory=list)  # host CPU of each vCPU (dedicated), in vCPU order
    emulator: Optional[int] = None  # the isolated emulator thread's CPU
    held: List[int] = field(default_factory=list)  # isolate: sibling threads held idle
    shared: List[int] = field(default_factory=list)  # a shared VM's CPUs (pool minus everything exclusive)
    thread_policy: Optional[str] = None
    passthrough: bool = False  # cpu.numa.guest_mapping_passthrough
    memory_cells: List[int] = field(default_factory=list)  # host cells the memory is bound to (strict)
    guest_cells: List[dict] = field(default_factory=list)  # [{id, cpus, memory, host_cell}]
    page_kib: Optional[int] = None

    @property
    def exclusive(self):
        """Every CPU this VM holds alone."""
        extra = [self.emulator] if self.emulator is not None else []
        return sorted(set(self.vcpus + extra + self.held))


def cores(host, cpus):
    """{sibling tuple: sorted members of cpus in it} for the CPUs given."""
    out = {}
    for cpu in cpus:
        out.setdefault(host.siblings.get(cpu, (cpu,)), []).append(cpu)
    return dict((core, sorted(members)) for core, members in out.items())


def capacity(host, free, policy):
    """How many CPUs pick() can take from `free` under policy."""
    groups = cores(host, free)
    if policy == "isolate":
        return sum(1 for core, members in groups.items() if len(members) == len(core))
    if policy == "require":
        if not host.smt:
            return 0
        return sum(len(members) for members in groups.values() if len(members) >= 2)
    return len(free)


def pick(host, free, count, policy):
    """(CPUs in the order taken, held siblings) for `count` CPUs from `free`, or None when they do not fit."""
    if count <= 0:
        return [], []
    groups = cores(host, free)
    if policy == "isolate":
        whole = sorted((core for core, members in groups.items() if len(members) == len(core)), key=lambda c: c[0])
        if len(whole) < count:
            return None
        chosen = whole[:count]
        return [core[0] for core in chosen], sorted(c for core in chosen for c in core[1:])
    if policy == "require":
        if not host.smt:
            return None
        groups = dict((core, members) for core, members in groups.items() if len(members) >= 2)
    if sum(len(m) for m in groups.values()) < count:
        return None
    return _pack(list(groups.values()), count), []


def _pack(groups, count):
    """The fewest cores: the largest groups until one holds the rest, then the smallest group that does
    (so a partly used core is finished before a whole one is broken)."""
    taken, left = [], count
    groups = sorted(groups, key=lambda m: (-len(m), m[0]))
    while left:
        if len(groups[0]) >= left:
            members = min((m for m in groups if len(m) >= left), key=lambda m: (len(m), m[0]))
        else:
            members = groups[0]
        groups.remove(members)
        taken.extend(members[:left])
        left -= min(left, len(members))
    return taken


def shared_cpus(host, taken):
    """Where shared VMs float: the pool minus every exclusive CPU, else the reserved CPUs, else all online."""
    rest = [c for c in host.pool if c not in taken]
    return rest or list(host.reserved) or host.online


def describe_free(host, free_by_cell, policy, taken):
    """'cell 0 has 1 free (CPU 1); cell 1 has 0 free' plus who holds the rest, for error messages."""
    parts = []
    for cell in sorted(free_by_cell):
        free = free_by_cell[cell]
        usable = capacity(host, free, policy)
        what = "%d free" % usable
        if policy != "prefer":
            what += " for thread_policy %s" % policy
        parts.append("cell %d has %s%s" % (cell, what, " (CPU %s)" % format_cpuset(free) if free else ""))
    holders = {}
    for cpu, name in sorted(taken.items()):
        holders.setdefault(name, []).append(cpu)
    text = "; ".join(parts)
    text += "; the pool is %s" % (format_cpuset(host.pool) or "empty")
    if holders:
        text += "; held by %s" % ", ".join("%s (%s)" % (n, format_cpuset(c)) for n, c in sorted(holders.items()))
    return text


def free_by_cell(host, taken):
    pool = set(host.pool)
    return dict((cell, [c for c in cpus if c in pool and c not in taken]) for cell, cpus in host.cells.items())


def count_of(cpu_spec):
    """Exclusive CPUs one VM needs: one per vCPU, one more for an isolated emulator thread."""
    return cpu_spec.vcpus + (1 if cpu_spec.isolate_emulator_thread else 0)


TakenMap = Dict[int, str]
