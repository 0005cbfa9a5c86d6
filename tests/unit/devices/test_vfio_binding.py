"""Binding to vfio-pci on the fake sysfs: the writes, the boot files, the refusals."""

import pytest

from ansible_collections.kvcompute.libvirt.plugins.module_utils.host import vfio
from tests.support import fake_sysfs as fake

DIRTY = fake.DIRTY_GPU


@pytest.fixture
def host(tmp_path):
    return fake.scenario(tmp_path)


def _bind(host, selectors, persistent=True):
    fs = host.fs()
    planned = vfio.plan_bind(fs, selectors, persistent)
    vfio.apply(fs, planned)
    return planned, fs.writes


def test_a_dirty_group_is_refused_naming_the_culprit_and_nothing_is_written(host, tmp_path):
    fs = host.fs()
    with pytest.raises(vfio.BindError) as err:
        vfio.plan_bind(fs, [DIRTY])
    message = str(err.value)
    assert "IOMMU group 2 of %s" % DIRTY in message
    assert "%s (10de:10ef, class 040300) bound to snd_hda_intel" % fake.DIRTY_AUDIO in message
    assert fake.DIRTY_BRIDGE not in message, "a PCI bridge on pcieport is no culprit"
    assert fs.writes == []
    assert not (tmp_path / "etc/udev").exists()


def test_binding_the_whole_group_writes_override_unbind_probe_in_order(host):
    planned, writes = _bind(host, [DIRTY, fake.DIRTY_AUDIO])
    base = "/sys/bus/pci/devices/"
    assert planned["devices"] == [DIRTY, fake.DIRTY_AUDIO]
    assert writes[:5] == [
        (base + DIRTY + "/driver_override", "vfio-pci"),
        ("/sys/bus/pci/drivers_probe", DIRTY),  # no driver: nothing to unbind
        (base + fake.DIRTY_AUDIO + "/driver_override", "vfio-pci"),
        (base + fake.DIRTY_AUDIO + "/driver/unbind", fake.DIRTY_AUDIO),
        ("/sys/bus/pci/drivers_probe", fake.DIRTY_AUDIO),
    ]
    # The unbind went to the device's own driver, through the sysfs 'driver' link.
    assert host.read("/sys/bus/pci/drivers/snd_hda_intel/unbind") == fake.DIRTY_AUDIO
    assert host.read(base + DIRTY + "/driver_override") == "vfio-pci"
    rules = host.read(vfio.RULES_FILE)
    for address in (DIRTY, fake.DIRTY_AUDIO):
        assert 'KERNEL=="%s", ATTR{driver_override}="vfio-pci"' % address in rules
    assert host.read(vfio.MODULES_FILE).endswith("vfio-pci\n")


def test_a_clean_group_already_on_vfio_pci_needs_nothing(host):
    planned = vfio.plan_bind(host.fs(), [fake.CLEAN_GPU, fake.CLEAN_AUDIO], persistent=False)
    assert planned["writes"] == [] and planned["files"] == {}
    # Alone, the GPU's group is still clean: its audio function is on vfio-pci, not a host driver.
    assert vfio.plan_bind(host.fs(), [fake.CLEAN_GPU], persistent=False)["writes"] == []


def test_vendor_device_selects_identical_devices_only(host):
    fs = host.fs()
    with pytest.raises(vfio.BindError) as err:
        vfio.plan_bind(fs, [fake.P40_VENDOR_DEVICE])
    assert "snd_hda_intel" in str(err.value), "the P40 in the dirty group makes the whole request fail"
    planned = vfio.plan_bind(fs, ["0000:03:00.0", "04:00.0"])
    assert planned["devices"] == ["0000:03:00.0", "0000:04:00.0"]
    assert planned["writes"] == [], "already bound"
    assert sorted(planned["files"]) == [vfio.MODULES_FILE, vfio.RULES_FILE], "made persistent"


def test_persistent_binding_is_idempotent_and_release_removes_it(host):
    _bind(host, [DIRTY, fake.DIRTY_AUDIO])
    # As the kernel would have it after the probe:
    host.pci(DIRTY, fake.P40_VENDOR_DEVICE, driver="vfio-pci", group=2, override="vfio-pci")
    host.pci(fake.DIRTY_AUDIO, "10de:10ef", cls="040300", driver="vfio-pci", group=2, override="vfio-pci")
    again = vfio.plan_bind(host.fs(), [DIRTY, fake.DIRTY_AUDIO])
    assert again["writes"] == [] and again["files"] == {}
    fs = host.fs()
    planned = vfio.plan_release(fs, [DIRTY, fake.DIRTY_AUDIO])
    vfio.apply(fs, planned)
    assert fs.writes[:3] == [("/sys/bus/pci/devices/%s/driver_override" % DIRTY, "\n"),
                             ("/sys/bus/pci/devices/%s/driver/unbind" % DIRTY, DIRTY),
                             ("/sys/bus/pci/drivers_probe", DIRTY)]
    assert not host.exists(vfio.RULES_FILE) and not host.exists(vfio.MODULES_FILE)


def test_refusals_name_what_is_wrong(host, tmp_path):
    fs = host.fs()
    with pytest.raises(vfio.BindError, match=r"devices\[0\]: no PCI device 0000:09:00.0"):
        vfio.plan_bind(fs, ["09:00.0"])
    with pytest.raises(vfio.BindError, match=r"devices\[1\]: 'gpu' is neither a PCI address"):
        vfio.plan_bind(fs, ["03:00.0", "gpu"])
    with pytest.raises(vfio.BindError, match="no PCI device with vendor:device 1234:5678"):
        vfio.plan_bind(fs, ["1234:5678"])


def test_no_iommu_no_binding(tmp_path):
    host = fake.scenario(tmp_path, iommu=False)
    with pytest.raises(vfio.BindError, match="the IOMMU is not active"):
        vfio.plan_bind(host.fs(), [fake.CLEAN_GPU])
