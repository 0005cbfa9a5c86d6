# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kv_place's work, minus Ansible: inventory hostvars + VM items -> placement result.

Each host's hostvars give its kv_host_info facts (`facts_var`), `kv_node_labels`,
`kv_node_taints`, `kv_node_devices`, and what kv_vm_info found on it
(`present_var`): VMs of the request found there are where they are now; other
VMs there only take capacity.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.placement.hosts import read_host
from ansible_collections.kvcompute.libvirt.plugins.module_utils.placement.model import SCORING
from ansible_collections.kvcompute.libvirt.plugins.module_utils.placement.requests import read_vm, read_vms
from ansible_collections.kvcompute.libvirt.plugins.module_utils.placement.scheduler import schedule
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.errors import SpecError
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.fields import Fields


def _settings(cpu_allocation_ratio, memory_overcommit, scoring, problems):
    f = Fields("", {"cpu_allocation_ratio": cpu_allocation_ratio, "memory_overcommit": memory_overcommit,
                    "scoring": scoring}, problems)
    return (f.integer("cpu_allocation_ratio", 10, minimum=1), f.integer("memory_overcommit", 100, minimum=1),
            f.text("scoring", "spread", choices=SCORING))


def _present(value):
    """VM entries of a kv_vm_info result (registered dict or its list)."""
    if isinstance(value, dict):
        value = value.get("vms")
    return [v for v in value or [] if isinstance(v, dict) and v.get("name")]


def place(hostvars, host_names, vm_items, cpu_allocation_ratio=10, memory_overcommit=100, scoring="spread",
          facts_var="kv_host", present_var="kv_present_vms"):
    """The kv_place result as a dict, or SpecError naming every bad field before anything is placed."""
    problems = []
    ratio, overcommit, scoring = _settings(cpu_allocation_ratio, memory_overcommit, scoring, problems)
    hosts = []
    for name in sorted(set(host_names)):
        hv = hostvars.get(name)
        if hv is None:
            problems.append(("hosts", "%r is not an inventory host" % name))
            continue
        host, found = read_host(name, hv.get(facts_var), hv.get("kv_node_labels"), hv.get("kv_node_taints"),
                                hv.get("kv_node_devices"), facts_var)
        problems.extend(found)
        if host is not None:
            hosts.append(host)
    vms, found = read_vms(vm_items, ratio, overcommit)
    problems.extend(found)
    if problems:
        raise SpecError(problems)
    wanted = set(vm.name for vm in vms)
    current, fixed = {}, {}
    for host in hosts:
        for entry in _present(hostvars[host.name].get(present_var)):
            if entry["name"] in wanted:
                current.setdefault(entry["name"], host.name)
            else:
                spec = dict(entry.get("spec") or {}, name=entry["name"])
                fixed.setdefault(host.name, []).append(read_vm(Fields("", spec, []), ratio, overcommit))
    res = schedule(hosts, vms, current=current, fixed=fixed, scoring=scoring)
    by_host = dict((h.name, []) for h in hosts)
    for vm in sorted(vms, key=lambda v: v.name):
        if vm.name in res.placements:
            by_host[res.placements[vm.name]].append(vm.options)
    return {"placements": res.placements, "unplaced": res.unplaced, "moved": res.moved, "cells": res.cells,
            "order": res.order, "hosts": res.hosts, "vms_by_host": by_host,
            "settings": {"cpu_allocation_ratio": ratio, "memory_overcommit": overcommit, "scoring": scoring}}
