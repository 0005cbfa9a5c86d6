"""Fake sysfs trees for the device tests: what this machine lacks (IOMMU, PCI devices, mdev parents).

Laid out like the kernel's, symlinks and all, so the readers in
plugins/module_utils/host/ (pci, usb, mdev) run unchanged on them:

  /sys/devices/pci0000:00/<addr>/{vendor,device,class,driver_override,driver->,iommu_group->}
  /sys/bus/pci/devices/<addr> -> the device; /sys/bus/pci/drivers/<drv>/{bind,unbind,new_id}
  /sys/kernel/iommu_groups/<n>/devices/<addr> -> the device; /sys/class/iommu/<unit>
  /sys/bus/usb/devices/<b-p>/{idVendor,idProduct,busnum,devnum,product}
  /sys/class/mdev_bus/<parent> -> the device, with mdev_supported_types/<type>/{name,...,create}
  /sys/bus/mdev/devices/<uuid> -> /sys/devices/pci0000:00/<parent>/<uuid> (mdev_type ->)

``scenario(root)`` builds the standard tree the tests share (see its docstring).
``RecordingHostFS`` is a HostFS that also logs every write, in order.
"""

from __future__ import annotations

import os
from pathlib import Path

from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.hostfs import HostFS

PCI_ROOT = "sys/devices/pci0000:00"


class RecordingHostFS(HostFS):
    """A HostFS that records (path, text) of each write: the kernel would act on each one."""

    def __init__(self, root):
        super().__init__(root)
        self.writes = []

    def write(self, path, text):
        self.writes.append((path, text))
        super().write(path, text)


class FakeSysfs:
    def __init__(self, root):
        self.root = Path(root)
        for d in ("sys/bus/pci/devices", "sys/bus/pci/drivers", "sys/kernel/iommu_groups", "sys/class/iommu",
                  "sys/bus/usb/devices", "sys/class/mdev_bus", "sys/bus/mdev/devices", PCI_ROOT,
                  "proc", "dev", "etc", "run"):
            (self.root / d).mkdir(parents=True, exist_ok=True)
        self._file("sys/bus/pci/drivers_probe", "")

    def _file(self, rel, text):
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def _link(self, rel, target):
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            path.unlink()
        path.symlink_to(target)

    def fs(self):
        return RecordingHostFS(str(self.root))

    def iommu_unit(self, name="dmar0"):
        (self.root / "sys/class/iommu" / name).mkdir(parents=True, exist_ok=True)

    def driver(self, name):
        for attr in ("bind", "unbind", "new_id"):
            if not (self.root / "sys/bus/pci/drivers" / name / attr).exists():
                self._file("sys/bus/pci/drivers/%s/%s" % (name, attr), "")

    def pci(self, address, vendor_device, cls="030000", driver=None, group=None, override=None):
        """One PCI device; driver=None leaves it unbound, group=None outside any IOMMU group."""
        vendor, device = vendor_device.split(":")
        rel = "%s/%s" % (PCI_ROOT, address)
        self._file(rel + "/vendor", "0x%s\n" % vendor)
        self._file(rel + "/device", "0x%s\n" % device)
        self._file(rel + "/class", "0x%s\n" % cls)
        self._file(rel + "/driver_override", "%s\n" % (override or "(null)"))
        self._link("sys/bus/pci/devices/%s" % address, "../../../devices/pci0000:00/%s" % address)
        if driver:
            self.driver(driver)
            self._link(rel + "/driver", "../../../bus/pci/drivers/%s" % driver)
        if group is not None:
            self._link(rel + "/iommu_group", "../../../kernel/iommu_groups/%s" % group)
            self._link("sys/kernel/iommu_groups/%s/devices/%s" % (group, address),
                       "../../../../devices/pci0000:00/%s" % address)
        return address

    def usb(self, name, vendor, product, bus, devnum, label="USB device"):
        rel = "sys/devices/usb/%s" % name
        for attr, value in (("idVendor", vendor), ("idProduct", product), ("busnum", bus), ("devnum", devnum),
                            ("product", label)):
            self._file("%s/%s" % (rel, attr), "%s\n" % value)
        self._link("sys/bus/usb/devices/%s" % name, "../../../devices/usb/%s" % name)
        # an interface of it, which the reader must skip
        self._file("sys/devices/usb/%s:1.0/bInterfaceClass" % name, "08\n")
        self._link("sys/bus/usb/devices/%s:1.0" % name, "../../../devices/usb/%s:1.0" % name)

    def mdev_parent(self, address, types):
        """types: {type_id: (name, available_instances)}; the parent is also a PCI device (if not yet)."""
        if not (self.root / PCI_ROOT / address).exists():
            self.pci(address, "10de:1eb8", driver="nvidia", group=None)
        for type_id, (name, available) in types.items():
            rel = "%s/%s/mdev_supported_types/%s" % (PCI_ROOT, address, type_id)
            self._file(rel + "/name", "%s\n" % name)
            self._file(rel + "/available_instances", "%d\n" % available)
            self._file(rel + "/device_api", "vfio-pci\n")
            self._file(rel + "/create", "")
            (self.root / rel / "devices").mkdir(exist_ok=True)
        self._link("sys/class/mdev_bus/%s" % address, "../../devices/pci0000:00/%s" % address)

    def mdev(self, uuid, parent, type_id):
        rel = "%s/%s/%s" % (PCI_ROOT, parent, uuid)
        self._file(rel + "/remove", "")
        self._link(rel + "/mdev_type", "../mdev_supported_types/%s" % type_id)
        self._link("sys/bus/mdev/devices/%s" % uuid, "../../../devices/pci0000:00/%s/%s" % (parent, uuid))

    def cpuinfo(self, vendor):
        self._file("proc/cpuinfo", "processor\t: 0\nvendor_id\t: %s\nflags\t\t: fpu vme\n\n" % vendor)

    def read(self, rel):
        return (self.root / rel.lstrip("/")).read_text()

    def exists(self, rel):
        return os.path.lexists(self.root / rel.lstrip("/"))


# The standard tree's names, for the tests' assertions.
CLEAN_GPU = "0000:01:00.0"  # group 1: GPU + its audio function, both on vfio-pci
CLEAN_AUDIO = "0000:01:00.1"
DIRTY_GPU = "0000:02:00.0"  # group 2: GPU unbound, its audio still on snd_hda_intel, a bridge on pcieport
DIRTY_AUDIO = "0000:02:00.1"
DIRTY_BRIDGE = "0000:00:1c.0"
IDENTICAL = ("0000:03:00.0", "0000:04:00.0", "0000:05:00.0")  # three T4s, groups 3-5, on vfio-pci
HOST_NIC = "0000:06:00.0"  # group 6: a NIC on e1000e (the host's)
MDEV_PARENTS = ("0000:81:00.0", "0000:82:00.0")
T4_VENDOR_DEVICE = "10de:1eb8"
P40_VENDOR_DEVICE = "10de:1b38"
USB_STORAGE = ("0781", "5567")  # two identical SanDisk sticks + one keyboard


def scenario(root, iommu=True):
    """The standard fake host of the device tests.

    - IOMMU active (a dmar0 unit) unless iommu=False (then no groups either)
    - group 1 clean: a P40 GPU and its audio function, both bound to vfio-pci
    - group 2 dirty: a P40 GPU with no driver, its audio on snd_hda_intel, a PCI bridge on pcieport
    - groups 3-5: three identical T4 GPUs on vfio-pci
    - group 6: the host's NIC on e1000e
    - USB: two identical 0781:5567 sticks (bus 1 dev 2, bus 1 dev 3) and a 046d:c31c keyboard (bus 2 dev 2)
    - mdev parents 0000:81:00.0 and 0000:82:00.0 offering nvidia-63 ("GRID T4-1Q", 2 and 0 free) and
      nvidia-64 ("GRID T4-2Q", 1 free each); one existing nvidia-63 mdev on 0000:81:00.0
    """
    fake = FakeSysfs(root)
    g = (lambda n: n) if iommu else (lambda n: None)
    if iommu:
        fake.iommu_unit()
    fake.driver("vfio-pci")
    fake.pci(CLEAN_GPU, P40_VENDOR_DEVICE, driver="vfio-pci", group=g(1), override="vfio-pci")
    fake.pci(CLEAN_AUDIO, "10de:10ef", cls="040300", driver="vfio-pci", group=g(1), override="vfio-pci")
    fake.pci(DIRTY_GPU, P40_VENDOR_DEVICE, driver=None, group=g(2))
    fake.pci(DIRTY_AUDIO, "10de:10ef", cls="040300", driver="snd_hda_intel", group=g(2))
    fake.pci(DIRTY_BRIDGE, "8086:a110", cls="060400", driver="pcieport", group=g(2))
    for i, address in enumerate(IDENTICAL):
        fake.pci(address, T4_VENDOR_DEVICE, cls="030200", driver="vfio-pci", group=g(3 + i), override="vfio-pci")
    fake.pci(HOST_NIC, "8086:10d3", cls="020000", driver="e1000e", group=g(6))
    fake.usb("1-1", USB_STORAGE[0], USB_STORAGE[1], 1, 2, "Cruzer Blade")
    fake.usb("1-2", USB_STORAGE[0], USB_STORAGE[1], 1, 3, "Cruzer Blade")
    fake.usb("2-1", "046d", "c31c", 2, 2, "Keyboard")
    fake.mdev_parent(MDEV_PARENTS[0], {"nvidia-63": ("GRID T4-1Q", 2), "nvidia-64": ("GRID T4-2Q", 1)})
    fake.mdev_parent(MDEV_PARENTS[1], {"nvidia-63": ("GRID T4-1Q", 0), "nvidia-64": ("GRID T4-2Q", 1)})
    fake.mdev("6b1f3f6e-8e5c-4b7a-9d55-000000000001", MDEV_PARENTS[0], "nvidia-63")
    fake.cpuinfo("GenuineIntel")
    return fake
