"""Reliability: generated bad input through the real modules against the real libvirtd.

Every case fails naming its field, and the domains, their XML, the managed files, secrets, pools and
networks are byte-identical after. The hand-written cases are in test_kv_vm_bad_input.py (one task per
case); the generated ones here (tests/support/bad_input.py) go 40 VMs to a task: kv_vm names every bad
field of every VM of a task (`vms[i].<field>`), so each case is still judged on its own.
"""

import pytest
from hypothesis import HealthCheck, given, settings

from tests.support.bad_input import bad_vm_options, names_field

pytestmark = pytest.mark.integration

GENERATED = 400
BATCH = 40


def generated_cases(count):
    cases = []

    @settings(max_examples=count, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(bad_vm_options())
    def collect(case):
        cases.append(case)

    collect()
    return cases


def test_generated_bad_vms_leave_the_host_untouched(run_playbook, vm_names, host_snapshot, host_files,
                                                    record_property):
    cases = generated_cases(GENERATED)
    assert len(cases) >= GENERATED * 0.9, len(cases)  # hypothesis may stop early on a tiny space
    batches = []
    for start in range(0, len(cases), BATCH):
        vms = []
        for opts, _field in cases[start:start + BATCH]:
            vms.append(dict(opts, name=vm_names(), state="running"))
        batches.append(vms)
    tasks = [{"name": "bad input", "kvcompute.libvirt.kv_vm": {"vms": "{{ item }}"}, "loop": batches,
              "ignore_errors": True}]
    ours = set(vm["name"] for vms in batches for vm in vms)
    before, files_before = host_snapshot(), host_files()
    # Domains that existed before, and ours: another user of this libvirtd may add domains meanwhile.
    watched = set(before["names"]) | ours
    results, _rc = run_playbook([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}])
    loop_results = results[0]["results"]
    assert len(loop_results) == len(batches)
    for index, result in enumerate(loop_results):
        assert result.get("failed") is True and result.get("changed") is not True, result
        problems = [(e["field"], e["message"]) for e in result["errors"]]
        for i, (_opts, field) in enumerate(cases[index * BATCH:(index + 1) * BATCH]):
            assert names_field(problems, "vms[%d].%s" % (i, field)), (field, problems)
    assert host_snapshot(only=watched.__contains__) == before
    assert host_files() == files_before
    record_property("generated_bad_vm_cases", len(cases))
