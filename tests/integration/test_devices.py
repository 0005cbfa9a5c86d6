"""Host devices, vGPUs and VSOCK on the real libvirtd; the host's devices come from a fake sysfs tree.

This machine has no IOMMU, no PCI devices to pass, no mdev parents and no vhost-vsock
(TESTBED.md): kv_vm reads devices from the fake tree (its `root` option) and libvirt
validates every domain XML at define.  Starting is tried where it tells something.
"""

import re
import subprocess

import pytest

from tests.support import fake_sysfs as fake

pytestmark = pytest.mark.integration

PERMITTED = {
    "pci_host_devices": [
        {"pci_vendor_selector": "10de:1eb8", "resource_name": "nvidia.com/TU104GL_Tesla_T4"},
        {"pci_vendor_selector": "10de:1b38", "resource_name": "nvidia.com/GP102GL_Tesla_P40"},
    ],
    "mediated_devices": [{"mdev_name_selector": "GRID T4-1Q", "resource_name": "nvidia.com/GRID_T4-1Q"}],
    "usb": [{"resource_name": "kubevirt.io/storage", "selectors": [{"vendor": "0781", "product": "5567"}]}],
}
T4 = {"name": "t4", "device_name": "nvidia.com/TU104GL_Tesla_T4"}
EXISTING_MDEV = "6b1f3f6e-8e5c-4b7a-9d55-000000000001"


def virsh(*args, check=True):
    return subprocess.run(["virsh", "-c", "qemu:///system"] + list(args), check=check, capture_output=True,
                          text=True)


def dumpxml(name):
    return virsh("dumpxml", "--inactive", name).stdout


@pytest.fixture
def host(tmp_path):
    return fake.scenario(tmp_path / "host")


def small(name, **extra):
    return dict({"name": name, "domain_type": "qemu", "memory": {"guest": "64Mi"}, "state": "present"}, **extra)


def ours(names):
    return lambda name: name in names


def test_every_device_kind_is_defined_and_reported(run_module, vm_names, host):
    name = vm_names()
    vm = small(name, permitted_host_devices=PERMITTED, root=str(host.root),
               host_devices=[T4, {"name": "nic", "pci_address": "06:00.0"},
                             {"name": "stick", "device_name": "kubevirt.io/storage"},
                             {"name": "kbd", "usb": {"vendor": "046d", "product": "c31c"}}],
               gpus=[{"name": "vgpu1", "device_name": "nvidia.com/GRID_T4-1Q"},
                     {"name": "vgpu2", "device_name": "nvidia.com/GRID_T4-1Q"}],
               autoattach_vsock=True)
    checked = run_module("kv_vm", vm, check=True)
    assert checked["changed"] is True and "create mediated devices" in checked["actions"], checked.get("msg")
    assert virsh("dominfo", name, check=False).returncode != 0, "check mode defines nothing"
    created = [c for c in checked["changes"] if c["apply"] == "create"]
    assert [c["field"] for c in created] == ["vgpu2"]
    new_uuid = created[0]["after"].split()[3]
    assert not host.read("/sys/class/mdev_bus/%s/mdev_supported_types/nvidia-63/create" % fake.MDEV_PARENTS[0])

    first = run_module("kv_vm", vm)
    assert first["changed"] is True, first.get("msg")
    assert "created mediated device %s" % new_uuid in first["done"]
    assert host.read("/sys/class/mdev_bus/%s/mdev_supported_types/nvidia-63/create" % fake.MDEV_PARENTS[0]) == new_uuid
    xml = dumpxml(name)
    assert "<address domain='0x0000' bus='0x03' slot='0x00' function='0x0'/>" in xml  # the first free T4
    assert "<address domain='0x0000' bus='0x06' slot='0x00' function='0x0'/>" in xml
    assert "<vendor id='0x0781'/>" in xml and "<address bus='1' device='2'/>" in xml
    assert "<vendor id='0x046d'/>" in xml and "<address bus='2' device='2'/>" in xml
    assert ("<hostdev mode='subsystem' type='mdev' managed='no' model='vfio-pci' display='on' ramfb='on'>" in xml)
    assert "<address uuid='%s'/>" % EXISTING_MDEV in xml and "<address uuid='%s'/>" % new_uuid in xml
    assert "<cid auto='no' address='" in xml

    # The mdev kv_vm created now exists (as the kernel would show it): the re-run changes nothing.
    host.mdev(new_uuid, fake.MDEV_PARENTS[0], "nvidia-63")
    again = run_module("kv_vm", vm)
    assert again["changed"] is False, again["changes"]
    assert dumpxml(name) == xml

    info = run_module("kv_vm_info", {"name": name})["vms"][0]
    assert info["spec"]["host_devices"][0] == T4 and info["spec"]["autoattach_vsock"] is True
    assert info["vsock_cid"] >= 3
    condition, = info["conditions"]
    assert condition["type"] == "LiveMigratable" and condition["status"] == "False"
    assert condition["reason"] == "HostDeviceNotLiveMigratable" and "mdev, pci, usb" in condition["message"]


def test_identical_gpus_one_vm_each_then_a_clear_refusal(run_module, vm_names, host, host_snapshot):
    names = [vm_names() for i in range(4)]
    common = {"permitted_host_devices": PERMITTED, "root": str(host.root)}
    both = run_module("kv_vm", dict(common, vms=[small(n, host_devices=[T4]) for n in names[:2]]))
    assert both["changed"] is True, both.get("msg")
    third = run_module("kv_vm", dict(common, **small(names[2], host_devices=[T4])))
    assert third["changed"] is True
    held = ["0000:%s:00.0" % bus for bus in ("03", "04", "05")]
    for name, address in zip(names, held):
        bus = address.split(":")[1]
        assert "bus='0x%s' slot='0x00'" % bus in dumpxml(name), "one T4 each, the free one"
    before = host_snapshot(only=ours(names))
    refused = run_module("kv_vm", dict(common, **small(names[3], host_devices=[T4])))
    assert refused.get("failed") and refused["errors"][0]["field"] == "host_devices[0].device_name"
    for address, holder in zip(held, names):
        assert "%s is assigned to %s" % (address, holder) in refused["msg"]
    assert host_snapshot(only=ours(names)) == before, "nothing defined"
    # Freed by removing a VM, the T4 goes to the next one.
    run_module("kv_vm", {"name": names[1], "state": "absent"})
    taken = run_module("kv_vm", dict(common, **small(names[3], host_devices=[T4])))
    assert taken["changed"] is True and "bus='0x04' slot='0x00'" in dumpxml(names[3])


def test_device_names_must_be_permitted_and_nothing_changes(run_module, vm_names, host, host_snapshot):
    name = vm_names()
    before = host_snapshot(only=ours([name]))
    failed = run_module("kv_vm", dict(small(name, gpus=[{"name": "g", "device_name": "nvidia.com/GRID_T4_1Q"}]),
                                      permitted_host_devices=PERMITTED, root=str(host.root)))
    assert failed.get("failed")
    assert failed["errors"][0]["field"] == "gpus[0].device_name"
    assert "did you mean 'nvidia.com/GRID_T4-1Q'" in failed["msg"]
    assert host_snapshot(only=ours([name])) == before


def test_vsock_cids_unique_stable_and_the_vhost_vsock_error(run_module, vm_names, host_snapshot):
    names = [vm_names(), vm_names()]
    both = run_module("kv_vm", {"vms": [small(n, autoattach_vsock=True) for n in names]})
    assert both["changed"] is True, both.get("msg")
    cids = [run_module("kv_vm_info", {"name": n})["vms"][0]["vsock_cid"] for n in names]
    assert len(set(cids)) == 2 and min(cids) >= 3
    every = [cid for n in virsh("list", "--all", "--name").stdout.split() if n
             for cid in re.findall(r"<cid auto='no' address='(\d+)'/>", virsh("dumpxml", n, check=False).stdout)]
    assert len(every) == len(set(every)), "unique among all the host's domains"

    # A re-run and a redefine (more vCPUs) keep each CID.
    assert run_module("kv_vm", {"vms": [small(n, autoattach_vsock=True) for n in names]})["changed"] is False
    redefined = run_module("kv_vm", small(names[0], autoattach_vsock=True, cpu={"cores": 2}))
    assert redefined["changed"] is True
    assert "<cid auto='no' address='%d'/>" % cids[0] in dumpxml(names[0])

    # Starting (or restarting) needs /dev/vhost-vsock, which this host lacks: a clear error, nothing changed.
    before = host_snapshot(only=ours(names))
    for state in ("running", "restarted"):
        started = run_module("kv_vm", small(names[1], autoattach_vsock=True, state=state))
        assert started.get("failed"), started
        assert started["errors"][0]["field"] == "autoattach_vsock"
        assert "this host has no /dev/vhost-vsock" in started["msg"] and names[1] in started["msg"]
    assert host_snapshot(only=ours(names)) == before
    assert virsh("domstate", names[1]).stdout.strip() == "shut off"
    # ... which is what libvirt would have failed on.
    assert "vhost-vsock" in virsh("start", names[1], check=False).stderr
    assert "<cid auto='no' address='%d'/>" % cids[1] in dumpxml(names[1]), "the failed start kept the CID"

    # Dropping VSOCK removes the device; the CID is free again.
    assert run_module("kv_vm", small(names[1]))["changed"] is True
    assert "<vsock" not in dumpxml(names[1])


def test_a_vgpu_in_use_cannot_be_removed_by_kv_mdev(run_module, vm_names, host):
    name = vm_names()
    vm = small(name, permitted_host_devices=PERMITTED, root=str(host.root),
               gpus=[{"name": "vgpu", "device_name": "nvidia.com/GRID_T4-1Q"}])
    assert run_module("kv_vm", vm)["changed"] is True
    refused = run_module("kv_mdev", {"uuid": EXISTING_MDEV, "state": "absent", "root": str(host.root)})
    assert refused.get("failed") and "is used by VM %s" % name in refused["msg"]
    assert not host.exists("/sys/bus/mdev/devices/%s/remove" % EXISTING_MDEV) or \
        host.read("/sys/bus/mdev/devices/%s/remove" % EXISTING_MDEV) == ""


def test_kv_mdev_lists_creates_idempotently_and_removes(run_module, host):
    new = "0b0e6d1c-3a4f-4c1e-8f7a-2d9b5e6c7a01"
    listed = run_module("kv_mdev", {"root": str(host.root)})
    assert listed["changed"] is False
    assert listed["parents"][0]["types"][0] == {"type": "nvidia-63", "name": "GRID T4-1Q", "available_instances": 2,
                                                "device_api": "vfio-pci"}
    args = {"uuid": new, "parent": fake.MDEV_PARENTS[0], "type": "nvidia-63", "root": str(host.root)}
    checked = run_module("kv_mdev", args, check=True)
    assert checked["changed"] is True and checked["backend"] == "sysfs"
    assert not host.exists("/etc/udev/rules.d/90-kvcompute-mdev-%s.rules" % new)
    created = run_module("kv_mdev", args)
    assert created["changed"] is True
    host.mdev(new, fake.MDEV_PARENTS[0], "nvidia-63")  # what the kernel does on the create write
    assert run_module("kv_mdev", args)["changed"] is False
    removed = run_module("kv_mdev", {"uuid": new, "state": "absent", "root": str(host.root)})
    assert removed["changed"] is True
    assert not host.exists("/etc/udev/rules.d/90-kvcompute-mdev-%s.rules" % new)


def test_kv_mdev_libvirt_backend_refusal_is_clear(run_module, host):
    # libvirt's node device driver cannot see the fake parent: its own refusal, nothing written.
    failed = run_module("kv_mdev", {"uuid": "0b0e6d1c-3a4f-4c1e-8f7a-2d9b5e6c7a02", "parent": fake.MDEV_PARENTS[0],
                                    "type": "nvidia-63", "backend": "libvirt", "root": str(host.root)})
    assert failed.get("failed")
    assert "libvirt could not define the mediated device" in failed["msg"]
    assert "pci_0000_81_00_0" in failed["msg"]


def test_kv_iommu_reports_refuses_and_binds(run_module, host):
    root = str(host.root)
    report = run_module("kv_iommu", {"root": root})
    assert report["changed"] is False and report["iommu"]["active"] is True
    assert len(report["iommu"]["groups"]) == 6
    refused = run_module("kv_iommu", {"root": root, "devices": [fake.DIRTY_GPU]})
    assert refused.get("failed") and "bound to snd_hda_intel" in refused["msg"]
    assert not host.exists("/etc/udev/rules.d/90-kvcompute-vfio.rules")
    args = {"root": root, "devices": [fake.DIRTY_GPU, fake.DIRTY_AUDIO]}
    checked = run_module("kv_iommu", args, check=True, diff=True)
    assert checked["changed"] is True and len(checked["writes"]) == 5
    assert checked["files"] == ["/etc/modules-load.d/kvcompute-vfio.conf", "/etc/udev/rules.d/90-kvcompute-vfio.rules"]
    assert host.read("/sys/bus/pci/devices/%s/driver_override" % fake.DIRTY_GPU) == "(null)\n", "check mode writes nothing"
    bound = run_module("kv_iommu", args)
    assert bound["changed"] is True
    assert host.read("/sys/bus/pci/devices/%s/driver_override" % fake.DIRTY_GPU) == "vfio-pci"
    # The kernel's answer to the probe, then the re-run is a no-op.
    host.pci(fake.DIRTY_GPU, fake.P40_VENDOR_DEVICE, driver="vfio-pci", group=2, override="vfio-pci")
    host.pci(fake.DIRTY_AUDIO, "10de:10ef", cls="040300", driver="vfio-pci", group=2, override="vfio-pci")
    assert run_module("kv_iommu", args)["changed"] is False


def test_kv_iommu_on_this_host_reports_no_iommu(run_module):
    report = run_module("kv_iommu", {})
    assert report["changed"] is False and report["iommu"]["active"] is False  # TESTBED: no IOMMU here
    refused = run_module("kv_iommu", {"devices": ["0000:00:01.0"]})
    assert refused.get("failed")
