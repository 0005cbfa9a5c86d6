"""Bad input never reaches libvirt: every case fails naming its field, the host is byte-identical after."""

import pytest

from tests.unit.spec.test_options_invalid import INVALID_OPTIONS

pytestmark = pytest.mark.integration

# Cases only the host can judge: still refused before any change.
HOST_INVALID = [
    ({"cpu": {"model": "NoSuchCPU-v9"}}, "cpu.model"),
    ({"cpu": {"model": "qemu64", "features": [{"name": "no-such-flag"}]}}, "cpu.features"),
    ({"cpu": {"model": "host-passthrough"}}, "cpu.model"),
    ({"machine": "pc-q35-0.1"}, "machine"),
    ({"disks": [{"name": "root", "path": "/nonexistent/kvt.qcow2"}]}, "disks[0].path"),
    ({"disks": [{"name": "root", "path": "/nonexistent-dir/kvt.qcow2", "size": "1Gi"}]}, "disks[0].path"),
    ({"disks": [{"name": "root", "pool": "no-such-pool", "volume": "v"}]}, "disks[0].pool"),
    ({"interfaces": [{"name": "n", "type": "network", "source": "no-such-net"}]}, "interfaces[0].source"),
    ({"cpu": {"sockets": 300}}, "cpu"),
]


def test_invalid_specs_leave_the_host_untouched(run_playbook, vm_names, host_snapshot):
    cases = []
    for options, field in INVALID_OPTIONS + HOST_INVALID:
        # As a vms item: top-level options pass Ansible's own type conversion first (name: 5 -> "5").
        case = {"domain_type": "qemu", "state": "running"}
        case.update(options)
        if field != "name":
            case["name"] = vm_names()  # a name the fixture cleans up, should a case slip through
        cases.append({"args": {"vms": [case]}, "field": "vms[0].%s" % field})
    assert len(cases) >= 50
    tasks = [{"name": "bad input", "kvcompute.libvirt.kv_vm": "{{ item.args }}", "loop": cases,
              "ignore_errors": True, "register": "r"}]
    before = host_snapshot()
    results, _rc = run_playbook([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}])
    loop_results = results[0]["results"]
    assert len(loop_results) == len(cases)
    for case, result in zip(cases, loop_results):
        assert result.get("failed") is True, (case, result)
        assert case["field"] in result["msg"], (case["field"], result["msg"])
    assert host_snapshot() == before
