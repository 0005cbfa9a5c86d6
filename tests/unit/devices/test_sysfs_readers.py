"""The host readers (PCI, IOMMU groups, USB, mdev) over the standard fake sysfs tree."""

from ansible_collections.kvcompute.libvirt.plugins.module_utils.host import mdev, pci, usb
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.hostfs import HostFS
from tests.support import fake_sysfs as fake


def test_pci_devices_with_driver_group_and_override(tmp_path):
    fake.scenario(tmp_path)
    devices = pci.read_devices(HostFS(str(tmp_path)))
    assert devices[fake.DIRTY_AUDIO] == {
        "address": fake.DIRTY_AUDIO, "vendor": "10de", "device": "10ef", "vendor_device": "10de:10ef",
        "class": "040300", "driver": "snd_hda_intel", "driver_override": None, "iommu_group": "2"}
    assert devices[fake.CLEAN_GPU]["driver"] == "vfio-pci"
    assert devices[fake.CLEAN_GPU]["driver_override"] == "vfio-pci"
    assert devices[fake.DIRTY_GPU]["driver"] is None
    assert pci.is_bridge(devices[fake.DIRTY_BRIDGE]) and not pci.is_bridge(devices[fake.DIRTY_GPU])
    t4s = sorted(a for a, d in devices.items() if d["vendor_device"] == fake.T4_VENDOR_DEVICE)
    assert t4s == list(fake.IDENTICAL + fake.MDEV_PARENTS), "the vGPU parents are T4s too, on the nvidia driver"
    assert [devices[a]["driver"] for a in fake.MDEV_PARENTS] == ["nvidia", "nvidia"]


def test_iommu_active_with_groups_and_their_devices(tmp_path):
    fake.scenario(tmp_path)
    iommu = pci.read_iommu(HostFS(str(tmp_path)))
    assert iommu["active"] is True and iommu["units"] == ["dmar0"]
    assert [g["id"] for g in iommu["groups"]] == ["1", "2", "3", "4", "5", "6"]
    group2 = iommu["groups"][1]
    assert [(d["address"], d["driver"]) for d in group2["devices"]] == [
        (fake.DIRTY_BRIDGE, "pcieport"), (fake.DIRTY_GPU, None), (fake.DIRTY_AUDIO, "snd_hda_intel")]


def test_iommu_inactive_without_units_or_groups(tmp_path):
    fake.scenario(tmp_path, iommu=False)
    iommu = pci.read_iommu(HostFS(str(tmp_path)))
    assert iommu == {"active": False, "units": [], "groups": []}


def test_the_real_host_reads_without_error():
    # This machine has no IOMMU (TESTBED.md); the reader must still answer.
    assert isinstance(pci.read_iommu(HostFS("/"))["active"], bool)


def test_addresses_and_ids_are_normalized():
    assert pci.normalize_address("01:00.0") == "0000:01:00.0"
    assert pci.normalize_address("0000:AF:1F.7") == "0000:af:1f.7"
    assert pci.normalize_address("01:00.8") is None
    assert pci.normalize_vendor_device("10DE:1EB8") == "10de:1eb8"
    assert pci.normalize_vendor_device("10de-1eb8") is None


def test_usb_devices_skip_interfaces(tmp_path):
    fake.scenario(tmp_path)
    found = usb.read_devices(HostFS(str(tmp_path)))
    assert [(d["vendor"], d["product"], d["bus"], d["device"]) for d in found] == [
        ("0781", "5567", 1, 2), ("0781", "5567", 1, 3), ("046d", "c31c", 2, 2)]
    assert found[0]["name"] == "Cruzer Blade"


def test_mdev_parents_types_and_existing_mdevs(tmp_path):
    fake.scenario(tmp_path)
    fs = HostFS(str(tmp_path))
    parents = mdev.read_parents(fs)
    assert sorted(parents) == list(fake.MDEV_PARENTS)
    assert parents[fake.MDEV_PARENTS[0]]["nvidia-63"] == {
        "name": "GRID T4-1Q", "available_instances": 2, "device_api": "vfio-pci"}
    assert parents[fake.MDEV_PARENTS[1]]["nvidia-63"]["available_instances"] == 0
    assert mdev.read_mdevs(fs) == {"6b1f3f6e-8e5c-4b7a-9d55-000000000001": {
        "uuid": "6b1f3f6e-8e5c-4b7a-9d55-000000000001", "parent": fake.MDEV_PARENTS[0], "type": "nvidia-63"}}
