# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which host device each of a VM's host_devices and gpus gets: pure, from plain data.

A device (or mdev instance) goes to one VM at a time.  What other VMs hold is
read from their definitions (`usage`); a VM keeps what its own definition
already holds while that still fits (`own`), so re-runs and restarts never
move a device; otherwise the first free match is taken.  Among identical
devices that means the free one.  vGPUs use a free existing mdev of the
requested type, else one is planned for creation on the parent with the most
free instances.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import uuid as _uuid

GUEST_DRIVERS = (None, "vfio-pci", "pci-stub")
MDEV_NAMESPACE = _uuid.UUID("1c0f0f3a-6a55-4b1f-9a0e-6b764636f6d0")  # kvcompute's namespace for new mdev UUIDs


def _same_type_name(a, b):
    """KubeVirt resource names spell mdev type names with '_' for ' '."""
    return a.strip().replace(" ", "_") == b.strip().replace(" ", "_")


def _users(usage, kind, key):
    return usage.get(kind, {}).get(key)


class _Allocator:
    def __init__(self, permitted, inventory, usage, own, vm_key):
        self.permitted, self.inv, self.own, self.vm_key = permitted, inventory, own, vm_key
        self.usage = dict((k, dict(v)) for k, v in usage.items() if isinstance(v, dict))
        self.claimed = {"pci": {}, "usb": {}, "mdev": {}}  # by this VM: key -> alias
        self.creates = {}  # (parent, type) -> planned new mdevs
        self.problems = []
        self._foreign_usb_ids(usage.get("usb_ids", []))

    def _foreign_usb_ids(self, refs):
        """A USB hostdev given by ids only holds the first device with those ids."""
        for vendor, product, vm in refs:
            for dev in self.inv.get("usb", []):
                key = (dev["bus"], dev["device"])
                if (dev["vendor"], dev["product"]) == (vendor, product) and key not in self.usage.setdefault("usb", {}):
                    self.usage["usb"][key] = vm
                    break

    def free(self, kind, key):
        return key not in self.usage.get(kind, {}) and key not in self.claimed[kind]

    def claim(self, kind, key, alias):
        self.claimed[kind][key] = alias

    # --- PCI ----------------------------------------------------------
    def pci_by_address(self, where, alias, address):
        if address not in self.inv.get("pci", {}):
            self.problems.append((where + ".pci_address", "no PCI device %s on this host" % address))
            return None
        if not self.free("pci", address):
            holder = _users(self.usage, "pci", address) or "this VM's %s" % self.claimed["pci"].get(address)
            self.problems.append((where + ".pci_address", "%s is already assigned to %s" % (address, holder)))
            return None
        self.claim("pci", address, alias)
        return {"name": alias, "type": "pci", "address": address}

    def pci_by_id(self, where, alias, vendor_device, device_name):
        found = sorted(a for a, d in self.inv.get("pci", {}).items() if d["vendor_device"] == vendor_device)
        kept = self.own.get(alias, {})
        if kept.get("type") == "pci" and kept.get("address") in found and self.free("pci", kept["address"]):
            found.remove(kept["address"])
            found.insert(0, kept["address"])
        busy = []
        for address in found:
            driver = self.inv["pci"][address].get("driver")
            if not self.free("pci", address):
                busy.append("%s is assigned to %s" % (address, _users(self.usage, "pci", address) or "this VM"))
            elif driver not in GUEST_DRIVERS:
                busy.append("%s is bound to the host driver %s (bind it to vfio-pci with kv_iommu)" % (address, driver))
            else:
                self.claim("pci", address, alias)
                return {"name": alias, "type": "pci", "address": address}
        self.problems.append((where + ".device_name", "no free PCI device for %s (%s)%s" % (
            device_name, vendor_device, ": " + "; ".join(busy) if busy else ": none on this host")))
        return None

    # --- USB ----------------------------------------------------------
    def usb(self, where, alias, selector, field):
        ident = (selector["vendor"], selector["product"])
        found = [d for d in self.inv.get("usb", []) if (d["vendor"], d["product"]) == ident]
        kept = self.own.get(alias, {})
        found.sort(key=lambda d: (kept.get("bus"), kept.get("device")) != (d["bus"], d["device"]))
        for dev in found:
            key = (dev["bus"], dev["device"])
            if self.free("usb", key):
                self.claim("usb", key, alias)
                return {"name": alias, "type": "usb", "vendor": dev["vendor"], "product": dev["product"],
                        "bus": dev["bus"], "device": dev["device"]}
        ident = "%s:%s" % ident
        if not found:
            self.problems.append((where + field, "no USB device %s on this host" % ident))
        else:
            self.problems.append((where + field, "every USB device %s is assigned already: %s" % (ident, ", ".join(
                "bus %d device %d to %s" % (d["bus"], d["device"], _users(self.usage, "usb", (d["bus"], d["device"]))
                                            or "this VM") for d in found))))
        return None

    # --- mediated devices -----------------------------------------------
    def mdev(self, where, alias, type_name, device_name):
        types = self.inv.get("mdev_types", {})
        matching = set((p, t) for p, offered in types.items() for t, info in offered.items()
                       if _same_type_name(info["name"], type_name))
        existing = sorted(u for u, m in self.inv.get("mdevs", {}).items() if (m["parent"], m["type"]) in matching)
        kept = self.own.get(alias, {})
        if kept.get("type") == "mdev" and kept.get("uuid") in existing:
            existing.remove(kept["uuid"])
            existing.insert(0, kept["uuid"])
        for uuid in existing:
            if self.free("mdev", uuid):
                self.claim("mdev", uuid, alias)
                return {"name": alias, "type": "mdev", "uuid": uuid, "create": None}
        room = sorted(((types[p][t]["available_instances"] - self.creates.get((p, t), 0), p, t) for p, t in matching),
                      key=lambda r: (-r[0], r[1], r[2]))
        if not room or room[0][0] < 1:
            self.problems.append((where + ".device_name", "no free mediated device for %s (type %r): %s" % (
                device_name, type_name, "no parent offers that type" if not matching else
                "every instance is in use and no parent has a free one")))
            return None
        _free, parent, type_id = room[0]
        self.creates[(parent, type_id)] = self.creates.get((parent, type_id), 0) + 1
        uuid = kept.get("uuid") if kept.get("type") == "mdev" and self.free("mdev", kept.get("uuid")) else None
        uuid = uuid or str(_uuid.uuid5(MDEV_NAMESPACE, "%s/%s" % (self.vm_key, alias)))
        self.claim("mdev", uuid, alias)
        return {"name": alias, "type": "mdev", "uuid": uuid, "create": {"parent": parent, "type": type_id}}

    # --- one named device -------------------------------------------------
    def by_name(self, where, alias, device_name):
        entry = self.permitted.get(device_name)
        if entry is None:  # spec checks this first; a direct caller may not have
            self.problems.append((where + ".device_name", "%r is not in permitted_host_devices" % device_name))
            return []
        if entry["kind"] == "pci":
            found = self.pci_by_id(where, alias, entry["vendor_device"], device_name)
        elif entry["kind"] == "mdev":
            found = self.mdev(where, alias, entry["type_name"], device_name)
        else:
            # A USB resource is one device per selector: the first keeps the name, the others get -1, -2 ...
            found = [self.usb(where, alias if i == 0 else "%s-%d" % (alias, i), sel, ".device_name")
                     for i, sel in enumerate(entry["selectors"])]
            return [f for f in found if f]
        return [found] if found else []


def resolve(spec, permitted, inventory, usage, own, vm_key, display=True):
    """Return (assignments, problems) for spec.host_devices then spec.gpus.

    permitted: from spec/permitted.py.  inventory: {'pci': {address: device}, 'usb': [device],
    'mdev_types': {parent: {type: {name, available_instances}}}, 'mdevs': {uuid: {parent, type}}}.
    usage (other VMs): {'pci': {address: vm}, 'usb': {(bus, device): vm}, 'mdev': {uuid: vm},
    'usb_ids': [(vendor, product, vm)]}.  own: this VM's current assignments by alias.
    display: the first vGPU gets display and ramfb (KubeVirt's default) when the VM has a display.
    """
    alloc = _Allocator(permitted, inventory, usage, own, vm_key)
    out = []
    for i, dev in enumerate(spec.host_devices):
        where = "host_devices[%d]" % i
        if dev.pci_address:
            found = alloc.pci_by_address(where, dev.name, dev.pci_address)
            out.extend([found] if found else [])
        elif dev.usb:
            found = alloc.usb(where, dev.name, vars(dev.usb), ".usb")
            out.extend([found] if found else [])
        else:
            out.extend(alloc.by_name(where, dev.name, dev.device_name))
    first_vgpu = True
    for i, gpu in enumerate(spec.gpus):
        for found in alloc.by_name("gpus[%d]" % i, gpu.name, gpu.device_name):
            if found["type"] == "mdev":
                found["display"] = display and first_vgpu
                first_vgpu = False
            out.append(found)
    return out, alloc.problems


def claims(assignments):
    """What a VM's assignments hold, in `usage` form (for the next VM of the same task)."""
    held = {"pci": [], "usb": [], "mdev": []}
    for a in assignments:
        if a["type"] == "pci":
            held["pci"].append(a["address"])
        elif a["type"] == "usb":
            held["usb"].append((a["bus"], a["device"]))
        else:
            held["mdev"].append(a["uuid"])
    return held
