# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host devices (PCI, USB, mediated) and VSOCK: render, parse back, and what a domain holds.

As KubeVirt's converter writes them: PCI as a managed VFIO hostdev, USB by
vendor/product (and bus/device, which tells identical devices apart), a vGPU as
an mdev hostdev with display and ramfb on the first one, VSOCK with a fixed CID.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain import metadata
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import USER_ALIAS, alias_of, attr, sub, to_int


def render(devices, spec, plan):
    for dev in getattr(plan, "hostdevs", None) or []:
        render_hostdev(devices, dev)
    cid = getattr(plan, "vsock_cid", None)
    if spec.autoattach_vsock and cid is not None:
        vsock = sub(devices, "vsock", model="virtio")
        sub(vsock, "cid", auto="no", address=cid)
        sub(vsock, "alias", name=USER_ALIAS + "vsock")


def render_hostdev(devices, dev):
    if dev["type"] == "pci":
        el = sub(devices, "hostdev", mode="subsystem", type="pci", managed="yes")
        domain, bus, rest = dev["address"].split(":")
        slot, function = rest.split(".")
        sub(sub(el, "source"), "address", domain="0x" + domain, bus="0x" + bus, slot="0x" + slot,
            function="0x" + function)
    elif dev["type"] == "usb":
        el = sub(devices, "hostdev", mode="subsystem", type="usb", managed="yes")
        source = sub(el, "source")
        sub(source, "vendor", id="0x" + dev["vendor"])
        sub(source, "product", id="0x" + dev["product"])
        if dev.get("bus") is not None:
            sub(source, "address", bus=dev["bus"], device=dev["device"])
    else:
        display = "on" if dev.get("display") else None
        el = sub(devices, "hostdev", mode="subsystem", type="mdev", model="vfio-pci", display=display,
                 ramfb=display)
        sub(sub(el, "source"), "address", uuid=dev["uuid"])
    sub(el, "alias", name=USER_ALIAS + dev["name"])
    return el


def assignment(el):
    """What one hostdev element holds: {type, address | vendor, product, bus, device | uuid}."""
    kind = el.get("type")
    if kind == "pci":
        src = el.find("source/address")
        if src is None:
            return None
        parts = [int(src.get(k, "0"), 16) for k in ("domain", "bus", "slot", "function")]
        return {"type": "pci", "address": "%04x:%02x:%02x.%x" % tuple(parts)}
    if kind == "usb":
        vendor, product = attr(el, "source/vendor", "id"), attr(el, "source/product", "id")
        return {"type": "usb", "vendor": _hex4(vendor), "product": _hex4(product),
                "bus": to_int(attr(el, "source/address", "bus")), "device": to_int(attr(el, "source/address", "device"))}
    if kind == "mdev":
        return {"type": "mdev", "uuid": attr(el, "source/address", "uuid")}
    return None


def _hex4(value):
    return "%04x" % int(value, 16) if value else None


def own(root):
    """This domain's assignments by spec name, and its VSOCK CID."""
    held = {}
    for el in root.findall("devices/hostdev"):
        name, found = alias_of(el), assignment(el)
        if name and found:
            held[name] = found
    return held, vsock_cid(root)


def vsock_cid(root):
    return to_int(attr(root, "devices/vsock/cid", "address"))


def usage(roots):
    """What the given domains (name -> parsed XML) hold, in plan/host_devices' `usage` form, plus their CIDs."""
    found = {"pci": {}, "usb": {}, "mdev": {}, "usb_ids": [], "cid": {}}
    for name, root in roots.items():
        for el in root.findall("devices/hostdev"):
            held = assignment(el)
            if held is None:
                continue
            if held["type"] == "pci":
                found["pci"][held["address"]] = name
            elif held["type"] == "mdev":
                found["mdev"][held["uuid"]] = name
            elif held["bus"] is not None:
                found["usb"][(held["bus"], held["device"])] = name
            elif held["vendor"]:
                found["usb_ids"].append((held["vendor"], held["product"], name))
        cid = vsock_cid(root)
        if cid is not None:
            found["cid"][cid] = name
    return found


def parse(root, out):
    """host_devices and gpus as declared (from our metadata) for the devices still in the XML; VSOCK."""
    names = set(alias_of(el) for el in root.findall("devices/hostdev"))
    declared = metadata.read(root) or {}
    for key in ("host_devices", "gpus"):
        items = [d for d in declared.get(key) or [] if d.get("name") in names]
        if key == "host_devices":
            items += _undeclared(root, declared)
        if items:
            out[key] = items
    if root.find("devices/vsock") is not None:
        out["autoattach_vsock"] = True


def _undeclared(root, declared):
    """Our hostdevs whose declaration is missing (an older or edited domain): by PCI address or USB id."""
    known = set(d.get("name") for key in ("host_devices", "gpus") for d in declared.get(key) or [])
    items = []
    for el in root.findall("devices/hostdev"):
        name, held = alias_of(el), assignment(el)
        if not name or name in known or held is None or held["type"] == "mdev" or _derived(name, known):
            continue
        if held["type"] == "pci":
            items.append({"name": name, "pci_address": held["address"]})
        else:
            items.append({"name": name, "usb": {"vendor": held["vendor"], "product": held["product"]}})
    return items


def _derived(name, known):
    """name-1, name-2 ... are the further devices of a multi-selector USB resource 'name'."""
    base, _sep, index = name.rpartition("-")
    return bool(base) and index.isdigit() and base in known
