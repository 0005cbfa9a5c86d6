# -*- coding: utf-8 -*-
"""Synthetic fleets for kv_place: inventory hostvars and VM items, as the action plugin gets them.

Seeded and plain (random.Random), so the benchmark and the tests build the
same mixed fleets: zones, racks, CPU generations, tainted and GPU hosts,
hugepages on some cells; shared, dedicated, hugepage and GPU VMs with
selectors, node affinity of every operator, anti-affinity and affinity groups.
"""

from __future__ import annotations

import random

GPU = "nvidia.com/TU104GL_Tesla_T4"
GIB = 2 ** 30


def host_facts(cells=2, cpus_per_cell=16, memory_per_cell=64 * GIB, pages_2m=0, pages_1g=0):
    out, cpu = [], 0
    for cell in range(cells):
        pages = {}
        if pages_2m:
            pages["2048"] = {"total": pages_2m, "free": pages_2m}
        if pages_1g:
            pages["1048576"] = {"total": pages_1g, "free": pages_1g}
        out.append({"id": cell, "cpus": list(range(cpu, cpu + cpus_per_cell)), "memory_bytes": memory_per_cell,
                    "hugepages": pages})
        cpu += cpus_per_cell
    return {"cpu": {"count": cpu, "numa_cells": out}}


def hosts(n, rng):
    hv = {}
    for i in range(n):
        name = "host%04d" % i
        labels = {"zone": "zone-%s" % "abcde"[i % 5], "rack": "r%d" % (i // 20), "cpu-gen": str(3 + i % 4)}
        if i % 7 == 0:
            labels["ssd"] = "true"
        entry = {"kv_host": host_facts(cpus_per_cell=rng.choice((8, 16, 32)), memory_per_cell=rng.choice((32, 64, 128)) * GIB,
                                       pages_2m=rng.choice((0, 0, 2048, 8192)), pages_1g=rng.choice((0, 0, 0, 16))),
                 "kv_node_labels": labels}
        if i % 10 == 0:
            entry["kv_node_devices"] = {GPU: 4}
            entry["kv_node_taints"] = [{"key": "gpu", "value": "true", "effect": "NoSchedule"}]
        if i % 50 == 1:
            entry["kv_node_taints"] = ["maintenance=soon:PreferNoSchedule"]
        hv[name] = entry
    return hv


def _expr(rng):
    kind = rng.randrange(6)
    if kind == 0:
        return {"key": "zone", "operator": "In", "values": rng.sample(["zone-a", "zone-b", "zone-c", "zone-d", "zone-e"], 2)}
    if kind == 1:
        return {"key": "zone", "operator": "NotIn", "values": ["zone-e"]}
    if kind == 2:
        return {"key": "ssd", "operator": "Exists"}
    if kind == 3:
        return {"key": "ssd", "operator": "DoesNotExist"}
    if kind == 4:
        return {"key": "cpu-gen", "operator": "Gt", "values": [str(rng.choice((3, 4)))]}
    return {"key": "cpu-gen", "operator": "Lt", "values": [str(rng.choice((5, 6)))]}


def vms(n, rng, groups=None):
    """n VM items; anti-affinity groups of `groups` apps spread over hosts, affinity pairs by zone."""
    groups = groups or max(1, n // 10)
    out = []
    for i in range(n):
        kind = rng.random()
        vm = {"name": "vm%05d" % i, "labels": {"app": "app%d" % (i % groups)},
              "cpu": {"sockets": rng.choice((1, 2, 4))}, "memory": {"guest": "%dMi" % rng.choice((512, 1024, 2048, 4096))}}
        if kind < 0.10:
            vm["cpu"]["dedicated_cpu_placement"] = True
        elif kind < 0.20:
            vm["memory"] = {"guest": "2Gi", "hugepages": {"page_size": "2Mi"}}
        elif kind < 0.23:
            vm["gpus"] = [{"name": "gpu1", "device_name": GPU}]
            vm["tolerations"] = [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}]
        elif kind < 0.25:
            vm["cpu"] = {"sockets": 2, "dedicated_cpu_placement": True, "numa": {"guest_mapping_passthrough": True}}
            vm["memory"] = {"guest": "2Gi", "hugepages": {"page_size": "1Gi"}}
        pick = rng.random()
        if pick < 0.2:
            vm["node_selector"] = {"zone": "zone-%s" % rng.choice("abcde")}
        elif pick < 0.4:
            term = {"match_expressions": [_expr(rng) for _count in range(rng.choice((1, 2)))]}
            vm["affinity"] = {"node_affinity": {
                "required_during_scheduling_ignored_during_execution": {"node_selector_terms": [term]}}}
        elif pick < 0.5:
            vm["affinity"] = {"node_affinity": {"preferred_during_scheduling_ignored_during_execution": [
                {"weight": rng.randint(1, 100), "preference": {"match_expressions": [_expr(rng)]}}]}}
        app = {"label_selector": {"match_labels": {"app": vm["labels"]["app"]}}}
        spread = rng.random()
        if spread < 0.3:
            vm.setdefault("affinity", {})["pod_anti_affinity"] = {
                "required_during_scheduling_ignored_during_execution": [dict(app, topology_key="kubernetes.io/hostname")]}
        elif spread < 0.33:
            vm.setdefault("affinity", {})["pod_affinity"] = {
                "required_during_scheduling_ignored_during_execution": [dict(app, topology_key="zone")]}
        elif spread < 0.4:
            vm.setdefault("affinity", {})["pod_anti_affinity"] = {
                "preferred_during_scheduling_ignored_during_execution": [
                    {"weight": 50, "pod_affinity_term": dict(app, topology_key="rack")}]}
        out.append(vm)
    return out


def fleet(n_hosts, n_vms, seed=1):
    rng = random.Random(seed)
    return hosts(n_hosts, rng), vms(n_vms, rng)
