"""Reliability: generated bad input through the real modules against the real libvirtd.

Every case fails naming its field, and the domains, their XML, the managed files, secrets, pools and
networks are byte-identical after. Two generators: bad kv_vm options (tests/support/bad_input.py) and
bad KubeVirt manifests (tests/support/bad_manifest.py). The hand-written cases are in
test_kv_vm_bad_input.py. Cases go 40 VMs to a task: kv_vm names every bad field of every VM of a task
(`vms[i].<field>`), so each case is still judged on its own.
"""

import pytest
from hypothesis import HealthCheck, given, settings

from tests.support.bad_input import bad_vm_options, names_field
from tests.support.bad_manifest import bad_manifests

pytestmark = pytest.mark.integration

BATCH = 40


def generated_cases(strategy, count):
    cases = []

    @settings(max_examples=count, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(case):
        cases.append(case)

    collect()
    assert len(cases) >= count * 0.9, len(cases)  # hypothesis may stop early on a tiny space
    return cases


def refused_in_batches(run_playbook, host_snapshot, host_files, items, fields, extra_args=None):
    """kv_vm on `items` (vms entries), BATCH to a task: each fails naming its field; nothing on the host moved."""
    batches = [items[start:start + BATCH] for start in range(0, len(items), BATCH)]
    args = dict(extra_args or {}, vms="{{ item }}")
    tasks = [{"name": "bad input", "kvcompute.libvirt.kv_vm": args, "loop": batches, "ignore_errors": True}]
    ours = set(vm.get("name") for vm in items if isinstance(vm.get("name"), str))
    before, files_before = host_snapshot(), host_files()
    # Domains that existed before, and ours: another user of this libvirtd may add domains meanwhile.
    watched = set(before["names"]) | ours
    results, _rc = run_playbook([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}])
    loop_results = results[0]["results"]
    assert len(loop_results) == len(batches)
    for index, result in enumerate(loop_results):
        assert result.get("failed") is True and result.get("changed") is not True, result
        problems = [(e["field"], e["message"]) for e in result["errors"]]
        for i, field in enumerate(fields[index * BATCH:(index + 1) * BATCH]):
            assert names_field(problems, "vms[%d].%s" % (i, field)), (field, problems)
    assert host_snapshot(only=watched.__contains__) == before
    assert host_files() == files_before


def test_generated_bad_vms_leave_the_host_untouched(run_playbook, vm_names, host_snapshot, host_files,
                                                    record_property):
    cases = generated_cases(bad_vm_options(), 400)
    items = [dict(opts, name=vm_names(), state="running") for opts, _field in cases]
    refused_in_batches(run_playbook, host_snapshot, host_files, items, [field for _opts, field in cases])
    record_property("generated_bad_vm_cases", len(cases))


def test_generated_bad_manifests_leave_the_host_untouched(run_playbook, vm_names, host_snapshot, host_files,
                                                          record_property):
    cases = generated_cases(bad_manifests(), 200)
    items = [{"name": vm_names(), "manifest": manifest, "state": "running"} for manifest, _path in cases]
    refused_in_batches(run_playbook, host_snapshot, host_files, items, [path for _m, path in cases],
                       {"image_catalogue": {}, "image_dir": str(vm_names.dir)})
    record_property("generated_bad_manifest_cases", len(cases))
