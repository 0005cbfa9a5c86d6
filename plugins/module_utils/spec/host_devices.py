# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_devices and gpus of one VM (KubeVirt's devices.hostDevices / devices.gpus), validated without the host."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec import model as m

DEVICE_NAME = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
DEVICE_NAME_HELP = "a DNS label: lowercase letters, digits and '-', at most 63 characters"
# A resource name as KubeVirt's permittedHostDevices spells it: vendor.com/NAME.
RESOURCE = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*(/[A-Za-z0-9][A-Za-z0-9_.\-]*)?$"
RESOURCE_HELP = "a resource name such as nvidia.com/GP102GL_Tesla_P40"
PCI_ADDRESS = r"^(?:[0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$"
USB_ID = r"^(0x)?[0-9a-fA-F]{4}$"


def usb_id(text):
    """'0x0781' / '0781' -> '0781'."""
    text = text.lower()
    return text[2:] if text.startswith("0x") else text


def required_text(f, key, **kwargs):
    """f.text(key, ...) that also reports a missing key as required."""
    value = f.text(key, **kwargs)
    if value is None and not f.has(key):
        f.fail(key, "is required")
    return value


def read_usb_id(f):
    """{'vendor', 'product'} (4 lowercase hex digits each) from a mapping of both, or None with the problems noted."""
    vendor = required_text(f, "vendor", pattern=USB_ID, pattern_help="4 hex digits, for example 0781")
    product = required_text(f, "product", pattern=USB_ID, pattern_help="4 hex digits, for example 5567")
    f.done()
    if vendor and product:
        return {"vendor": usb_id(vendor), "product": usb_id(product)}
    return None


def _pci(text):
    text = text.lower()
    return text if text.count(":") == 2 else "0000:" + text


def parse_host_devices(f):
    devices = []
    for item in f.items("host_devices"):
        dev = m.HostDevice(
            name=item.text("name", pattern=DEVICE_NAME, pattern_help=DEVICE_NAME_HELP) or "",
            device_name=item.text("device_name", pattern=RESOURCE, pattern_help=RESOURCE_HELP),
            pci_address=item.text("pci_address", pattern=PCI_ADDRESS,
                                  pattern_help="a PCI address such as 0000:01:00.0 or 01:00.0"),
        )
        if item.has("usb"):
            found = read_usb_id(item.sub("usb"))
            dev.usb = m.UsbId(**found) if found else None
        if dev.pci_address:
            dev.pci_address = _pci(dev.pci_address)
        if not item.has("name"):
            item.fail("name", "is required")
        given = [k for k in ("device_name", "pci_address", "usb") if item.has(k)]
        if len(given) != 1:
            item.fail(None, "give exactly one of device_name, pci_address or usb%s"
                      % (" (got %s)" % ", ".join(given) if given else ""))
        item.done()
        devices.append(dev)
    return devices


def parse_gpus(f):
    gpus = []
    for item in f.items("gpus"):
        gpu = m.Gpu(name=item.text("name", pattern=DEVICE_NAME, pattern_help=DEVICE_NAME_HELP) or "",
                    device_name=item.text("device_name", pattern=RESOURCE, pattern_help=RESOURCE_HELP) or "")
        for key in ("name", "device_name"):
            if not item.has(key):
                item.fail(key, "is required")
        item.done()
        gpus.append(gpu)
    return gpus


def cross_checks(f, spec):
    """Names are unique across host_devices and gpus (they become the devices' libvirt aliases)."""
    seen = set()
    for key, items in (("host_devices", spec.host_devices), ("gpus", spec.gpus)):
        for item in items:
            if item.name and item.name in seen:
                f.fail(key, "name %r is used twice (host_devices and gpus share names)" % item.name)
            seen.add(item.name)
    explicit = [d.pci_address for d in spec.host_devices if d.pci_address]
    if len(explicit) != len(set(explicit)):
        f.fail("host_devices", "a PCI address is listed twice")
