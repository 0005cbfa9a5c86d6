# -*- coding: utf-8 -*-
"""kv_place through ansible-playbook: it reads hostvars on the controller, check mode gives the same
answer, and bad input fails naming the field."""

from __future__ import annotations

import pytest

from tests.support.placement_fleet import host_facts

pytestmark = [pytest.mark.integration]


def _play(vms, **extra):
    return [{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "facts", "ansible.builtin.set_fact": {
            "kv_host": {"host": host_facts(cells=1, cpus_per_cell=2)}, "kv_node_labels": {"zone": "a"},
            "kv_node_taints": ["maintenance=yes:PreferNoSchedule"]}},
        {"name": "place", "kvcompute.libvirt.kv_place": dict({"hosts": ["localhost"], "vms": vms}, **extra),
         "register": "placed", "ignore_errors": True}]}]


def _placed(run_playbook, vms, check=False, **extra):
    results, _rc = run_playbook(_play(vms, **extra), check=check)
    return [r for r in results if r["_task"] == "place"][0]


def test_reads_hostvars_and_check_mode_is_the_same(run_playbook):
    vms = [{"name": "a", "node_selector": {"zone": "a"}, "cpu": {"sockets": 2}},
           {"name": "b", "node_selector": {"zone": "b"}}]
    real = _placed(run_playbook, vms)
    checked = _placed(run_playbook, vms, check=True)
    assert real["changed"] is False and not real.get("failed")
    assert real["placements"] == {"a": "localhost"}
    assert real["unplaced"] == {"b": "0/1 hosts: 1 did not match nodeSelector"}
    assert real["vms_by_host"] == {"localhost": [{"name": "a", "cpu": {"sockets": 2}, "cpu_allocation_ratio": 10}]}
    assert real["hosts"]["localhost"]["cpu"] == {"allocatable": "2000m", "requested": "200m"}
    for key in ("placements", "unplaced", "vms_by_host", "hosts", "cells", "order"):
        assert checked[key] == real[key], key


def test_fail_on_unplaced_and_bad_input(run_playbook):
    unplaced = _placed(run_playbook, [{"name": "b", "node_selector": {"zone": "b"}}], fail_on_unplaced=True)
    assert unplaced["failed"] and unplaced["msg"] == "b: 0/1 hosts: 1 did not match nodeSelector"
    bad = _placed(run_playbook, [{"name": "x", "tolerations": [{"operator": "Sometimes"}]}])
    assert bad["failed"]
    assert [e["field"] for e in bad["errors"]] == ["vms[0].tolerations[0].operator"]
    assert "Equal, Exists" in bad["msg"]
