"""Reliability: faults in the middle of converging.

libvirtd killed (SIGKILL) while kv_vm converges 50 VMs: the re-run converges, every VM is defined exactly
once (one UUID, its disk image created once, no stray files) and nothing that existed before is lost.
"""

import os

import pytest

from tests.support.libvirtd import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

COUNT = 50


def fleet(names, directory):
    return [{"hosts": "localhost", "gather_facts": False, "tasks": [{
        "name": "fleet", "kvcompute.libvirt.kv_vm": {"vms": [
            {"name": n, "state": "present", "domain_type": "qemu", "memory": {"guest": "64Mi"}, "video": "none",
             "disks": [{"name": "root", "path": str(directory / ("%s.qcow2" % n)), "size": "1Gi"}]}
            for n in names]}}]}]


def test_libvirtd_killed_mid_converge(playbook_runner, run_playbook, run_module, vm_names, libvirt_conn,
                                      host_snapshot, restart_libvirtd, record_property):
    # Bystanders: a running and a shut-off VM that must come through unchanged (the running one still running).
    bystanders = [vm_names(), vm_names()]
    for name, state in zip(bystanders, ("running", "present")):
        result = run_module("kv_vm", {"name": name, "state": state, "domain_type": "qemu", "video": "none",
                                      "memory": {"guest": "64Mi"}})
        assert not result.get("failed"), result.get("msg")
    before = host_snapshot(only=bystanders.__contains__)
    names = [vm_names() for _ in range(COUNT)]
    proc = playbook_runner.start(fleet(names, vm_names.dir))

    def defined():
        return set(names) & set(libvirt_conn.listDefinedDomains())

    try:
        wait_until("the first VMs to be defined", lambda: len(defined()) >= 3 or proc.poll() is not None, 300)
        still_running = proc.poll() is None
        restart_libvirtd(sig=9)
    finally:
        stdout, stderr = proc.communicate(timeout=300)
    record_property("defined_when_killed", len(defined()))
    record_property("playbook_was_running", still_running)
    first = playbook_runner.results(stdout, stderr, proc.returncode)
    if still_running:
        assert proc.returncode != 0 or len(defined()) == COUNT, first

    results, rc = run_playbook(fleet(names, vm_names.dir))
    assert rc == 0, [r.get("msg") for r in results]
    uuids = {}
    for name in names:
        dom = libvirt_conn.lookupByName(name)
        uuids[name] = dom.UUIDString()
        assert not dom.isActive()
    assert len(set(uuids.values())) == COUNT
    images = sorted(f for f in os.listdir(vm_names.dir) if f.endswith(".qcow2"))
    assert images == sorted("%s.qcow2" % n for n in names)
    assert [f for f in os.listdir(vm_names.dir) if not f.endswith(".qcow2")] == []
    again, rc = run_playbook(fleet(names, vm_names.dir))
    assert rc == 0 and again[0]["changed"] is False
    assert all(libvirt_conn.lookupByName(n).UUIDString() == uuids[n] for n in names)
    # nothing that was there before was lost or changed
    assert host_snapshot(only=bystanders.__contains__) == before
    assert libvirt_conn.lookupByName(bystanders[0]).isActive()
