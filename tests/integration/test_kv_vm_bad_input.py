"""Bad input never reaches libvirt: every case fails naming its field, the host is byte-identical after."""

import pytest

from tests.integration.test_reliability_bad_input import refused_in_batches
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


def test_invalid_specs_leave_the_host_untouched(run_playbook, vm_names, host_snapshot, host_files):
    """The hand-written cases (tests/unit/spec/test_options_invalid.py and the host's), 40 VMs to a task."""
    assert len(INVALID_OPTIONS) >= 150
    # The host's cases in tasks of their own: a task with spec errors stops before asking the host.
    for cases in (INVALID_OPTIONS, HOST_INVALID):
        items = []
        for options, field in cases:
            item = {"domain_type": "qemu", "state": "running"}
            item.update(options)
            if field != "name":
                item["name"] = vm_names()  # a name the fixture cleans up, should a case slip through
            items.append(item)
        refused_in_batches(run_playbook, host_snapshot, host_files, items, [field for _o, field in cases])


def test_one_bad_vm_fails_its_task_naming_the_field(run_module, vm_names, host_snapshot):
    """The single-VM form (top-level options) names the field without the `vms[i].` prefix."""
    before = host_snapshot()
    r = run_module("kv_vm", {"name": vm_names(), "cpu": {"sockets": 0}, "state": "running"})
    assert r.get("failed") and "cpu.sockets" in r["msg"] and not r.get("changed"), r
    assert host_snapshot() == before
