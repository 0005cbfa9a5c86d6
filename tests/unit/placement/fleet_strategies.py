# -*- coding: utf-8 -*-
"""Hypothesis strategies for small synthetic fleets: kv_place's hostvars and VM items.

Vocabularies are small on purpose (3 zones, 2 apps, a few sizes) so that
selectors, affinities and capacity limits collide often.
"""

from __future__ import annotations

from hypothesis import strategies as st

from tests.support.placement_fleet import GPU, host_facts

ZONES = ("a", "b", "c")
APPS = ("web", "db")
HOSTNAME = "kubernetes.io/hostname"
REQ = "required_during_scheduling_ignored_during_execution"
PREF = "preferred_during_scheduling_ignored_during_execution"


@st.composite
def host_entry(draw):
    entry = {"kv_host": host_facts(cells=draw(st.integers(1, 2)), cpus_per_cell=draw(st.sampled_from((1, 2, 4))),
                                   memory_per_cell=draw(st.sampled_from((1, 2, 4))) * 2 ** 30,
                                   pages_2m=draw(st.sampled_from((0, 256, 1024))), pages_1g=draw(st.sampled_from((0, 1)))),
             "kv_node_labels": {"zone": draw(st.sampled_from(ZONES)), "gen": str(draw(st.integers(1, 4)))}}
    if draw(st.booleans()):
        entry["kv_node_labels"]["ssd"] = "true"
    taint = draw(st.sampled_from((None, "gpu=true:NoSchedule", "drain=yes:NoExecute", "old=yes:PreferNoSchedule")))
    if taint:
        entry["kv_node_taints"] = [taint]
    gpus = draw(st.integers(0, 2))
    if gpus:
        entry["kv_node_devices"] = {GPU: gpus}
    return entry


def _expr():
    return st.one_of(
        st.builds(lambda v: {"key": "zone", "operator": "In", "values": v}, st.lists(st.sampled_from(ZONES), min_size=1, max_size=2)),
        st.builds(lambda v: {"key": "zone", "operator": "NotIn", "values": [v]}, st.sampled_from(ZONES)),
        st.just({"key": "ssd", "operator": "Exists"}),
        st.just({"key": "ssd", "operator": "DoesNotExist"}),
        st.builds(lambda n: {"key": "gen", "operator": "Gt", "values": [str(n)]}, st.integers(0, 4)),
        st.builds(lambda n: {"key": "gen", "operator": "Lt", "values": [str(n)]}, st.integers(1, 5)),
    )


def _pod_term(app, key):
    return {"label_selector": {"match_labels": {"app": app}}, "topology_key": key}


@st.composite
def vm_item(draw, name):
    app = draw(st.sampled_from(APPS))
    vm = {"name": name, "labels": {"app": app},
          "cpu": {"sockets": draw(st.integers(1, 3))}, "memory": {"guest": draw(st.sampled_from(("256Mi", "1Gi", "3Gi")))}}
    kind = draw(st.sampled_from(("shared", "shared", "dedicated", "hugepages", "numa", "cells", "gpu", "requests")))
    if kind == "dedicated":
        vm["cpu"]["dedicated_cpu_placement"] = True
        vm["cpu"]["isolate_emulator_thread"] = draw(st.booleans())
    elif kind == "hugepages":
        vm["memory"]["hugepages"] = {"page_size": draw(st.sampled_from(("2Mi", "1Gi")))}
        vm["cpu"]["dedicated_cpu_placement"] = draw(st.booleans())
    elif kind == "numa":
        vm["cpu"].update(dedicated_cpu_placement=True, numa={"guest_mapping_passthrough": True})
        vm["memory"] = {"guest": "1Gi", "hugepages": {"page_size": "2Mi"}}
    elif kind == "cells":
        vm["cpu"] = {"sockets": 2, "dedicated_cpu_placement": True,
                     "numa": {"cells": [{"id": 0, "cpus": [0], "memory": "512Mi"}, {"id": 1, "cpus": [1], "memory": "512Mi"}]}}
        vm["memory"] = {"guest": "1Gi", "hugepages": {"page_size": "2Mi"}}
    elif kind == "gpu":
        vm["gpus"] = [{"name": "g%d" % i, "device_name": GPU} for i in range(draw(st.integers(1, 2)))]
    elif kind == "requests":
        vm["resources"] = {"requests": {"cpu": draw(st.sampled_from(("100m", "1", "2500m"))),
                                        "memory": draw(st.sampled_from(("128Mi", "2Gi")))}}
    if draw(st.booleans()):
        vm["cpu_allocation_ratio"] = draw(st.sampled_from((1, 2, 10)))
    if draw(st.integers(0, 3)) == 0:
        vm["node_selector"] = {"zone": draw(st.sampled_from(ZONES))}
    affinity = {}
    if draw(st.integers(0, 2)) == 0:
        terms = draw(st.lists(st.lists(_expr(), min_size=1, max_size=2).map(lambda e: {"match_expressions": e}),
                              min_size=1, max_size=2))
        affinity["node_affinity"] = {REQ: {"node_selector_terms": terms}}
    if draw(st.integers(0, 3)) == 0:
        affinity.setdefault("node_affinity", {})[PREF] = [
            {"weight": draw(st.integers(1, 100)), "preference": {"match_expressions": [draw(_expr())]}}]
    rule = draw(st.sampled_from((None, None, "anti-host", "anti-zone", "affinity-zone", "affinity-other", "pref")))
    if rule == "anti-host":
        affinity["pod_anti_affinity"] = {REQ: [_pod_term(app, HOSTNAME)]}
    elif rule == "anti-zone":
        affinity["pod_anti_affinity"] = {REQ: [_pod_term(draw(st.sampled_from(APPS)), "zone")]}
    elif rule == "affinity-zone":
        affinity["pod_affinity"] = {REQ: [_pod_term(app, "zone")]}
    elif rule == "affinity-other":
        affinity["pod_affinity"] = {REQ: [_pod_term([a for a in APPS if a != app][0], HOSTNAME)]}
    elif rule == "pref":
        affinity["pod_anti_affinity"] = {PREF: [{"weight": 10, "pod_affinity_term": _pod_term(app, HOSTNAME)}]}
    if affinity:
        vm["affinity"] = affinity
    tol = draw(st.sampled_from((None, "gpu", "all", "drain-any")))
    if tol == "gpu":
        vm["tolerations"] = [{"key": "gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"}]
    elif tol == "all":
        vm["tolerations"] = [{"operator": "Exists"}]
    elif tol == "drain-any":
        vm["tolerations"] = [{"key": "drain", "operator": "Exists"}]
    return vm


@st.composite
def fleets(draw, max_hosts=6, max_vms=12):
    n_hosts = draw(st.integers(1, max_hosts))
    hostvars = dict(("h%d" % i, draw(host_entry())) for i in range(n_hosts))
    n_vms = draw(st.integers(0, max_vms))
    vms = [draw(vm_item("vm%02d" % i)) for i in range(n_vms)]
    return hostvars, vms
