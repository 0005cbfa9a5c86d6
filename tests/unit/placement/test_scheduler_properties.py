# -*- coding: utf-8 -*-
"""Properties of the scheduler on synthetic fleets, judged by the independent checker."""

from __future__ import annotations

import copy
import os
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.kvcompute.libvirt.plugins.module_utils.placement.inventory import place
from tests.support.placement_checker import check

sys.path.insert(0, os.path.dirname(__file__))
import fleet_strategies  # noqa: E402

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ratios = st.sampled_from((1, 4, 10))
overcommits = st.sampled_from((100, 150))
scorings = st.sampled_from(("spread", "pack"))


def _present(hostvars, result):
    """hostvars as kv_vm_info would find the fleet after kv_vm ran where kv_place said."""
    out = copy.deepcopy(hostvars)
    for host, options in result["vms_by_host"].items():
        out[host]["kv_present_vms"] = {"vms": [{"name": o["name"], "spec": o} for o in options]}
    return out


@SETTINGS
@given(fleet_strategies.fleets(), ratios, overcommits, scorings)
def test_every_placement_passes_the_checker(fleet, ratio, overcommit, scoring):
    hostvars, vms = fleet
    result = place(hostvars, list(hostvars), vms, ratio, overcommit, scoring)
    assert check(hostvars, list(hostvars), vms, result, ratio, overcommit) == []
    for reason in result["unplaced"].values():
        assert reason.startswith("0/%d hosts: " % len(hostvars))


@SETTINGS
@given(fleet_strategies.fleets(), scorings, st.randoms(use_true_random=False))
def test_deterministic_whatever_the_input_order(fleet, scoring, rnd):
    hostvars, vms = fleet
    first = place(hostvars, list(hostvars), vms, scoring=scoring)
    shuffled_vms, shuffled_hosts = list(vms), list(hostvars)
    rnd.shuffle(shuffled_vms)
    rnd.shuffle(shuffled_hosts)
    again = place(dict((h, hostvars[h]) for h in shuffled_hosts), shuffled_hosts, shuffled_vms, scoring=scoring)
    assert again == first


@SETTINGS
@given(fleet_strategies.fleets(), scorings)
def test_a_rerun_moves_nothing(fleet, scoring):
    hostvars, vms = fleet
    first = place(hostvars, list(hostvars), vms, scoring=scoring)
    there = _present(hostvars, first)
    again = place(there, list(there), vms, scoring=scoring)
    assert again["moved"] == {}
    assert again["placements"] == first["placements"]
    assert check(there, list(there), vms, again) == []


@SETTINGS
@given(fleet_strategies.fleets(max_vms=1))
def test_a_lone_vm_is_placed_when_some_host_can_take_it(fleet):
    """Completeness for one VM: unplaced only when the checker rejects it on every host."""
    hostvars, vms = fleet
    result = place(hostvars, list(hostvars), vms)
    if not vms or vms[0]["name"] in result["placements"]:
        return
    vm = vms[0]
    for host in hostvars:
        trial = {"placements": {vm["name"]: host}, "unplaced": {}, "order": [vm["name"]], "cells": {}}
        for cell in hostvars[host]["kv_host"]["cpu"]["numa_cells"]:
            cpu = vm.get("cpu") or {}
            if cpu.get("numa") or not (cpu.get("dedicated_cpu_placement") or (vm.get("memory") or {}).get("hugepages")):
                continue  # brute-force the one-cell case only
            from tests.support.placement_checker import vm_needs
            need = vm_needs(vm, 10, 100)
            trial["cells"] = {vm["name"]: [{"cell": cell["id"], "dedicated_cpus": need["dedicated"],
                                            "hugepages": need["pages"]}]}
            assert check(hostvars, list(hostvars), vms, trial), "%s fits %s cell %s" % (vm["name"], host, cell["id"])
        if not trial["cells"]:
            cpu = vm.get("cpu") or {}
            if not cpu.get("numa"):
                assert check(hostvars, list(hostvars), vms, trial), "%s fits %s: %s" % (
                    vm["name"], host, result["unplaced"][vm["name"]])


@SETTINGS
@given(fleet_strategies.fleets(), st.integers(0, 5))
def test_a_changed_host_only_moves_what_no_longer_fits(fleet, which):
    """Retaint one host: VMs elsewhere stay where they were."""
    hostvars, vms = fleet
    first = place(hostvars, list(hostvars), vms)
    there = _present(hostvars, first)
    target = sorted(there)[which % len(there)]
    there[target]["kv_node_taints"] = ["evict=now:NoExecute"]
    again = place(there, list(there), vms)
    assert check(there, list(there), vms, again) == []
    for vm, move in again["moved"].items():
        assert move["from"] == target, (vm, move)
