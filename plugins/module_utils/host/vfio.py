# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bind PCI devices to vfio-pci (and give them back), now and at every boot.

Now: driver_override, unbind from the current driver, drivers_probe: the
kernel's own per-device way, which never touches other devices with the same
vendor:device (unlike vfio-pci's new_id or ids=).

At boot: one udev rule per device address in RULES_FILE sets driver_override
when the device appears and re-probes it (a driver that bound first is
unbound), and MODULES_FILE loads vfio-pci.  By address, not by id, so a host
with two identical GPUs can keep one for itself.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.kvcompute.libvirt.plugins.module_utils.host import pci

VFIO = "vfio-pci"
RULES_FILE = "/etc/udev/rules.d/90-kvcompute-vfio.rules"
MODULES_FILE = "/etc/modules-load.d/kvcompute-vfio.conf"
DRIVERS_PROBE = "/sys/bus/pci/drivers_probe"
RULE = ('ACTION=="add", SUBSYSTEM=="pci", KERNEL=="{a}", ATTR{{driver_override}}="vfio-pci", '
        'RUN+="/bin/sh -c \'[ -e /sys/bus/pci/devices/{a}/driver ] && echo {a} > /sys/bus/pci/devices/{a}/driver/unbind; '
        'echo {a} > /sys/bus/pci/drivers_probe\'"')
HEADER = "# Written by kvcompute.libvirt kv_iommu: these PCI devices belong to vfio-pci (guests), not the host.\n"


class BindError(ValueError):
    """A request that cannot be carried out; nothing was written."""


def resolve(devices, selectors, field="devices"):
    """PCI addresses for selectors (addresses or vendor:device), in order, each once."""
    addresses, problems = [], []
    for i, selector in enumerate(selectors):
        address = pci.normalize_address(selector)
        wanted = pci.normalize_vendor_device(selector)
        if address:
            if address not in devices:
                problems.append("%s[%d]: no PCI device %s on this host" % (field, i, address))
            found = [address]
        elif wanted:
            found = sorted(a for a, d in devices.items() if d["vendor_device"] == wanted)
            if not found:
                problems.append("%s[%d]: no PCI device with vendor:device %s on this host" % (field, i, wanted))
        else:
            problems.append("%s[%d]: %r is neither a PCI address (0000:01:00.0) nor vendor:device (10de:1eb8)"
                            % (field, i, selector))
            found = []
        addresses.extend(a for a in found if a not in addresses)
    if problems:
        raise BindError("; ".join(problems))
    return addresses


def _describe(device):
    return "%s (%s, class %s) bound to %s" % (device["address"], device["vendor_device"], device["class"],
                                              device["driver"])


def culprits(fs, devices, addresses):
    """Group members outside the request still in use by host drivers (bridges excepted), by address."""
    found = {}
    wanted = set(addresses)
    for address in addresses:
        group = devices[address]["iommu_group"]
        for member in pci.group_members(fs, group):
            other = devices.get(member)
            if member in wanted or other is None or pci.is_bridge(other):
                continue
            if other["driver"] and other["driver"] not in pci.GUEST_DRIVERS:
                found.setdefault(address, []).append(_describe(other))
    return found


def plan_bind(fs, selectors, persistent=True):
    """The writes (path, text) and file contents that bind the selected devices to vfio-pci.

    Raises BindError, listing every reason, before anything is written: IOMMU not
    active, unknown devices, groups shared with devices the host still uses.
    """
    devices = pci.read_devices(fs)
    addresses = resolve(devices, selectors)
    iommu = pci.read_iommu(fs, devices)
    if not iommu["active"]:
        raise BindError("the IOMMU is not active on this host (no /sys/class/iommu units, no "
                        "/sys/kernel/iommu_groups): enable it (the kvcompute.libvirt.iommu role sets "
                        "intel_iommu=on or amd_iommu=on) and reboot before binding devices to vfio-pci")
    problems = ["%s is in no IOMMU group" % a for a in addresses if not devices[a]["iommu_group"]]
    if problems:
        raise BindError("; ".join(problems))
    dirty = culprits(fs, devices, addresses)
    if dirty:
        raise BindError("refusing to bind: " + "; ".join(
            "IOMMU group %s of %s also holds devices in use by host drivers: %s" % (
                devices[a]["iommu_group"], a, ", ".join(c)) for a, c in sorted(dirty.items()))
            + " (bind them too, or unbind them from their drivers, since a guest gets the whole group)")
    if not fs.isdir("/sys/bus/pci/drivers/%s" % VFIO):
        raise BindError("the vfio-pci driver is not loaded (no /sys/bus/pci/drivers/vfio-pci): modprobe vfio-pci")
    writes = []
    for address in addresses:
        writes.extend(_bind_writes(devices[address]))
    files = _persist(fs, addresses, add=True) if persistent else {}
    return {"devices": addresses, "writes": writes, "files": files}


def _bind_writes(device):
    base = "%s/%s" % (pci.PCI_DEVICES, device["address"])
    writes = []
    if device["driver_override"] != VFIO:
        writes.append((base + "/driver_override", VFIO))
    if device["driver"] != VFIO:
        if device["driver"]:
            writes.append((base + "/driver/unbind", device["address"]))
        writes.append((DRIVERS_PROBE, device["address"]))
    return writes


def plan_release(fs, selectors, persistent=True):
    """The writes that give the selected devices back to their host drivers (no override, re-probed)."""
    devices = pci.read_devices(fs)
    addresses = resolve(devices, selectors)
    writes = []
    for address in addresses:
        device = devices[address]
        base = "%s/%s" % (pci.PCI_DEVICES, address)
        if device["driver_override"]:
            writes.append((base + "/driver_override", "\n"))  # a newline clears it
        if device["driver"] == VFIO or device["driver_override"]:
            if device["driver"]:
                writes.append((base + "/driver/unbind", address))
            writes.append((DRIVERS_PROBE, address))
    files = _persist(fs, addresses, add=False) if persistent else {}
    return {"devices": addresses, "writes": writes, "files": files}


def persisted(fs):
    """Addresses the rules file binds at boot."""
    if not fs.exists(RULES_FILE):
        return []
    return re.findall(r'KERNEL=="([^"]+)"', fs.read(RULES_FILE))


def _read(fs, path):
    return fs.read(path) if fs.exists(path) else None


def _persist(fs, addresses, add):
    """{path: (before, after)} for the files that change; after None means delete."""
    kept = persisted(fs)
    wanted = sorted(set(kept) | set(addresses)) if add else [a for a in kept if a not in addresses]
    rules = (HEADER + "".join(RULE.format(a=a) + "\n" for a in wanted)) if wanted else None
    modules = (HEADER + VFIO + "\n") if wanted else None
    changes = {}
    for path, after in ((RULES_FILE, rules), (MODULES_FILE, modules)):
        before = _read(fs, path)
        if before != after:
            changes[path] = (before, after)
    return changes


def apply(fs, planned):
    """Carry out a plan_bind/plan_release result: sysfs writes in order, then the boot files."""
    for path, text in planned["writes"]:
        fs.write(path, text)
    for path, (_before, after) in sorted(planned["files"].items()):
        if after is None:
            fs.remove(path)
        else:
            fs.makedirs(path.rsplit("/", 1)[0])
            fs.write(path, after)
