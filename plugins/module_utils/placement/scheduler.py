# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""VM -> host, the Kubernetes scheduler's way: filter, then score; pure and deterministic.

1. VMs already on a host (`current`) stay there when that host still passes
   every filter with them counted: no flapping.  Others already on a host
   (`fixed`, not in the request) only use capacity.
2. The rest are placed largest first (dedicated CPUs, hugepages, CPU, memory,
   then name), each on the best host that passes the filters: nodeSelector,
   required node affinity, taints, VM anti-affinity (both ways), required VM
   affinity, then the requests.  Best: the highest sum of matched preferences
   (preferred node affinity, preferred VM (anti-)affinity, and half a point
   for tolerating every PreferNoSchedule taint), then the least requested host
   (spread) or the most (pack), then the host name.
3. VMs held back only by VM affinity are tried again while that places more.
4. Each VM that fits nowhere gets a summary of why (explain.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import bisect
from dataclasses import dataclass, field
from typing import Dict, List

from ansible_collections.kvcompute.libvirt.plugins.module_utils.placement import explain
from ansible_collections.kvcompute.libvirt.plugins.module_utils.placement.accounting import HostState
from ansible_collections.kvcompute.libvirt.plugins.module_utils.placement.affinity import AffinityIndex
from ansible_collections.kvcompute.libvirt.plugins.module_utils.placement.constraints import Fleet, bits

SMALL = 48  # at most this many candidates: rank them directly instead of walking the host order
SOFT_TAINT_WEIGHT = 0.5


@dataclass
class Result:
    placements: Dict[str, str] = field(default_factory=dict)
    unplaced: Dict[str, str] = field(default_factory=dict)
    moved: Dict[str, dict] = field(default_factory=dict)  # vm -> {'from', 'to'} (to None when unplaced)
    cells: Dict[str, list] = field(default_factory=dict)  # vm -> [{'cell', 'dedicated_cpus', 'hugepages'}]
    order: List[str] = field(default_factory=list)  # the order VMs were placed in (kept ones first)
    hosts: Dict[str, dict] = field(default_factory=dict)  # host -> allocation summary


def _size(vm):
    return (-vm.dedicated_cpus, -(vm.pages * (vm.page_kib or 0)), -vm.cpu_milli, -vm.memory, vm.name)


class Scheduler:
    def __init__(self, hosts, vms, scoring="spread", fixed=None):
        self.fleet = Fleet(hosts)
        self.states = [HostState(h) for h in self.fleet.hosts]
        self.sign = 1 if scoring == "spread" else -1
        self.pods = AffinityIndex(self.fleet, vms)
        for name, load in sorted((fixed or {}).items()):
            if name in self.fleet.index:
                for vm in load:
                    self.states[self.fleet.index[name]].add(vm, None)
        self.keys = [self.sign * s.utilization() for s in self.states]
        self.order = sorted((k, i) for i, k in enumerate(self.keys))
        self.avail = {}  # ('dev', name) / ('pages', kib) / ('dedicated',) -> hosts with some left
        self.result = Result()

    # Masks that do not change while placing.
    def static(self, vm):
        fleet = self.fleet
        return (fleet.selector_mask(vm.node_selector) & fleet.required_mask(vm.required_terms)
                & fleet.toleration_mask(vm.tolerations))

    def _avail_keys(self, vm):
        keys = [("dev", r) for r in vm.devices]
        if vm.pages:
            keys.append(("pages", vm.page_kib))
        if vm.dedicated_cpus:
            keys.append(("dedicated",))
        return keys

    def _has_left(self, state, key):
        if key[0] == "dev":
            return state.device_free(key[1]) > 0
        if key[0] == "pages":
            return state.free_pages(key[1]) > 0
        return sum(state.cell_cpus) > 0

    def _avail(self, key):
        mask = self.avail.get(key)
        if mask is None:
            mask = self.avail[key] = sum(1 << i for i, s in enumerate(self.states) if self._has_left(s, key))
        return mask

    def candidates(self, vm):
        mask = self.static(vm) & ~self.pods.forbidden(vm) & self.pods.allowed(vm)
        for key in self._avail_keys(vm):
            mask &= self._avail(key)
        return mask

    def tiers(self, vm, mask):
        """Candidate masks, best preference score first."""
        terms = [(w, self.fleet.term_mask(t)) for w, t in vm.preferred_terms] + self.pods.preferences(vm)
        terms.append((SOFT_TAINT_WEIGHT, self.fleet.toleration_mask(vm.tolerations, ("PreferNoSchedule",))))
        groups = {0: mask}
        for weight, term in terms:
            refined = {}
            for score, group in groups.items():
                for s, g in ((score + weight, group & term), (score, group & ~term)):
                    if g:
                        refined[s] = refined.get(s, 0) | g
            groups = refined
        return [groups[s] for s in sorted(groups, reverse=True)]

    def fits(self, vm, i):
        """(whether the VM's requests fit on host i, the cell split they take)."""
        reasons, split = self.states[i].shortfalls(vm)
        return not reasons, split

    def choose(self, vm):
        """(host index, cell split) or None."""
        mask = self.candidates(vm)
        if not mask:
            return None
        for tier in self.tiers(vm, mask):
            if bin(tier).count("1") <= SMALL:
                ranked = sorted((self.keys[i], i) for i in bits(tier))
            else:
                ranked = (entry for entry in self.order if tier >> entry[1] & 1)
            for _key, i in ranked:
                ok, split = self.fits(vm, i)
                if ok:
                    return i, split
        return None

    def commit(self, vm, i, split):
        state = self.states[i]
        split = state.add(vm, split)
        self.pods.add(vm, state.host)
        old = (self.keys[i], i)
        del self.order[bisect.bisect_left(self.order, old)]
        self.keys[i] = self.sign * state.utilization()
        bisect.insort(self.order, (self.keys[i], i))
        for key in self._avail_keys(vm):
            if key in self.avail and not self._has_left(state, key):
                self.avail[key] &= ~(1 << i)
        res = self.result
        res.placements[vm.name] = state.host.name
        res.order.append(vm.name)
        if split:
            res.cells[vm.name] = [{"cell": c, "dedicated_cpus": n, "hugepages": p} for c, n, p in split]

    def _stay(self, vm, i):
        """Keep a VM on host i, where it is now, if that host still takes it.

        As for a running pod: its node rules, NoExecute taints, anti-affinity and
        requests are checked again; required VM affinity and NoSchedule taints
        only count when a VM is placed (IgnoredDuringExecution).
        """
        fleet = self.fleet
        mask = (fleet.selector_mask(vm.node_selector) & fleet.required_mask(vm.required_terms)
                & fleet.toleration_mask(vm.tolerations, ("NoExecute",)) & ~self.pods.forbidden(vm))
        if not mask >> i & 1:
            return False
        ok, split = self.fits(vm, i)
        if ok:
            self.commit(vm, i, split)
        return ok

    def run(self, vms, current=None):
        current = current or {}
        res = self.result
        staying = sorted((vm for vm in vms if current.get(vm.name) in self.fleet.index), key=lambda v: v.name)
        pending = [vm for vm in vms if current.get(vm.name) not in self.fleet.index]
        while staying:  # again while more stay: a VM's affinity may need a VM later in the list
            left = [vm for vm in staying if not self._stay(vm, self.fleet.index[current[vm.name]])]
            progress, staying = len(left) < len(staying), left
            if not progress:
                break
        pending.extend(staying)
        for vm in staying:  # still defined where it was until it is migrated: its old host keeps its load
            where = self.fleet.index.get(current.get(vm.name))
            if where is not None:
                self.states[where].add(vm, None)
        self._reorder()
        pending.sort(key=_size)
        while pending:
            failed = [vm for vm in pending if not self._place(vm)]
            progress, pending = len(failed) < len(pending), failed
            if not progress or not any(vm.affinity for vm in failed):
                break
        for vm in pending:
            res.unplaced[vm.name] = explain.summary(self, vm)
        for vm in vms:
            before = current.get(vm.name)
            after = res.placements.get(vm.name)
            if before is not None and before != after:
                res.moved[vm.name] = {"from": before, "to": after}
        res.hosts = dict((s.host.name, s.summary()) for s in self.states)
        return res

    def _place(self, vm):
        chosen = self.choose(vm)
        if chosen is not None:
            self.commit(vm, *chosen)
        return chosen is not None

    def _reorder(self):
        self.keys = [self.sign * s.utilization() for s in self.states]
        self.order = sorted((k, i) for i, k in enumerate(self.keys))
        self.avail = {}


def schedule(hosts, vms, current=None, fixed=None, scoring="spread"):
    """Place `vms` (model.VM) on `hosts` (model.Host); see the module docstring.

    current: {vm name: host name} where VMs of `vms` are now; fixed: {host name:
    [model.VM]} other VMs on the hosts.  Returns a Result.
    """
    return Scheduler(hosts, vms, scoring, fixed).run(vms, current)
