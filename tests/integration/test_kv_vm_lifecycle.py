"""kv_vm against the real libvirtd: define, idempotence, check mode, live and restart changes, states."""

import os
import subprocess

import pytest

pytestmark = pytest.mark.integration


def virsh(*args):
    return subprocess.run(["virsh", "-c", "qemu:///system"] + list(args), check=True, capture_output=True,
                          text=True).stdout


def inactive_xml(name):
    return virsh("dumpxml", "--inactive", name)


def base_vm(name, where, **extra):
    # SeaBIOS under TCG: boots on any machine (KVM here refuses some MSRs, UEFI needs TCG: TESTBED).
    vm = {
        "name": name,
        "domain_type": "qemu",
        "cpu": {"cores": 1},
        "memory": {"guest": "64Mi"},
        "disks": [{"name": "root", "path": str(where / ("%s.qcow2" % name)), "size": "64Mi"}],
        "interfaces": [{"name": "nic0"}],
        "video": "none",
    }
    vm.update(extra)
    return vm


def test_define_rerun_check_change_states_absent(run_module, vm_names):
    name = vm_names()
    vm = base_vm(name, vm_names.dir)

    first = run_module("kv_vm", dict(vm, state="present"))
    assert first["changed"] is True, first
    assert first["actions"] == ["define"]
    assert os.stat(vm["disks"][0]["path"]).st_mode & 0o777 == 0o600
    assert virsh("domstate", name).strip() == "shut off"

    again = run_module("kv_vm", dict(vm, state="present"))
    assert again["changed"] is False, again["changes"]

    before = inactive_xml(name)
    changed = dict(vm, state="present", cpu={"cores": 2})
    predicted = run_module("kv_vm", changed, check=True, diff=True)
    assert predicted["changed"] is True
    assert [c["field"] for c in predicted["changes"]] == ["cpu.cores"]
    assert inactive_xml(name) == before, "check mode changed the domain"

    real = run_module("kv_vm", changed)
    assert real["changed"] is True and real["changes"] == predicted["changes"]
    assert "<topology sockets='4' dies='1' cores='2' threads='1'/>" in inactive_xml(name)  # max_sockets 4 × 1

    running = run_module("kv_vm", dict(changed, state="running"))
    assert running["changed"] is True and running["state"] == "running"
    assert virsh("domstate", name).strip() == "running"
    assert run_module("kv_vm", dict(changed, state="running"))["changed"] is False

    # A restart-only change on a running VM: written to the definition, reported as pending.
    more = dict(changed, state="running", cpu={"cores": 3})
    pending = run_module("kv_vm", more)
    assert pending["changed"] is True, pending.get("msg")
    assert pending["changes"][0]["apply"] == "restart"
    assert pending["restart_required"] is True and pending["restart_required_fields"] == ["cpu.cores"]
    still = run_module("kv_vm", more)
    assert still["changed"] is False and still["restart_required_fields"] == ["cpu.cores"]

    restarted = run_module("kv_vm", dict(more, state="restarted", shutdown_timeout=1))
    assert restarted["changed"] is True and restarted["restart_required"] is False
    assert virsh("vcpucount", name, "--live", "--active").strip() == "3"

    stopped = run_module("kv_vm", dict(more, state="stopped", shutdown_timeout=1))
    assert stopped["changed"] is True
    assert any(a.startswith("forced off after shutdown_timeout") for a in stopped["done"]), stopped["done"]
    assert virsh("domstate", name).strip() == "shut off"

    gone = run_module("kv_vm", {"name": name, "state": "absent"})
    assert gone["changed"] is True
    assert name not in virsh("list", "--all", "--name").split()
    assert os.path.exists(vm["disks"][0]["path"]), "absent must keep the disk"
    assert run_module("kv_vm", {"name": name, "state": "absent"})["changed"] is False


def test_resources_apply_live(run_module, vm_names):
    name = vm_names()
    vm = dict(base_vm(name, vm_names.dir), state="running", resources={"requests": {"cpu": "500m"}})
    run_module("kv_vm", vm)
    vm["resources"] = {"requests": {"cpu": "250m", "memory": "32Mi"}, "limits": {"cpu": "1"}}
    predicted = run_module("kv_vm", vm, check=True)
    real = run_module("kv_vm", vm)
    assert predicted["changed"] is real["changed"] is True
    assert set(c["apply"] for c in real["changes"]) == {"live"}
    assert real["restart_required"] is False
    sched = virsh("schedinfo", name, "--live")
    assert "cpu_shares     : 256" in sched and "vcpu_quota     : 100000" in sched
    assert "soft_limit     : 32768" in virsh("memtune", name, "--live")
    assert run_module("kv_vm", vm)["changed"] is False


# name, change to the base VM: check mode must predict exactly what the real run does.
CHANGES = [
    ("nothing", {}),
    ("cores", {"cpu": {"cores": 2}}),
    ("threads", {"cpu": {"sockets": 2, "threads": 2}}),
    ("named-model", {"cpu": {"model": "qemu64"}}),
    ("feature", {"cpu": {"model": "qemu64", "features": [{"name": "sse4.2", "policy": "disable"}]}}),
    ("memory", {"memory": {"guest": "96Mi"}}),
    ("efi", {"firmware": {"type": "efi"}}),
    ("machine", {"machine": "pc"}),
    ("video", {"video": "virtio"}),
    ("serial-file", {"serial": {"type": "file", "path": "/var/log/libvirt/qemu/kvt-serial-test.log"}}),
    ("rng", {"rng": True}),
    ("watchdog", {"watchdog": {"action": "poweroff"}}),
    ("nic-model", {"interfaces": [{"name": "nic0", "model": "e1000e"}]}),
    ("second-disk", {"disks": "ADD"}),
    ("requests", {"resources": {"requests": {"cpu": "2", "memory": "32Mi"}}}),
    ("kernel-boot", {"kernel_boot": {"kernel": "/boot/vmlinuz-kvt", "cmdline": "console=ttyS0"}}),
]


def test_check_mode_predicts_the_real_run(run_playbook, vm_names, host_snapshot):
    """Each change on its own VM; all VMs go through one kv_vm task per step (define, check, real, re-run)."""
    base, wanted = [], []
    for label, change in CHANGES:
        vm = base_vm(vm_names(), vm_names.dir)
        base.append(vm)
        if "kernel_boot" in change:
            (vm_names.dir / "vmlinuz").write_bytes(b"not really a kernel: the domain is only defined")
            change = {"kernel_boot": dict(change["kernel_boot"], kernel=str(vm_names.dir / "vmlinuz"))}
        if change.get("disks") == "ADD":
            change = {"disks": vm["disks"] + [{"name": "data", "path": str(vm_names.dir / "data.qcow2"),
                                               "size": "8Mi"}]}
        wanted.append(dict(vm, **change))

    def step(name, vms, check=False):
        return {"name": name, "kvcompute.libvirt.kv_vm": {"state": "present", "vms": vms}, "check_mode": check,
                "diff": True}

    run_playbook([{"hosts": "localhost", "gather_facts": False, "tasks": [step("define", base)]}])
    before = host_snapshot()
    results, _rc = run_playbook([{"hosts": "localhost", "gather_facts": False,
                                  "tasks": [step("check", wanted, check=True)]}])
    assert host_snapshot() == before, "check mode changed a domain"
    results += run_playbook([{"hosts": "localhost", "gather_facts": False,
                              "tasks": [step("real", wanted), step("again", wanted)]}])[0]
    predicted, real, again = (r["vms"] for r in results)
    for (label, _change), p, r, a in zip(CHANGES, predicted, real, again):
        assert p["changed"] == r["changed"] == (label != "nothing"), (label, p, r)
        assert p["changes"] == r["changes"], label
        assert p["actions"] == r["actions"], label
        assert a["changed"] is False, "not idempotent after %s: %s" % (label, a["changes"])
    assert len(CHANGES) >= 11


def test_efi_guest_runs_with_its_own_nvram(run_module, vm_names):
    name = vm_names()
    vm = dict(base_vm(name, vm_names.dir), state="running", firmware={"type": "efi"})
    result = run_module("kv_vm", vm)
    assert result["state"] == "running", result
    xml = inactive_xml(name)
    assert "OVMF_CODE" in xml and "/var/lib/libvirt/qemu/nvram/%s_VARS.fd" % name in xml
    assert os.path.exists("/var/lib/libvirt/qemu/nvram/%s_VARS.fd" % name)
    assert run_module("kv_vm", vm)["changed"] is False


def test_info_spec_fed_back_is_a_noop(run_module, vm_names):
    name = vm_names()
    vm = base_vm(name, vm_names.dir, rng=True, watchdog={"action": "reset"}, firmware={"type": "efi"},
                 resources={"requests": {"cpu": "300m"}, "limits": {"memory": "128Mi"}},
                 cpu={"sockets": 1, "cores": 2, "model": "qemu64", "features": [{"name": "pcid", "policy": "optional"}]})
    run_module("kv_vm", dict(vm, state="present"))
    info = run_module("kv_vm_info", {"name": name})
    assert len(info["vms"]) == 1 and info["vms"][0]["managed"] is True
    spec = info["vms"][0]["spec"]
    assert spec["cpu"]["cores"] == 2 and spec["resources"]["requests"]["cpu"] == "300m"
    again = run_module("kv_vm", dict(spec, state="present"), check=True)
    assert again["changed"] is False, again["changes"]


def test_vms_list_validates_all_before_any_change(run_module, vm_names, host_snapshot):
    good, bad = vm_names(), vm_names()
    before = host_snapshot()
    vms = [base_vm(good, vm_names.dir), base_vm(bad, vm_names.dir, cpu={"cores": 0})]
    result = run_module("kv_vm", {"state": "present", "vms": vms})
    assert result.get("failed") is True
    assert "vms[1].cpu.cores" in result["msg"]
    assert host_snapshot() == before
    assert not os.path.exists(str(vm_names.dir / ("%s.qcow2" % good)))
