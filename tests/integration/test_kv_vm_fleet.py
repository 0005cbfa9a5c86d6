"""Many VMs in one task: 50 shut-off VMs declared, a no-op re-run, then removed in one task."""

import time

import pytest

pytestmark = pytest.mark.integration

FLEET = 50


def test_fifty_vms_one_task(run_module, vm_names, host_snapshot, record_property):
    names = [vm_names() for _i in range(FLEET)]
    vms = [{"name": n, "cpu": {"cores": 1 + i % 2}, "memory": {"guest": "64Mi"},
            "interfaces": [{"name": "nic0"}]} for i, n in enumerate(names)]
    args = {"state": "present", "domain_type": "qemu", "video": "none", "vms": vms}

    start = time.monotonic()
    first = run_module("kv_vm", args)
    define_s = time.monotonic() - start
    assert first["changed"] is True and len(first["vms"]) == FLEET
    snapshot = host_snapshot()
    assert all(n in snapshot["names"] for n in names)

    start = time.monotonic()
    again = run_module("kv_vm", args)
    rerun_s = time.monotonic() - start
    assert again["changed"] is False
    assert host_snapshot() == snapshot
    record_property("fleet_define_s", round(define_s, 2))
    record_property("fleet_rerun_s", round(rerun_s, 2))
    print("\n50 VMs: define %.2fs, no-op re-run %.2fs" % (define_s, rerun_s))

    gone = run_module("kv_vm", {"state": "absent", "vms": [{"name": n} for n in names]})
    assert gone["changed"] is True
    left = host_snapshot()
    assert not any(n in left["names"] for n in names)
