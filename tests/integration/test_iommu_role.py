"""The iommu role: kernel arguments by CPU vendor, reboot consent, vfio binding; idempotent, check mode."""

from pathlib import Path

import pytest

from tests.support import fake_sysfs as fake

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
HAS_KERNEL_ARGS = all((REPO / p).exists() for p in ("plugins/modules/kv_kernel_args.py", "roles/kernel_args"))


def play(root, tasks_from="main", **variables):
    return [{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "role", "ansible.builtin.include_role": {"name": "kvcompute.libvirt.iommu", "tasks_from": tasks_from},
         "vars": dict({"iommu_root": str(root)}, **variables)},
        {"name": "facts", "ansible.builtin.debug": {"msg": {
            "args": "{{ iommu__kernel_args | default(None) }}",
            "reboot_required": "{{ iommu_reboot_required | default(None) }}"}}},
    ]}]


def facts(results):
    return next(r for r in results if r["_task"] == "facts")["msg"]


@pytest.mark.parametrize("vendor,argument", [("GenuineIntel", "intel_iommu=on"), ("AuthenticAMD", "amd_iommu=on")])
def test_kernel_arguments_follow_the_cpu_vendor(run_playbook, tmp_path, vendor, argument):
    host = fake.scenario(tmp_path)
    host.cpuinfo(vendor)
    results, rc = run_playbook(play(tmp_path, "kernel_args_for_cpu"))
    assert rc == 0, results
    assert facts(results)["args"] == [argument, "iommu=pt"]
    results, rc = run_playbook(play(tmp_path, "kernel_args_for_cpu", iommu_passthrough=False), check=True)
    assert rc == 0 and facts(results)["args"] == [argument]


def test_an_unknown_cpu_vendor_is_refused_by_name(run_playbook, tmp_path):
    host = fake.scenario(tmp_path)
    host.cpuinfo("CentaurHauls")
    results, rc = run_playbook(play(tmp_path, "kernel_args_for_cpu"))
    assert rc != 0
    failed = next(r for r in results if r.get("failed"))
    assert '"CentaurHauls" is neither GenuineIntel nor AuthenticAMD' in failed["msg"]
    results, rc = run_playbook(play(tmp_path, "kernel_args_for_cpu", iommu_cpu_vendor="AuthenticAMD"))
    assert rc == 0 and facts(results)["args"][0] == "amd_iommu=on"


def test_binding_through_the_role_is_idempotent_and_check_mode_writes_nothing(run_playbook, tmp_path):
    host = fake.scenario(tmp_path)
    group = [fake.DIRTY_GPU, fake.DIRTY_AUDIO]
    results, rc = run_playbook(play(tmp_path, "vfio", iommu_devices=group), check=True)
    assert rc == 0, results
    bind = next(r for r in results if "Bind the devices" in r["_task"])
    assert bind["changed"] is True
    assert not host.exists("/etc/udev/rules.d/90-kvcompute-vfio.rules")
    results, rc = run_playbook(play(tmp_path, "vfio", iommu_devices=group))
    assert rc == 0 and host.exists("/etc/udev/rules.d/90-kvcompute-vfio.rules")
    for address in group:  # the kernel's answer to the probe
        host.pci(address, "10de:1b38" if address == fake.DIRTY_GPU else "10de:10ef", driver="vfio-pci", group=2,
                 override="vfio-pci", cls="030000" if address == fake.DIRTY_GPU else "040300")
    results, rc = run_playbook(play(tmp_path, "vfio", iommu_devices=group))
    assert rc == 0 and not any(r.get("changed") for r in results)


def test_a_dirty_group_fails_the_role_naming_the_culprit(run_playbook, tmp_path):
    fake.scenario(tmp_path)
    results, rc = run_playbook(play(tmp_path, "vfio", iommu_devices=[fake.DIRTY_GPU]))
    assert rc != 0
    assert "bound to snd_hda_intel" in next(r for r in results if r.get("failed"))["msg"]


@pytest.mark.skipif(not HAS_KERNEL_ARGS, reason="kv_kernel_args and the kernel_args role come with the hostroles stream")
def test_the_whole_role_asks_for_a_reboot_and_never_reboots_without_consent(run_playbook, tmp_path):
    host = fake.scenario(tmp_path, iommu=False)
    (tmp_path / "etc/default").mkdir(parents=True)
    (tmp_path / "etc/default/grub").write_text('GRUB_CMDLINE_LINUX="quiet"\n')
    (tmp_path / "proc/cmdline").write_text("BOOT_IMAGE=/vmlinuz root=/dev/sda1 quiet\n")
    variables = {"iommu_bootloader": "grub", "iommu_devices": [fake.CLEAN_GPU]}
    results, rc = run_playbook(play(tmp_path, **variables), check=True)
    assert rc == 0, results
    assert (tmp_path / "etc/default/grub").read_text() == 'GRUB_CMDLINE_LINUX="quiet"\n'
    results, rc = run_playbook(play(tmp_path, **variables))
    assert rc == 0, results
    assert facts(results)["reboot_required"] is True
    assert "intel_iommu=on iommu=pt" in (tmp_path / "etc/default/grub").read_text()
    assert any("not active yet" in str(r.get("msg", "")) for r in results)
    results, rc = run_playbook(play(tmp_path, **variables))
    assert rc == 0 and facts(results)["reboot_required"] is True
    assert not any(r.get("changed") for r in results if r["_task"] != "facts")
    assert host.exists("/sys/bus/pci/drivers_probe")
