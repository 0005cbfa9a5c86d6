"""Dedicated CPUs and hugepages on the real libvirtd: pinned guests run, the second is refused, parallel runs
never double-book, shared VMs are re-pinned live, hugepages are consumed exactly.

The CPU pools are a file in the test's own directory (kv_vm's cpu_manager_file): VMs placed with another
pool file (every other test's) are neither counted nor re-pinned, so nothing outside this test moves.
"""

import json
import re
import subprocess
import time

import pytest
import yaml

from tests.conftest import _ansible_playbook_bin

pytestmark = pytest.mark.integration

HUGEPAGES = "/sys/kernel/mm/hugepages/hugepages-2048kB/"


def virsh(*args):
    return subprocess.run(["virsh", "-c", "qemu:///system"] + list(args), check=True, capture_output=True,
                          text=True).stdout


def pools(vm_names, reserved, pool):
    path = vm_names.dir / "cpu_manager.json"
    path.write_text(json.dumps({"reserved": reserved, "pool": pool}))
    return str(path)


def vm(name, pool_file, **extra):
    """A diskless SeaBIOS guest under TCG: runs on any host, tiny."""
    out = {"name": name, "domain_type": "qemu", "video": "none", "memory": {"guest": "64Mi"},
           "cpu_manager_file": pool_file}
    out.update(extra)
    return out


def vcpu_affinity(name):
    """{vCPU: CPU affinity list} of a running domain, as `virsh vcpupin` reports it live."""
    out = {}
    for line in virsh("vcpupin", name, "--live").splitlines():
        match = re.match(r"^\s*([0-9]+)\s+(\S+)\s*$", line)
        if match:
            out[int(match.group(1))] = match.group(2)
    return out


def emulator_affinity(name):
    lines = [ln for ln in virsh("emulatorpin", name, "--live").splitlines() if ln.strip().startswith("*:")]
    return lines[0].split(":", 1)[1].strip()


def test_dedicated_vm_pinned_second_refused_shared_repinned(run_module, vm_names, host_snapshot):
    pool_file = pools(vm_names, "0", "1")
    shared, first, second = vm_names(), vm_names(), vm_names()
    mine = set([shared, first, second]).__contains__

    floating = run_module("kv_vm", vm(shared, pool_file, state="running"))
    assert floating["changed"] is True, floating
    assert set(vcpu_affinity(shared).values()) == {"1"}  # the pool, nothing exclusive yet

    dedicated = vm(first, pool_file, state="running", cpu={"dedicated_cpu_placement": True})
    result = run_module("kv_vm", dedicated)
    assert result["changed"] is True and result["state"] == "running", result
    assert result["spec"]["cpu"]["dedicated_cpu_placement"] is True
    assert result["placement"] == {"pool_file": pool_file, "dedicated": True, "vcpus": [1], "emulator": "1",
                                   "exclusive": "1", "memory_cells": "0"}
    assert vcpu_affinity(first) == {0: "1"}
    assert emulator_affinity(first) == "1"
    assert "<vcpupin vcpu='0' cpuset='1'/>" in virsh("dumpxml", "--inactive", first)
    # The shared VM left CPU 1 to the dedicated one, live and in its definition.
    assert set(vcpu_affinity(shared).values()) == {"0"}  # hotpluggable vCPUs too
    assert emulator_affinity(shared) == "0"
    assert "cpuset='0'" in virsh("dumpxml", "--inactive", shared)

    facts = run_module("kv_host_info", {"cpu_manager_file": pool_file})["host"]["cpu_pools"]
    assert (facts["reserved"], facts["pool"], facts["shared"]) == ("0", "1", "0")
    assert facts["exclusive"] == {first: "1"}
    assert facts["cells"][0]["free_cpus"] == "" and "2048" in facts["cells"][0]["free_hugepages"]

    again = run_module("kv_vm", dedicated)
    assert again["changed"] is False, again["changes"]
    assert vcpu_affinity(first) == {0: "1"}

    before = host_snapshot(only=mine)
    refused = run_module("kv_vm", vm(second, pool_file, state="running", cpu={"dedicated_cpu_placement": True}))
    assert refused.get("failed") is True
    assert refused["errors"][0]["field"] == "cpu.dedicated_cpu_placement"
    assert "need 1 dedicated CPU in one NUMA cell; cell 0 has 0 free" in refused["msg"], refused["msg"]
    assert "held by %s (1)" % first in refused["msg"]
    assert host_snapshot(only=mine) == before

    gone = run_module("kv_vm", {"name": first, "state": "absent", "shutdown_timeout": 0, "cpu_manager_file": pool_file})
    assert gone["changed"] is True
    assert set(vcpu_affinity(shared).values()) == {"1"}  # CPU 1 is free again: back to the pool
    assert emulator_affinity(shared) == "1"
    assert "cpuset='1'" in virsh("dumpxml", "--inactive", shared)


def test_isolated_emulator_thread_like_vmi_fedora_isolated(run_module, vm_names):
    """vmi-fedora-isolated.yaml: dedicatedCpuPlacement + isolateEmulatorThread -> two exclusive CPUs."""
    pool_file = pools(vm_names, "", "0-1")
    name = vm_names()
    result = run_module("kv_vm", vm(name, pool_file, state="running",
                                    cpu={"dedicated_cpu_placement": True, "isolate_emulator_thread": True}))
    assert result["changed"] is True, result
    vcpu, emulator = vcpu_affinity(name)[0], emulator_affinity(name)
    assert {vcpu, emulator} == {"0", "1"}
    assert result["spec"]["cpu"]["isolate_emulator_thread"] is True
    assert run_module("kv_vm", vm(name, pool_file, state="running", cpu={
        "dedicated_cpu_placement": True, "isolate_emulator_thread": True}))["changed"] is False


def test_four_parallel_runs_one_cpu_one_winner(vm_names, _playbook_runner, libvirt_conn):
    pool_file = pools(vm_names, "0", "1")
    names = [vm_names() for _i in range(4)]
    procs = []
    for name in names:
        play = [{"hosts": "localhost", "gather_facts": False, "tasks": [
            {"name": "ask for one dedicated CPU", "kvcompute.libvirt.kv_vm":
             vm(name, pool_file, state="present", cpu={"dedicated_cpu_placement": True})}]}]
        path = vm_names.dir / ("%s.yml" % name)
        path.write_text(yaml.safe_dump(play))
        procs.append(subprocess.Popen([_ansible_playbook_bin(), "-i", "localhost,", "-c", "local", str(path)],
                                      cwd=str(_playbook_runner.tmp), env=_playbook_runner.env(),
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = [p.communicate(timeout=600) for p in procs]
    codes = [p.returncode for p in procs]
    assert sorted(codes)[0] == 0 and codes.count(0) == 1, (codes, outputs)
    losers = [out for code, (out, _err) in zip(codes, outputs) if code != 0]
    assert all("need 1 dedicated CPU in one NUMA cell" in out for out in losers), losers
    defined = [n for n in names if n in set(d.name() for d in libvirt_conn.listAllDomains(0))]
    assert defined == [names[codes.index(0)]]
    assert "<vcpupin vcpu='0' cpuset='1'/>" in virsh("dumpxml", "--inactive", defined[0])


@pytest.fixture
def reserved_hugepages():
    """Reserve 64 more 2Mi pages for this test; give back exactly those afterwards."""
    extra = 64
    nr = int(open(HUGEPAGES + "nr_hugepages").read())
    with open(HUGEPAGES + "nr_hugepages", "w") as f:
        f.write(str(nr + extra))
    got = int(open(HUGEPAGES + "nr_hugepages").read()) - nr
    if got < extra:
        _give_back(got)
        pytest.skip("the kernel granted %d of %d 2Mi pages" % (got, extra))
    yield extra
    _give_back(extra)


def _give_back(count):
    now = int(open(HUGEPAGES + "nr_hugepages").read())
    with open(HUGEPAGES + "nr_hugepages", "w") as f:
        f.write(str(max(0, now - count)))


def free_2m():
    return int(open(HUGEPAGES + "free_hugepages").read())


def wait_for(condition, timeout=60):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def test_hugepages_consumed_exactly_and_too_many_refused(run_module, vm_names, host_snapshot, reserved_hugepages):
    pool_file = pools(vm_names, "0", "1")
    name, greedy = vm_names(), vm_names()
    backed = vm(name, pool_file, state="running", memory={"guest": "64Mi", "hugepages": {"page_size": "2Mi"}})
    free_before = free_2m()
    result = run_module("kv_vm", backed)
    free_after = free_2m()
    assert result["changed"] is True and result["state"] == "running", result
    assert result["spec"]["memory"] == {"guest": "64Mi", "max_guest": "64Mi", "hugepages": {"page_size": "2Mi"}}
    assert "<page size='2048' unit='KiB'/>" in virsh("dumpxml", "--inactive", name)
    assert free_before - free_after == 32, (free_before, free_after)  # 64Mi in 2Mi pages
    assert run_module("kv_vm", backed)["changed"] is False

    before = host_snapshot(only=lambda n: n in (name, greedy))
    too_big = "%dMi" % ((free_2m() + 8) * 2)
    refused = run_module("kv_vm", vm(greedy, pool_file, state="running",
                                     memory={"guest": too_big, "hugepages": {"page_size": "2Mi"}}))
    assert refused.get("failed") is True
    assert refused["errors"][0]["field"] == "memory.hugepages", refused
    assert re.search(r"need [0-9]+ free 2Mi pages", refused["msg"]), refused["msg"]
    assert host_snapshot(only=lambda n: n in (name, greedy)) == before

    gone = run_module("kv_vm", {"name": name, "state": "absent", "shutdown_timeout": 0, "cpu_manager_file": pool_file})
    assert gone["changed"] is True
    assert wait_for(lambda: free_2m() >= free_after + 32)
