# -*- coding: utf-8 -*-
"""kv_place's scheduler by example: each operator, each filter, the summary text, the accounting."""

from __future__ import annotations

import pytest

from ansible_collections.kvcompute.libvirt.plugins.module_utils.placement.inventory import place
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.errors import SpecError
from tests.support.placement_checker import check
from tests.support.placement_fleet import GPU, host_facts

GIB = 2 ** 30
REQ = "required_during_scheduling_ignored_during_execution"
PREF = "preferred_during_scheduling_ignored_during_execution"


def _hosts(*entries):
    return dict(("h%d" % i, dict({"kv_host": host_facts(cpus_per_cell=4, memory_per_cell=8 * GIB)}, **e))
                for i, e in enumerate(entries))


def _place(hostvars, vms, **kw):
    result = place(hostvars, list(hostvars), vms, **kw)
    assert check(hostvars, list(hostvars), vms, result, kw.get("cpu_allocation_ratio", 10),
                 kw.get("memory_overcommit", 100)) == []
    return result


def _node_affinity(*exprs):
    return {"node_affinity": {REQ: {"node_selector_terms": [{"match_expressions": list(exprs)}]}}}


GENS = _hosts(*({"kv_node_labels": {"gen": str(g), "zone": z}} for g, z in ((1, "a"), (2, "b"), (3, "c"))))
GENS["h0"]["kv_node_labels"]["ssd"] = "true"


@pytest.mark.parametrize("expr, hosts", [
    ({"key": "zone", "operator": "In", "values": ["b", "c"]}, {"h1", "h2"}),
    ({"key": "zone", "operator": "NotIn", "values": ["b", "c"]}, {"h0"}),
    ({"key": "ssd", "operator": "Exists"}, {"h0"}),
    ({"key": "ssd", "operator": "DoesNotExist"}, {"h1", "h2"}),
    ({"key": "gen", "operator": "Gt", "values": ["1"]}, {"h1", "h2"}),
    ({"key": "gen", "operator": "Lt", "values": ["3"]}, {"h0", "h1"}),
    ({"key": "nothing", "operator": "NotIn", "values": ["x"]}, {"h0", "h1", "h2"}),
    ({"key": "zone", "operator": "Gt", "values": ["1"]}, set()),
])
def test_node_affinity_operators(expr, hosts):
    vms = [{"name": "vm%d" % i, "affinity": _node_affinity(expr)} for i in range(6)]
    result = _place(GENS, vms)
    assert set(result["placements"].values()) == hosts
    if not hosts:
        assert result["unplaced"]["vm0"] == "0/3 hosts: 3 did not match node affinity"


def test_node_selector_terms_are_ored_and_expressions_anded():
    affinity = {"node_affinity": {REQ: {"node_selector_terms": [
        {"match_expressions": [{"key": "zone", "operator": "In", "values": ["a"]},
                               {"key": "gen", "operator": "Gt", "values": ["1"]}]},   # nobody
        {"match_expressions": [{"key": "zone", "operator": "In", "values": ["c"]}]}]}}}
    assert _place(GENS, [{"name": "vm", "affinity": affinity}])["placements"] == {"vm": "h2"}


def test_node_selector_and_the_hostname_label():
    result = _place(GENS, [{"name": "a", "node_selector": {"zone": "b"}},
                           {"name": "b", "node_selector": {"kubernetes.io/hostname": "h2"}}])
    assert result["placements"] == {"a": "h1", "b": "h2"}


def test_preferred_node_affinity_wins_over_spread():
    vms = [{"name": "vm%d" % i, "affinity": {"node_affinity": {PREF: [
        {"weight": 10, "preference": {"match_expressions": [{"key": "zone", "operator": "In", "values": ["c"]}]}}]}}}
        for i in range(3)]
    assert set(_place(GENS, vms)["placements"].values()) == {"h2"}


def test_taints_and_tolerations():
    hostvars = _hosts({"kv_node_taints": ["gpu=true:NoSchedule"]}, {"kv_node_taints": [
        {"key": "drain", "value": "", "effect": "NoExecute"}]}, {"kv_node_taints": ["old=yes:PreferNoSchedule"]})
    plain = _place(hostvars, [{"name": "a"}, {"name": "b"}])
    assert set(plain["placements"].values()) == {"h2"}  # PreferNoSchedule only steers
    tolerant = _place(hostvars, [
        {"name": "eq", "tolerations": [{"key": "gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"}],
         "node_selector": {"kubernetes.io/hostname": "h0"}},
        {"name": "exists", "tolerations": [{"key": "drain", "operator": "Exists"}],
         "node_selector": {"kubernetes.io/hostname": "h1"}},
        {"name": "wrong-effect", "tolerations": [{"key": "gpu", "operator": "Exists", "effect": "NoExecute"}],
         "node_selector": {"kubernetes.io/hostname": "h0"}},
        {"name": "all", "tolerations": [{"operator": "Exists"}], "affinity": _node_affinity(
            {"key": "kubernetes.io/hostname", "operator": "In", "values": ["h0", "h1"]})}])
    assert tolerant["placements"]["eq"] == "h0"
    assert tolerant["placements"]["exists"] == "h1"
    assert tolerant["placements"]["all"] in ("h0", "h1")
    assert tolerant["unplaced"]["wrong-effect"] == (
        "0/3 hosts: 2 did not match nodeSelector, 1 had untolerated taint {gpu: true}")


def test_anti_affinity_by_hostname_and_affinity_by_zone():
    hostvars = _hosts(*({"kv_node_labels": {"zone": z}} for z in "aabb"))
    web = {"label_selector": {"match_labels": {"app": "web"}}, "topology_key": "kubernetes.io/hostname"}
    vms = [{"name": "web%d" % i, "labels": {"app": "web"}, "affinity": {"pod_anti_affinity": {REQ: [web]}}}
           for i in range(5)]
    vms.append({"name": "cache", "labels": {"app": "cache"}, "node_selector": {"zone": "b"}})
    vms.append({"name": "front", "affinity": {"pod_affinity": {REQ: [
        {"label_selector": {"match_labels": {"app": "cache"}}, "topology_key": "zone"}]}}})
    result = _place(hostvars, vms)
    webs = [result["placements"].get("web%d" % i) for i in range(5)]
    assert sorted(h for h in webs if h) == ["h0", "h1", "h2", "h3"]
    assert result["unplaced"][[w for w, h in zip(["web%d" % i for i in range(5)], webs) if not h][0]] == (
        "0/4 hosts: 4 did not match VM anti-affinity rules")
    assert result["placements"]["front"] in ("h2", "h3")


def test_anti_affinity_is_symmetric():
    """A VM that keeps others away is obeyed by VMs placed after it, which name no rule themselves."""
    hostvars = _hosts({}, {})
    vms = [{"name": "a-loner", "labels": {"app": "loner"}, "node_selector": {"kubernetes.io/hostname": "h0"},
            "affinity": {"pod_anti_affinity": {REQ: [
                {"label_selector": {"match_labels": {"app": "noisy"}}, "topology_key": "kubernetes.io/hostname"}]}}},
           {"name": "b-noisy", "labels": {"app": "noisy"}},
           {"name": "c-noisy", "labels": {"app": "noisy"}, "node_selector": {"kubernetes.io/hostname": "h0"}}]
    result = _place(hostvars, vms, scoring="pack")
    assert result["placements"] == {"a-loner": "h0", "b-noisy": "h1"}
    assert result["unplaced"]["c-noisy"] == (
        "0/2 hosts: 1 did not match nodeSelector, 1 did not satisfy existing VMs' anti-affinity rules")


def test_unplaced_summary_counts_reasons_like_the_kubernetes_scheduler():
    hostvars = _hosts(*({"kv_node_labels": {"zone": zone}} for zone in "aaabb"))
    for name in ("h0", "h1"):
        hostvars[name]["kv_host"] = host_facts(cpus_per_cell=4, memory_per_cell=8 * GIB, pages_2m=100)
    vm = {"name": "big", "node_selector": {"zone": "a"}, "memory": {"guest": "1Gi", "hugepages": {"page_size": "2Mi"}}}
    result = _place(hostvars, [vm])
    assert result["unplaced"] == {"big": "0/5 hosts: 3 insufficient 2Mi hugepages, 2 did not match nodeSelector"}


def test_cpu_allocation_ratio_and_memory_overcommit():
    hostvars = {"h0": {"kv_host": host_facts(cells=1, cpus_per_cell=1, memory_per_cell=4 * GIB)}}
    vms = [{"name": "vm%d" % i, "cpu": {"sockets": 2}, "memory": {"guest": "1Gi"}} for i in range(6)]
    # 2 vCPUs at ratio 10 request 200m: five fit on one CPU; memory 4 × 1Gi fits at 100 %.
    default = _place(hostvars, vms)
    assert len(default["placements"]) == 4
    assert default["unplaced"]["vm5"] == "0/1 hosts: 1 insufficient memory"
    over = _place(hostvars, vms, memory_overcommit=200)
    assert len(over["placements"]) == 5
    assert over["unplaced"]["vm5"] == "0/1 hosts: 1 insufficient cpu"
    assert over["hosts"]["h0"]["cpu"] == {"allocatable": "1000m", "requested": "1000m"}
    assert over["hosts"]["h0"]["memory"]["requested"] == 5 * GIB // 2
    strict = _place(hostvars, [dict(vms[0], cpu_allocation_ratio=1)], memory_overcommit=200)
    assert strict["unplaced"]["vm0"] == "0/1 hosts: 1 insufficient cpu"
    explicit = _place(hostvars, [dict(vms[0], resources={"requests": {"cpu": "100m", "memory": "3Gi"}})])
    assert explicit["hosts"]["h0"]["cpu"]["requested"] == "100m"
    assert explicit["hosts"]["h0"]["memory"]["requested"] == 3 * GIB


def test_dedicated_cpus_and_hugepages_per_numa_cell():
    hostvars = {"h0": {"kv_host": host_facts(cells=2, cpus_per_cell=2, memory_per_cell=4 * GIB, pages_2m=512)}}
    pinned = {"cpu": {"sockets": 2, "dedicated_cpu_placement": True}, "memory": {"guest": "1Gi", "hugepages": {"page_size": "2Mi"}}}
    result = _place(hostvars, [dict(pinned, name="a"), dict(pinned, name="b"), dict(pinned, name="c")])
    assert result["placements"] == {"a": "h0", "b": "h0"}
    assert sorted(c[0]["cell"] for c in result["cells"].values()) == [0, 1]
    assert result["unplaced"]["c"] == (
        "0/1 hosts: 1 insufficient 2Mi hugepages, 1 insufficient cpu, 1 insufficient dedicated CPUs")
    # 3 dedicated CPUs fit the host but no single cell, unless the guest has NUMA passthrough.
    three = {"cpu": {"sockets": 3, "dedicated_cpu_placement": True}}
    assert _place(hostvars, [dict(three, name="x")])["unplaced"]["x"] == (
        "0/1 hosts: 1 no NUMA cell fits its dedicated CPUs and hugepages")
    spread = {"cpu": {"sockets": 3, "dedicated_cpu_placement": True, "numa": {"guest_mapping_passthrough": True}}}
    result = _place(hostvars, [dict(spread, name="x")])
    assert sorted(c["dedicated_cpus"] for c in result["cells"]["x"]) == [1, 2]


def test_isolated_emulator_thread_takes_one_more_cpu():
    hostvars = {"h0": {"kv_host": host_facts(cells=1, cpus_per_cell=2)}}
    vm = {"name": "x", "cpu": {"sockets": 2, "dedicated_cpu_placement": True, "isolate_emulator_thread": True}}
    assert _place(hostvars, [vm])["unplaced"]["x"] == "0/1 hosts: 1 insufficient cpu, 1 insufficient dedicated CPUs"


def test_cpu_manager_pool_limits_what_is_allocatable():
    facts = host_facts(cells=1, cpus_per_cell=4)
    facts["cpu_pools"] = {"reserved": "0", "pool": "1-2"}
    result = _place({"h0": {"kv_host": facts}}, [{"name": "x", "cpu": {"sockets": 3, "dedicated_cpu_placement": True}}])
    assert result["unplaced"]["x"] == "0/1 hosts: 1 insufficient cpu, 1 insufficient dedicated CPUs"


def test_host_devices_by_resource_name():
    hostvars = _hosts({"kv_node_devices": {GPU: 1}}, {})
    vms = [{"name": "g%d" % i, "gpus": [{"name": "gpu", "device_name": GPU}]} for i in range(2)]
    result = _place(hostvars, vms)
    assert result["placements"] == {"g0": "h0"}
    assert result["unplaced"]["g1"] == "0/2 hosts: 2 insufficient %s" % GPU


def test_spread_and_pack():
    hostvars = _hosts({}, {}, {})
    vms = [{"name": "vm%d" % i} for i in range(3)]
    assert sorted(_place(hostvars, vms)["placements"].values()) == ["h0", "h1", "h2"]
    assert set(_place(hostvars, vms, scoring="pack")["placements"].values()) == {"h0"}


def test_stable_and_moves_only_what_no_longer_fits():
    hostvars = _hosts({}, {})
    vms = [{"name": "a", "memory": {"guest": "10Gi"}}, {"name": "b", "memory": {"guest": "10Gi"}}]
    # Both sit on h1 now (a host that was bigger once): one must go, and it goes to h0.
    hostvars["h1"]["kv_present_vms"] = {"vms": [{"name": "a", "spec": vms[0]}, {"name": "b", "spec": vms[1]}]}
    result = _place(hostvars, vms)
    assert result["placements"] == {"a": "h1", "b": "h0"}
    assert result["moved"] == {"b": {"from": "h1", "to": "h0"}}
    hostvars["h1"]["kv_present_vms"]["vms"].pop()
    hostvars["h0"]["kv_present_vms"] = {"vms": [{"name": "b", "spec": vms[1]}]}
    assert _place(hostvars, vms)["moved"] == {}


def test_other_vms_on_a_host_take_capacity():
    hostvars = _hosts({}, {})
    hostvars["h0"]["kv_present_vms"] = {"vms": [{"name": "legacy", "spec": {"name": "legacy", "memory": {"guest": "15Gi"}}}]}
    result = _place(hostvars, [{"name": "new", "memory": {"guest": "2Gi"}}], scoring="pack")
    assert result["placements"] == {"new": "h1"}


def test_vms_by_host_carry_kv_vm_options_only():
    result = _place(GENS, [{"name": "vm", "labels": {"a": "b"}, "node_selector": {"zone": "a"},
                            "tolerations": [], "cpu": {"sockets": 2}}], cpu_allocation_ratio=4)
    assert result["vms_by_host"] == {"h0": [{"name": "vm", "cpu": {"sockets": 2}, "cpu_allocation_ratio": 4}],
                                     "h1": [], "h2": []}


@pytest.mark.parametrize("vm, field", [
    ({"name": "x", "node_selector": "zone=a"}, "vms[0].node_selector"),
    ({"name": "x", "affinity": _node_affinity({"key": "zone", "operator": "Like", "values": ["a"]})},
     "vms[0].affinity.node_affinity.%s.node_selector_terms[0].match_expressions[0].operator" % REQ),
    ({"name": "x", "affinity": _node_affinity({"key": "gen", "operator": "Gt", "values": ["two"]})},
     "vms[0].affinity.node_affinity.%s.node_selector_terms[0].match_expressions[0].values" % REQ),
    ({"name": "x", "affinity": _node_affinity({"key": "zone", "operator": "In"})},
     "vms[0].affinity.node_affinity.%s.node_selector_terms[0].match_expressions[0].values" % REQ),
    ({"name": "x", "affinity": {"pod_anti_affinity": {REQ: [{"label_selector": {}}]}}},
     "vms[0].affinity.pod_anti_affinity.%s[0].topology_key" % REQ),
    ({"name": "x", "affinity": {"pod_afinity": {}}}, "vms[0].affinity.pod_afinity"),
    ({"name": "x", "tolerations": [{"operator": "Exists", "value": "v"}]}, "vms[0].tolerations[0].value"),
    ({"name": "x", "cpu_allocation_ratio": 0}, "vms[0].cpu_allocation_ratio"),
    ({"name": "x", "memory": {"hugepages": {"page_size": "4Mi"}}}, "vms[0].memory.hugepages.page_size"),
    ({"cpu": {}}, "vms[0].name"),
])
def test_bad_input_names_the_field(vm, field):
    with pytest.raises(SpecError) as err:
        place(GENS, list(GENS), [vm])
    assert field in err.value.fields, err.value.problems


def test_bad_inventory_names_the_host_and_variable():
    hostvars = _hosts({"kv_node_taints": ["gpu=true:Sometimes", "no-effect"]})
    hostvars["h1"] = {}
    with pytest.raises(SpecError) as err:
        place(hostvars, ["h0", "h1", "h9"], [], memory_overcommit=0)
    fields = err.value.fields
    assert "h0.kv_node_taints[0].effect" in fields
    assert "h0.kv_node_taints[1]" in fields
    assert "h1.kv_host" in fields
    assert "hosts" in fields
    assert "memory_overcommit" in fields
