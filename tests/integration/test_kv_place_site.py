# -*- coding: utf-8 -*-
"""playbooks/site.yml on the two loopback libvirt hosts: VMs placed by selector and
anti-affinity are defined where they were placed, and a second run moves nothing."""

from __future__ import annotations

import json
import subprocess
import sys

import libvirt
import pytest
import yaml

from tests.conftest import REPO, _ansible_playbook_bin

pytestmark = [pytest.mark.integration, pytest.mark.libvirt, pytest.mark.migration]
HOSTNAME = "kubernetes.io/hostname"
REQ = "required_during_scheduling_ignored_during_execution"


def _site(playbook_runner, inventory, vms):
    cmd = [_ansible_playbook_bin(), "-i", str(inventory), str(REPO / "playbooks" / "site.yml"),
           "-e", json.dumps({"kv_site_vms": vms, "kv_site_prepare": False})]
    proc = subprocess.run(cmd, env=playbook_runner.env(), cwd=str(inventory.parent), capture_output=True, text=True,
                          check=False)
    results = playbook_runner.results(proc.stdout, proc.stderr, proc.returncode)
    assert proc.returncode == 0, [(r["_task"], r.get("msg"), r.get("invocation")) for r in results if r.get("failed")] or proc.stderr
    return dict(((r["_task"], r["_host"]), r) for r in results)


def _defined(uri, names):
    conn = libvirt.open(uri)
    try:
        return sorted(set(d.name() for d in conn.listAllDomains()) & set(names))
    finally:
        conn.close()


def test_site_places_defines_and_stays(playbook_runner, libvirt_uri, second_libvirt_uri, two_hosts, vm_names,
                                       tmp_path, virt_type):
    inventory = tmp_path / "inventory.yml"
    common = {"ansible_connection": "local", "kvcompute_python_interpreter": sys.executable}
    inventory.write_text(yaml.safe_dump({"all": {"children": {"kvm": {"hosts": {
        "node-a": dict(common, kv_libvirt_uri=libvirt_uri, kv_node_labels={"zone": "a", "disk": "ssd"}),
        "node-b": dict(common, kv_libvirt_uri=second_libvirt_uri, kv_node_labels={"zone": "b"},
                       kv_node_taints=["dedicated=batch:NoSchedule"]),
    }}}}}))
    db, web1, web2, batch = vm_names(), vm_names(), vm_names(), vm_names()
    tiny = {"domain_type": virt_type, "memory": {"guest": "64Mi"}, "video": "none"}
    anti = {"pod_anti_affinity": {REQ: [{"label_selector": {"match_labels": {"app": "web"}}, "topology_key": HOSTNAME}]}}
    vms = [
        dict(tiny, name=db, node_selector={"disk": "ssd"}),
        dict(tiny, name=web1, labels={"app": "web"}, affinity=anti, tolerations=[{"operator": "Exists"}]),
        dict(tiny, name=web2, labels={"app": "web"}, affinity=anti, tolerations=[{"operator": "Exists"}]),
        dict(tiny, name=batch, tolerations=[{"key": "dedicated", "operator": "Equal", "value": "batch"}],
             affinity={"node_affinity": {REQ: {"node_selector_terms": [
                 {"match_expressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]}]}}}),
    ]
    first = _site(playbook_runner, inventory, vms)
    placed = first[("Choose a host for each VM", "localhost")]
    where = placed["placements"]
    assert where[db] == "node-a" and where[batch] == "node-b"
    assert sorted([where[web1], where[web2]]) == ["node-a", "node-b"]
    assert placed["unplaced"] == {} and placed["moved"] == {}
    for host, uri in (("node-a", libvirt_uri), ("node-b", second_libvirt_uri)):
        mine = sorted(vm for vm, h in where.items() if h == host)
        assert _defined(uri, [db, web1, web2, batch]) == mine, host
        declared = first[("Declare the VMs placed on this host", host)]
        assert declared["changed"] is True

    again = _site(playbook_runner, inventory, vms)
    replaced = again[("Choose a host for each VM", "localhost")]
    assert replaced["placements"] == where and replaced["moved"] == {}
    for host in ("node-a", "node-b"):
        assert again[("Declare the VMs placed on this host", host)]["changed"] is False, host
