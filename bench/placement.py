"""Placement: kv_place's scheduler against a plain first-fit, on one synthetic fleet, in one run.

10,000 VMs with mixed constraints (selectors, node affinity of every operator,
taints, anti-affinity and affinity groups, dedicated CPUs, hugepages, GPUs) on
1,000 hosts (tests/support/placement_fleet.py, seed 1).  Both results are
judged by the independent checker (tests/support/placement_checker.py).
Printed: times (wall and CPU), VMs placed, the checker's verdict, the ratios,
and a re-run with every VM where it was placed (it should move none).
No thresholds (see docs/benchmarks.md).

    .venv/bin/python bench/placement.py [--hosts 1000] [--vms 10000] [--seed 1]
"""

import argparse
import copy
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / ".cache" / "collections"))

# pylint: disable=wrong-import-position
from ansible_collections.kvcompute.libvirt.plugins.module_utils.placement.accounting import HostState  # noqa: E402
from ansible_collections.kvcompute.libvirt.plugins.module_utils.placement.constraints import (  # noqa: E402
    expr_matches,
    selector_matches,
    untolerated,
)
from ansible_collections.kvcompute.libvirt.plugins.module_utils.placement.hosts import read_host  # noqa: E402
from ansible_collections.kvcompute.libvirt.plugins.module_utils.placement.inventory import place  # noqa: E402
from ansible_collections.kvcompute.libvirt.plugins.module_utils.placement.requests import read_vms  # noqa: E402
from tests.support.placement_checker import check  # noqa: E402
from tests.support.placement_fleet import fleet  # noqa: E402


def first_fit(hostvars, items):
    """The plain way: each VM in the order given, on the first host (by name) that passes every filter.

    VM (anti-)affinity looks only at the VMs of the host's own topology domain (a dict by label), so the
    baseline is plain in how it chooses, not slow on purpose.
    """
    hosts = [read_host(name, hostvars[name]["kv_host"], hostvars[name].get("kv_node_labels"),
                       hostvars[name].get("kv_node_taints"), hostvars[name].get("kv_node_devices"))[0]
             for name in sorted(hostvars)]
    vms, _problems = read_vms(items)
    states = [HostState(h) for h in hosts]
    domains = {}  # (topology key, value) -> VMs placed there
    placed = []
    anti_keys = sorted(set(t.topology_key for vm in vms for t in vm.anti_affinity))
    keys = sorted(set(t.topology_key for vm in vms for t in vm.anti_affinity + vm.affinity))
    out = {"placements": {}, "unplaced": {}, "cells": {}, "order": []}

    def near(host, key):
        return domains.get((key, host.labels[key]), ()) if key in host.labels else ()

    def pods_ok(vm, host):
        if any(selector_matches(t.selector, o.labels) for t in vm.anti_affinity for o in near(host, t.topology_key)):
            return False
        if any(t.topology_key == key and selector_matches(t.selector, vm.labels)
               for key in anti_keys for o in near(host, key) for t in o.anti_affinity):
            return False
        return all(any(selector_matches(t.selector, o.labels) for o in near(host, t.topology_key))
                   or (selector_matches(t.selector, vm.labels)
                       and not any(selector_matches(t.selector, o.labels) for o in placed))
                   for t in vm.affinity)

    for vm in vms:
        for state in states:
            host = state.host
            if any(host.labels.get(k) != v for k, v in vm.node_selector):
                continue
            if vm.required_terms is not None and not any(
                    t and all(expr_matches(e, host.labels) for e in t) for t in vm.required_terms):
                continue
            if untolerated(vm.tolerations, host.taints) or not pods_ok(vm, host):
                continue
            reasons, split = state.shortfalls(vm)
            if reasons:
                continue
            state.add(vm, split)
            placed.append(vm)
            for key in keys:
                if key in host.labels:
                    domains.setdefault((key, host.labels[key]), []).append(vm)
            out["placements"][vm.name] = host.name
            out["order"].append(vm.name)
            if split:
                out["cells"][vm.name] = [{"cell": c, "dedicated_cpus": n, "hugepages": p} for c, n, p in split]
            break
        else:
            out["unplaced"][vm.name] = "no host"
    return out


def timed(work):
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def verdict(violations):
    return "valid (0 violations)" if not violations else "%d VIOLATIONS, first: %s" % (len(violations), violations[0])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--vms", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    hostvars, items = fleet(args.hosts, args.vms, args.seed)
    names = list(hostvars)
    print("fleet: %d hosts, %d VMs (seed %d)" % (len(hostvars), len(items), args.seed))

    ours, wall, cpu = timed(lambda: place(hostvars, names, items))
    print("kv_place  : %6.2f s wall, %6.2f s CPU; placed %d, unplaced %d; checker: %s"
          % (wall, cpu, len(ours["placements"]), len(ours["unplaced"]), verdict(check(hostvars, names, items, ours))))

    base, bwall, bcpu = timed(lambda: first_fit(hostvars, items))
    print("first-fit : %6.2f s wall, %6.2f s CPU; placed %d, unplaced %d; checker: %s"
          % (bwall, bcpu, len(base["placements"]), len(base["unplaced"]), verdict(check(hostvars, names, items, base))))
    print("ratio     : first-fit CPU time / kv_place CPU time = %.2f; VMs placed kv_place / first-fit = %.3f"
          % (bcpu / cpu, len(ours["placements"]) / max(1, len(base["placements"]))))

    there = copy.deepcopy(hostvars)
    for host, options in ours["vms_by_host"].items():
        there[host]["kv_present_vms"] = {"vms": [{"name": o["name"], "spec": o} for o in options]}
    again, rwall, rcpu = timed(lambda: place(there, names, items))
    print("re-run    : %6.2f s wall, %6.2f s CPU; moved %d, placements unchanged: %s"
          % (rwall, rcpu, len(again["moved"]), again["placements"] == ours["placements"]))
    reasons = {}
    for text in ours["unplaced"].values():
        for part in text.split(": ", 1)[1].split(", "):
            reason = part.split(" ", 1)[1]
            reasons[reason] = reasons.get(reason, 0) + 1
    print("why unplaced (VMs naming each reason): %s" % ", ".join(
        "%s %d" % kv for kv in sorted(reasons.items(), key=lambda kv: -kv[1])[:6]))


if __name__ == "__main__":
    main()
