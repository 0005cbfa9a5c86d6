# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PCI devices and IOMMU groups, read from sysfs (through HostFS, so tests use a fake tree)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

PCI_DEVICES = "/sys/bus/pci/devices"
IOMMU_GROUPS = "/sys/kernel/iommu_groups"
IOMMU_UNITS = "/sys/class/iommu"
ADDRESS = r"^(?:([0-9a-fA-F]{4}):)?([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$"
VENDOR_DEVICE = r"^([0-9a-fA-F]{4}):([0-9a-fA-F]{4})$"
BRIDGE_CLASS = "0604"  # PCI-to-PCI bridge: never passed through, harmless in a group
# Drivers that leave a device free for a guest (VFIO's "viable" group members).
GUEST_DRIVERS = ("vfio-pci", "pci-stub")


def normalize_address(text):
    """'01:00.0' or '0000:01:00.0' -> '0000:01:00.0'; None when it is not a PCI address."""
    match = re.match(ADDRESS, text or "")
    if not match:
        return None
    domain, bus, slot, function = match.groups()
    return "%s:%s:%s.%s" % ((domain or "0000").lower(), bus.lower(), slot.lower(), function)


def normalize_vendor_device(text):
    """'10DE:1EB8' -> '10de:1eb8'; None when it is not vendor:device."""
    match = re.match(VENDOR_DEVICE, text or "")
    return ("%s:%s" % match.groups()).lower() if match else None


def _hex(fs, path):
    try:
        value = fs.read(path).strip().lower()
    except (OSError, IOError):
        return None
    return value[2:] if value.startswith("0x") else value


def read_device(fs, address):
    base = "%s/%s" % (PCI_DEVICES, address)
    override = None
    if fs.exists(base + "/driver_override"):
        override = fs.read(base + "/driver_override").strip()
        override = None if override in ("", "(null)") else override
    vendor, device = _hex(fs, base + "/vendor"), _hex(fs, base + "/device")
    return {
        "address": address,
        "vendor": vendor,
        "device": device,
        "vendor_device": "%s:%s" % (vendor, device),
        "class": _hex(fs, base + "/class"),
        "driver": fs.link_name(base + "/driver"),
        "driver_override": override,
        "iommu_group": fs.link_name(base + "/iommu_group"),
    }


def read_devices(fs):
    """Every PCI device by address."""
    return dict((address, read_device(fs, address)) for address in fs.listdir(PCI_DEVICES))


def is_bridge(device):
    return (device.get("class") or "").startswith(BRIDGE_CLASS)


def read_iommu(fs, devices=None):
    """Whether the IOMMU is active, and its groups with their devices and drivers.

    Active means the kernel registered an IOMMU unit or built groups: read from
    sysfs, not dmesg, so it is what the running kernel does, whatever the cmdline says.
    """
    devices = read_devices(fs) if devices is None else devices
    units = fs.listdir(IOMMU_UNITS)
    groups = []
    for group in sorted(fs.listdir(IOMMU_GROUPS), key=lambda g: int(g) if g.isdigit() else g):
        members = fs.listdir("%s/%s/devices" % (IOMMU_GROUPS, group))
        groups.append({"id": group, "devices": [devices.get(a) or {"address": a} for a in members]})
    return {"active": bool(units or groups), "units": units, "groups": groups}


def group_members(fs, group):
    return fs.listdir("%s/%s/devices" % (IOMMU_GROUPS, group))
