# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What is left on one host, and whether a VM's requests fit there.

CPU (millicores, requests with the allocation ratio already applied), ordinary
memory (overcommit already applied to the request), host devices by resource
name, and per NUMA cell the dedicated CPUs and hugepages per size.  Cell-bound
needs follow Nova's rule: a VM without guest NUMA gets them from one host cell;
guest_mapping_passthrough may spread them; explicit guest cells each take a
host cell of their own.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.placement.model import page_label


class HostState:
    __slots__ = ("host", "cpu_used", "mem_used", "devices_used", "cell_ids", "cell_cpus", "cell_pages", "vms")

    def __init__(self, host):
        self.host = host
        self.cpu_used = 0
        self.mem_used = 0
        self.devices_used = {}
        self.cell_ids = [c.id for c in host.cells]
        self.cell_cpus = [c.cpus for c in host.cells]  # free dedicated CPUs per cell
        self.cell_pages = [dict(c.pages) for c in host.cells]  # free pages per cell and size
        self.vms = []

    def utilization(self):
        """Mean of the CPU and memory fractions requested (1.0 where a host has none)."""
        host = self.host
        cpu = self.cpu_used / float(host.cpu_milli) if host.cpu_milli else 1.0
        mem = self.mem_used / float(host.memory) if host.memory else 1.0
        return (cpu + mem) / 2.0

    def free_pages(self, kib):
        return sum(p.get(kib, 0) for p in self.cell_pages)

    def device_free(self, resource):
        return self.host.devices.get(resource, 0) - self.devices_used.get(resource, 0)

    def shortfalls(self, vm):
        """Reasons this VM's requests do not fit here (empty: they fit); also the cell split."""
        host, reasons = self.host, []
        if vm.cpu_milli and self.cpu_used + vm.cpu_milli > host.cpu_milli:
            reasons.append("insufficient cpu")
        if vm.memory and self.mem_used + vm.memory > host.memory:
            reasons.append("insufficient memory")
        for resource in sorted(vm.devices):
            if self.device_free(resource) < vm.devices[resource]:
                reasons.append("insufficient %s" % resource)
        split = None
        if vm.cell_bound:
            short = False
            if vm.dedicated_cpus and sum(self.cell_cpus) < vm.dedicated_cpus:
                reasons.append("insufficient dedicated CPUs")
                short = True
            if vm.pages and self.free_pages(vm.page_kib) < vm.pages:
                reasons.append("insufficient %s hugepages" % page_label(vm.page_kib))
                short = True
            if not short:
                split = self.cell_split(vm)
                if split is None:
                    reasons.append("no NUMA cell fits its dedicated CPUs and hugepages"
                                   if vm.numa != "cells" else "NUMA cells do not fit its guest NUMA cells")
        return reasons, split

    def _free(self, i, kib):
        return self.cell_cpus[i], self.cell_pages[i].get(kib, 0) if kib else 0

    def cell_split(self, vm):
        """[(cell id, cpus, pages)] that covers the VM's cell-bound needs, or None."""
        order = sorted(range(len(self.cell_ids)), key=lambda i: (-self.cell_cpus[i], -self._free(i, vm.page_kib)[1], i))
        if vm.numa == "none":
            for i in order:
                cpus, pages = self._free(i, vm.page_kib)
                if cpus >= vm.dedicated_cpus and pages >= vm.pages:
                    return [(self.cell_ids[i], vm.dedicated_cpus, vm.pages)]
            return None
        if vm.numa == "passthrough":
            need_cpus, need_pages, split = vm.dedicated_cpus, vm.pages, []
            for i in order:
                cpus, pages = self._free(i, vm.page_kib)
                take = (min(cpus, need_cpus), min(pages, need_pages))
                if take[0] or take[1]:
                    split.append((self.cell_ids[i], take[0], take[1]))
                    need_cpus, need_pages = need_cpus - take[0], need_pages - take[1]
            return split if not need_cpus and not need_pages else None
        used, split = set(), []
        for cell in sorted(vm.guest_cells, key=lambda c: (-c.cpus, -c.pages)):
            for i in order:
                cpus, pages = self._free(i, vm.page_kib)
                if i not in used and cpus >= cell.cpus and pages >= cell.pages:
                    used.add(i)
                    split.append((self.cell_ids[i], cell.cpus, cell.pages))
                    break
            else:
                return None
        return split

    def add(self, vm, split):
        """Count a VM here (split from shortfalls; None for a VM taken as it is, fit or not)."""
        self.cpu_used += vm.cpu_milli
        self.mem_used += vm.memory
        for resource, count in vm.devices.items():
            self.devices_used[resource] = self.devices_used.get(resource, 0) + count
        if vm.cell_bound and split is None:
            split = self._forced_split(vm)
        for cell_id, cpus, pages in split or ():
            i = self.cell_ids.index(cell_id)
            self.cell_cpus[i] -= cpus
            if pages:
                self.cell_pages[i][vm.page_kib] = self.cell_pages[i].get(vm.page_kib, 0) - pages
        self.vms.append(vm.name)
        return split

    def _forced_split(self, vm):
        """A VM already on the host that no longer fits: charge its first cell (may go below zero)."""
        return self.cell_split(vm) or ([(self.cell_ids[0], vm.dedicated_cpus, vm.pages)] if self.cell_ids else [])

    def summary(self):
        host = self.host
        out = {
            "vms": sorted(self.vms),
            "cpu": {"allocatable": "%dm" % host.cpu_milli, "requested": "%dm" % self.cpu_used},
            "memory": {"allocatable": host.memory, "requested": self.mem_used},
            "cells": [],
        }
        if host.devices:
            out["devices"] = dict((r, {"allocatable": n, "requested": self.devices_used.get(r, 0)})
                                  for r, n in host.devices.items())
        for i, cell in enumerate(host.cells):
            out["cells"].append({
                "id": cell.id,
                "dedicated_cpus": {"allocatable": cell.cpus, "requested": cell.cpus - self.cell_cpus[i]},
                "hugepages": dict((page_label(kib), {"allocatable": total, "requested": total - self.cell_pages[i].get(kib, 0)})
                                  for kib, total in sorted(cell.pages.items()) if total),
            })
        return out
