# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host modules and roles through real ansible-playbook, on a fake host tree (the *_root variables).

This machine has no GRUB, no BLS entries, no systemd as PID 1 and one NUMA node,
and its boot configuration must not change: those parts live under tmp_path.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from tests.support.fake_host import make_host, snapshot

pytestmark = pytest.mark.integration

GRUB = 'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX="console=ttyS0 isolcpus=3"\n'


def play(role, **variables):
    return [{"hosts": "localhost", "gather_facts": False, "vars": variables, "roles": ["kvcompute.libvirt." + role]}]


def changed(results):
    return [r["_task"] for r in results if r.get("changed")]


def failed(results):
    return [r for r in results if r.get("failed")]


def messages(results):
    """Every failure message, loop items included."""
    found = []
    for r in failed(results):
        found += [item.get("msg", "") for item in r.get("results", []) if item.get("failed")] or [r.get("msg", "")]
    return "\n".join(found)


def fact(results, name):
    """The last value a set_fact task gave a fact."""
    values = [r["ansible_facts"][name] for r in results if name in r.get("ansible_facts", {})]
    assert values, "no task set %s" % name
    return values[-1]


# --------------------------------------------------------------------------- kv_kernel_args


def test_kv_kernel_args_check_diff_apply_idempotent(run_module, tmp_path):
    root = make_host(tmp_path, grub=GRUB)
    args = {"present": ["isolcpus=1-3", "iommu=pt"], "absent": ["quiet"], "root": str(root)}
    before = snapshot(root)
    check = run_module("kv_kernel_args", args, check=True, diff=True)
    assert snapshot(root) == before
    assert check["changed"] and check["files"] == ["/etc/default/grub"] and check["reboot_required"]
    assert check["diff"][0]["after"] == (
        'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=""\nGRUB_CMDLINE_LINUX="console=ttyS0 isolcpus=1-3 iommu=pt"\n')
    assert check["before"] == ["console=ttyS0", "isolcpus=3", "quiet"]
    assert check["after"] == ["console=ttyS0", "isolcpus=1-3", "iommu=pt"]
    real = run_module("kv_kernel_args", args)
    assert real["changed"] and real["after"] == check["after"] and real["commands"] == []
    assert (root / "etc/default/grub").read_text() == check["diff"][0]["after"]
    again = run_module("kv_kernel_args", args)
    assert not again["changed"] and again["reboot_required"]


def test_kv_kernel_args_bad_input_changes_nothing(run_module, tmp_path):
    root = make_host(tmp_path, grub=GRUB)
    before = snapshot(root)
    result = run_module("kv_kernel_args", {"present": ["isolcpus=1", "isolcpus=2"], "root": str(root)})
    assert result["failed"] and "present[1]: key 'isolcpus' is already set by present[0]" in result["msg"]
    result = run_module("kv_kernel_args", {"present": ["iommu=pt"], "bootloader": "bls", "root": str(root)})
    assert result["failed"] and "bootloader: bls, but there is no" in result["msg"]
    assert snapshot(root) == before


# --------------------------------------------------------------------------- cpu_manager


def test_cpu_manager_role_check_apply_idempotent(run_playbook, tmp_path):
    root = make_host(tmp_path, cpus="0-3", grub=GRUB, systemd=True)
    variables = dict(cpu_manager_root=str(root), cpu_manager_reserved_cpus="0", cpu_manager_isolate=True)
    before = snapshot(root)

    results, rc = run_playbook(play("cpu_manager", **variables), check=True, diff=True)
    assert rc == 0, failed(results)
    assert snapshot(root) == before
    assert changed(results)

    results, rc = run_playbook(play("cpu_manager", **variables))
    assert rc == 0, failed(results)
    assert json.loads((root / "etc/kvcompute/cpu_manager.json").read_text()) == {"reserved": "0", "pool": "1-3"}
    assert (root / "etc/systemd/system/system.slice.d/50-kvcompute-cpu-manager.conf").read_text().endswith(
        "[Slice]\nAllowedCPUs=0\n")
    assert (root / "etc/systemd/system/init.scope.d/50-kvcompute-cpu-manager.conf").read_text().endswith(
        "[Scope]\nAllowedCPUs=0\n")
    assert (root / "etc/default/grub").read_text() == (
        'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\n'
        'GRUB_CMDLINE_LINUX="console=ttyS0 isolcpus=1-3 nohz_full=1-3 rcu_nocbs=1-3"\n')
    assert fact(results, "cpu_manager_reboot_required") is True
    assert fact(results, "cpu_manager_pools") == {"reserved": "0", "pool": "1-3"}
    assert any("cpu_manager_reboot_ok is false" in r.get("msg", "") for r in results)

    after = snapshot(root)
    results, rc = run_playbook(play("cpu_manager", **variables))
    assert rc == 0 and changed(results) == []
    assert snapshot(root) == after

    # isolation off: the arguments go again
    variables["cpu_manager_isolate"] = False
    results, rc = run_playbook(play("cpu_manager", **variables))
    assert rc == 0, failed(results)
    assert 'GRUB_CMDLINE_LINUX="console=ttyS0"' in (root / "etc/default/grub").read_text()


def test_cpu_manager_without_systemd_skips_confinement_and_consent_never_reboots_a_test_root(run_playbook, tmp_path):
    root = make_host(tmp_path, cpus="0-1", grub=GRUB)
    results, rc = run_playbook(play("cpu_manager", cpu_manager_root=str(root), cpu_manager_isolate=True,
                                    cpu_manager_reboot_ok=True))
    assert rc == 0, failed(results)
    assert any("systemd is not PID 1 on this host" in r.get("msg", "") for r in results)
    assert not (root / "etc/systemd").exists()
    assert any("the host would reboot now" in r.get("msg", "") for r in results)
    assert fact(results, "cpu_manager_reboot_required") is True


@pytest.mark.parametrize("variables, message", [
    (dict(cpu_manager_reserved_cpus="9"), "cpu_manager_reserved_cpus: CPU 9 not online (online CPUs: 0-3)"),
    (dict(cpu_manager_pool_cpus="0-2"), "cpu_manager_pool_cpus: CPU 0 also in reserved_cpus (0)"),
    (dict(cpu_manager_reserved_cpus="0-3"), "cpu_manager_reserved_cpus: reserves every online CPU"),
    (dict(cpu_manager_confine_units=["system.slice", "sshd.service"]),
     "cpu_manager_confine_units: ['sshd.service'] are not systemd slices or scopes"),
])
def test_cpu_manager_errors_name_the_variable_and_change_nothing(run_playbook, tmp_path, variables, message):
    root = make_host(tmp_path, cpus="0-3", grub=GRUB, systemd=True)
    before = snapshot(root)
    results, rc = run_playbook(play("cpu_manager", cpu_manager_root=str(root), **variables))
    assert rc != 0
    assert any(message in r.get("msg", "") for r in failed(results)), failed(results)
    assert snapshot(root) == before


def test_cpu_manager_argument_spec(run_playbook, tmp_path):
    root = make_host(tmp_path)
    results, rc = run_playbook(play("cpu_manager", cpu_manager_root=str(root), cpu_manager_bootloader="lilo"))
    assert rc != 0 and "cpu_manager_bootloader" in failed(results)[0]["msg"]


# --------------------------------------------------------------------------- hugepages


def test_hugepages_role_check_apply_idempotent(run_playbook, tmp_path):
    root = make_host(tmp_path, nodes=(0, 1), grub=GRUB)
    variables = dict(hugepages_root=str(root), hugepages_reservations=[
        {"size": "2Mi", "nodes": {0: 8, 1: 4}},
        {"size": "1Gi", "count": 1},
    ])
    before = snapshot(root)
    results, rc = run_playbook(play("hugepages", **variables), check=True, diff=True)
    assert rc == 0, failed(results)
    assert snapshot(root) == before and changed(results)

    results, rc = run_playbook(play("hugepages", **variables))
    assert rc == 0, failed(results)
    granted = fact(results, "hugepages_granted")
    assert [(g["node"], g["size"], g["requested"], g["granted"]) for g in granted] == [
        ("0", "2Mi", 8, 8), ("1", "2Mi", 4, 4), ("all", "1Gi", 1, 1)]
    assert (root / "sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages").read_text() == "4\n"
    assert (root / "etc/sysctl.d/80-kvcompute-hugepages.conf").read_text().endswith("vm.nr_hugepages = 12\n")
    assert 'GRUB_CMDLINE_LINUX="console=ttyS0 isolcpus=3 hugepagesz=1G hugepages=1"' in (
        root / "etc/default/grub").read_text()
    assert "hugetlbfs /dev/hugepages1G hugetlbfs pagesize=1G 0 0\n" in (root / "etc/fstab").read_text()
    # all pages granted now: no reboot needed for them
    assert fact(results, "hugepages_reboot_required") is False

    after = snapshot(root)
    results, rc = run_playbook(play("hugepages", **variables))
    assert rc == 0 and changed(results) == []
    assert snapshot(root) == after


def test_hugepages_role_bad_reservation(run_playbook, tmp_path):
    root = make_host(tmp_path)
    before = snapshot(root)
    results, rc = run_playbook(play("hugepages", hugepages_root=str(root), hugepages_reservations=[
        {"size": "1Gi", "count": 1}, {"size": "2Mi", "nodes": {3: 1}}]))
    assert rc != 0 and "nodes: '3' is not a NUMA node of this host (nodes: 0)" in messages(results)
    results, rc = run_playbook(play("hugepages", hugepages_root=str(root),
                                    hugepages_reservations=[{"size": "4Mi", "count": 1}]))
    assert rc != 0 and "hugepages_reservations" in messages(results)
    assert snapshot(root) == before
