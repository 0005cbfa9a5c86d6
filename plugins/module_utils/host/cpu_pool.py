# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host as the CPU allocator sees it: pools, cores, NUMA cells, free memory and pages.

The pools come from the file the cpu_manager role writes
(`{"reserved": "0", "pool": "1-3"}`, Linux cpuset lists); without it every
online CPU is in the pool and none is reserved, as with kubelet's `none` policy.
Topology (cells, thread siblings) comes from libvirt's capabilities XML, free
memory and hugepages per cell from sysfs, all through a HostFS.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
from dataclasses import dataclass, field
from typing import Dict, List, Tuple

from ansible_collections.kvcompute.libvirt.plugins.module_utils.host import topology

POOL_FILE = "/etc/kvcompute/cpu_manager.json"


class PoolError(ValueError):
    """The pool file cannot be used; the message names the file and what is wrong."""


@dataclass
class HostCpus:
    """Plain data the pure planners take (plan/cpu_pinning.py, plan/numa_fit.py)."""

    cells: Dict[int, List[int]]  # host NUMA cell -> its online CPUs
    siblings: Dict[int, Tuple[int, ...]]  # CPU -> its thread siblings (itself included), online only
    pool: List[int]  # CPUs dedicated vCPUs may take
    reserved: List[int] = field(default_factory=list)  # the system's CPUs (never exclusive)
    free_memory: Dict[int, int] = field(default_factory=dict)  # cell -> bytes free
    free_pages: Dict[int, Dict[int, int]] = field(default_factory=dict)  # cell -> {page size KiB: free pages}
    source: str = POOL_FILE  # the pool file: domains placed with another file are not ours to count

    def cell_of(self, cpu):
        for cell, cpus in self.cells.items():
            if cpu in cpus:
                return cell
        return None

    @property
    def online(self):
        return sorted(c for cpus in self.cells.values() for c in cpus)

    @property
    def smt(self):
        return any(len(s) > 1 for s in self.siblings.values())


def format_cpuset(cpus):
    """[0, 1, 2, 5] -> '0-2,5' (the Linux list format libvirt and sysfs use)."""
    out, run = [], []
    for cpu in sorted(set(cpus)):
        if run and cpu == run[-1] + 1:
            run.append(cpu)
            continue
        if run:
            out.append(_span(run))
        run = [cpu]
    if run:
        out.append(_span(run))
    return ",".join(out)


def _span(run):
    return str(run[0]) if len(run) == 1 else "%d-%d" % (run[0], run[-1])


def parse_pools(text, path, online):
    """(reserved, pool) from the pool file's text; PoolError on anything unusable."""
    try:
        data = json.loads(text)
    except ValueError as err:
        raise PoolError("%s is not JSON: %s" % (path, err))
    if not isinstance(data, dict):
        raise PoolError("%s must hold a mapping with reserved and pool" % path)
    sets = {}
    for key in ("reserved", "pool"):
        value = data.get(key, "")
        if not isinstance(value, str) or not re.match(r"^[0-9,\- ^]*$", value):
            raise PoolError("%s: %s must be a cpuset string like '1-3,6', got %r" % (path, key, value))
        sets[key] = topology.parse_cpuset(value)
    if not sets["pool"] and "pool" not in data:
        sets["pool"] = [c for c in online if c not in sets["reserved"]]
    both = sorted(set(sets["reserved"]) & set(sets["pool"]))
    if both:
        raise PoolError("%s: CPUs %s are both reserved and in the pool" % (path, format_cpuset(both)))
    offline = sorted(set(sets["pool"]) - set(online))
    if offline:
        raise PoolError("%s: pool CPUs %s are not online on this host (online: %s)"
                        % (path, format_cpuset(offline), format_cpuset(online)))
    return sets["reserved"], sets["pool"]


def read_host(caps, fs, path=POOL_FILE):
    """HostCpus from parsed capabilities (host/topology.parse_capabilities) and the host's files."""
    online_text = fs.read("/sys/devices/system/cpu/online").strip() if fs.exists("/sys/devices/system/cpu/online") \
        else None
    known = [c["id"] for c in caps["cpus"]]
    online = set(topology.parse_cpuset(online_text)) & set(known) if online_text else set(known)
    cells, siblings = cells_and_siblings(caps, online)
    if fs.exists(path):
        reserved, pool = parse_pools(fs.read(path), path, sorted(online))
    else:
        reserved, pool = [], sorted(online)
    pages = topology.read_hugepages(fs)
    free_pages = dict((int(node), dict((int(size), counts["free"]) for size, counts in sizes.items()))
                      for node, sizes in pages.items())
    return HostCpus(cells=cells, siblings=siblings, pool=pool, reserved=reserved,
                    free_memory=read_free_memory(fs, cells), free_pages=free_pages, source=path)


def cells_and_siblings(caps, online):
    """({cell: its online CPUs}, {CPU: its online thread siblings}) from parsed capabilities."""
    cells = dict((cell["id"], [c for c in cell["cpus"] if c in online]) for cell in caps["cells"])
    siblings = dict((c["id"], tuple(s for s in c["siblings"] if s in online)) for c in caps["cpus"] if c["id"] in online)
    return cells, siblings


def read_free_memory(fs, cells):
    """Free bytes per cell from /sys/devices/system/node/nodeN/meminfo (MemFree), else /proc/meminfo."""
    free = {}
    for cell in cells:
        path = "/sys/devices/system/node/node%d/meminfo" % cell
        text = fs.read(path) if fs.exists(path) else ""
        match = re.search(r"MemFree:\s+([0-9]+) kB", text)
        if match:
            free[cell] = int(match.group(1)) * 1024
    if not free and len(cells) == 1 and fs.exists("/proc/meminfo"):
        match = re.search(r"MemFree:\s+([0-9]+) kB", fs.read("/proc/meminfo"))
        if match:
            free[list(cells)[0]] = int(match.group(1)) * 1024
    return free
