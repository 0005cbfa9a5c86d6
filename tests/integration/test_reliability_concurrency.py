"""Reliability: parallel ansible-playbook runs against one host never double-book a device or a VSOCK CID.

Each run is its own ansible-playbook process started at the same moment; kv_vm allocates under one
host-wide lock from the defined domains (converge/host_lock.py). Dedicated CPUs have the same test in
test_kv_vm_pinning.py (four runs, one free CPU, one winner).
"""

import re
import subprocess

import pytest

from tests.integration.test_devices import PERMITTED, T4, dumpxml, small
from tests.support import fake_sysfs as fake

pytestmark = pytest.mark.integration

RUNS = 4


def in_parallel(runner, plays):
    """Start every playbook at once; (results, returncode) of each, in order."""
    procs = [runner.start(play) for play in plays]
    outputs = [p.communicate(timeout=600) for p in procs]
    return [(runner.results(out, err, p.returncode), p.returncode) for p, (out, err) in zip(procs, outputs)]


def play(args):
    return [{"hosts": "localhost", "gather_facts": False,
             "tasks": [{"name": "declare", "kvcompute.libvirt.kv_vm": args, "ignore_errors": True}]}]


def defined(names):
    listed = set(subprocess.run(["virsh", "-c", "qemu:///system", "list", "--all", "--name"], check=True,
                                capture_output=True, text=True).stdout.split())
    return [n for n in names if n in listed]


def test_parallel_runs_give_each_identical_gpu_to_one_vm(_playbook_runner, vm_names, tmp_path):
    host = fake.scenario(tmp_path / "host")  # three identical T4s on vfio-pci
    names = [vm_names() for _i in range(RUNS)]
    common = {"permitted_host_devices": PERMITTED, "root": str(host.root)}
    runs = in_parallel(_playbook_runner, [play(dict(common, **small(n, host_devices=[T4]))) for n in names])
    results = [r[0] for r, _rc in runs]
    won = [n for n, r in zip(names, results) if not r.get("failed")]
    lost = [r for r in results if r.get("failed")]
    assert len(won) == len(fake.IDENTICAL) and len(lost) == RUNS - len(fake.IDENTICAL), results
    assert all(r["errors"][0]["field"] == "host_devices[0].device_name" and "is assigned to" in r["msg"]
               for r in lost), lost
    assert defined(names) == won, "the losers defined nothing"
    buses = sorted(re.search(r"<source>\s*<address domain='0x0000' bus='(0x[0-9a-f]+)'", dumpxml(n)).group(1)
                   for n in won)
    assert buses == sorted("0x%s" % a.split(":")[1] for a in fake.IDENTICAL), "each T4 once"


def test_parallel_runs_give_unique_vsock_cids(_playbook_runner, run_module, vm_names):
    per_run = 2
    groups = [[vm_names() for _i in range(per_run)] for _r in range(RUNS)]
    runs = in_parallel(_playbook_runner, [play({"vms": [small(n, autoattach_vsock=True) for n in group]})
                                          for group in groups])
    assert all(rc == 0 and r[0]["changed"] is True for r, rc in runs), runs
    names = [n for group in groups for n in group]
    assert defined(names) == names
    cids = [run_module("kv_vm_info", {"name": n})["vms"][0]["vsock_cid"] for n in names]
    assert len(set(cids)) == len(names) and min(cids) >= 3, cids
    # The declared state is reached: a re-run of every group changes nothing.
    again = in_parallel(_playbook_runner, [play({"vms": [small(n, autoattach_vsock=True) for n in group]})
                                           for group in groups])
    assert all(r[0]["changed"] is False for r, _rc in again), again
