# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Why a VM fits nowhere, summarised like the Kubernetes scheduler's event.

Each host is run through the filters in the scheduler's order and stops at the
first that fails (the requests filter names every request short), then equal
reasons are counted: "0/5 hosts: 3 insufficient 2Mi hugepages, 2 did not match
nodeSelector".
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.placement.constraints import untolerated


def host_reasons(scheduler, vm, i):
    """The reasons host i rejects this VM now (empty: it would take it)."""
    fleet, bit = scheduler.fleet, 1 << i
    if not fleet.selector_mask(vm.node_selector) & bit:
        return ["did not match nodeSelector"]
    if not fleet.required_mask(vm.required_terms) & bit:
        return ["did not match node affinity"]
    if not fleet.toleration_mask(vm.tolerations) & bit:
        taint = untolerated(vm.tolerations, fleet.hosts[i].taints)[0]
        return ["had untolerated taint {%s: %s}" % (taint.key, taint.value)]
    pods = scheduler.pods
    own = 0
    for term in vm.anti_affinity:
        own |= pods.near(term)
    if own & bit:
        return ["did not match VM anti-affinity rules"]
    if pods.forbidden(vm) & bit:
        return ["did not satisfy existing VMs' anti-affinity rules"]
    if not pods.allowed(vm) & bit:
        return ["did not match VM affinity rules"]
    return scheduler.states[i].shortfalls(vm)[0]


def summary(scheduler, vm):
    counts = {}
    total = len(scheduler.states)
    for i in range(total):
        for reason in host_reasons(scheduler, vm, i):
            counts[reason] = counts.get(reason, 0) + 1
    if not total:
        return "0/0 hosts: no hosts to place on"
    parts = ["%d %s" % (n, reason) for reason, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    return "0/%d hosts: %s" % (total, ", ".join(parts) or "no reason found")
