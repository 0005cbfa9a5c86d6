"""What only a real boot proves: the host roles' kernel line and boot-time reservations,
read from the guest after the reboot it was allowed (and not before)."""

import json
import os

import pytest


@pytest.fixture(scope="module")
def no_consent(host):
    """What the roles reported on the first converge run, without consent to reboot."""
    path = os.path.join(
        os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "no-consent-%s.json" % host.backend.host
    )
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def cmdline(host):
    return host.file("/proc/cmdline").content_string.split()


def test_without_consent_the_roles_asked_for_a_reboot_and_did_not_reboot(host, no_consent):
    assert no_consent["cpu_manager_reboot_required"] is True
    assert no_consent["iommu_reboot_required"] is True
    # The guest has rebooted since (the consenting play): the no-consent run had another boot.
    assert no_consent["boot_id"] != host.file("/proc/sys/kernel/random/boot_id").content_string.strip()


def test_cmdline_isolates_the_pool(host):
    args = cmdline(host)
    for arg in ("isolcpus=1", "nohz_full=1", "rcu_nocbs=1"):
        assert arg in args, args
    assert host.file("/sys/devices/system/cpu/isolated").content_string.strip() == "1"


def test_cpu_pools_recorded(host):
    pools = json.loads(host.file("/etc/kvcompute/cpu_manager.json").content_string)
    assert pools["reserved"] == "0"
    assert pools["pool"] == "1"


def test_1gi_hugepages_reserved_at_boot(host):
    args = cmdline(host)
    assert "hugepagesz=1G" in args, args
    nr = host.file("/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages").content_string
    assert int(nr) == 1


def test_2mi_hugepages_reserved_at_boot(host):
    nr = host.file("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages").content_string
    assert int(nr) == 64
    # The boot-time source: sysctl.d, applied by systemd-sysctl during this boot.
    assert host.file("/etc/sysctl.d/80-kvcompute-hugepages.conf").contains("vm.nr_hugepages")


def test_hugetlbfs_mounts_per_size(host):
    assert host.mount_point("/dev/hugepages").filesystem == "hugetlbfs"
    one_g = host.mount_point("/dev/hugepages1G")
    assert one_g.filesystem == "hugetlbfs"
    assert "pagesize=1024M" in one_g.options or "pagesize=1G" in one_g.options


def test_libvirt_answers_after_the_reboot(host):
    assert host.service("libvirtd.socket").is_running
    with host.sudo():
        assert host.check_output("virsh --connect qemu:///system uri") == "qemu:///system"


def test_cmdline_turns_the_iommu_on(host):
    args = cmdline(host)
    assert "intel_iommu=on" in args, args
    assert "iommu=pt" in args, args


def test_the_emulated_iommu_is_on_after_the_reboot(host):
    # q35's intel-iommu (scripts/debian_vm.sh) remaps DMA only when the kernel line says so.
    assert host.file("/sys/class/iommu").is_directory
    assert host.check_output("ls /sys/class/iommu").split(), "no IOMMU registered"
    assert host.check_output("ls /sys/kernel/iommu_groups").split(), "no IOMMU groups"
