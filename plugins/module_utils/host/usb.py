# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""USB devices from sysfs: vendor/product ids and where they sit (bus, device number)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

USB_DEVICES = "/sys/bus/usb/devices"


def _text(fs, path):
    try:
        return fs.read(path).strip()
    except (OSError, IOError):
        return None


def read_devices(fs):
    """USB devices (not their interfaces, which have no idVendor), sorted by bus and device number."""
    found = []
    for entry in fs.listdir(USB_DEVICES):
        base = "%s/%s" % (USB_DEVICES, entry)
        vendor = _text(fs, base + "/idVendor")
        if vendor is None:
            continue
        found.append({
            "sysfs_name": entry,
            "vendor": vendor.lower(),
            "product": (_text(fs, base + "/idProduct") or "").lower(),
            "bus": fs.read_int(base + "/busnum"),
            "device": fs.read_int(base + "/devnum"),
            "name": _text(fs, base + "/product"),
        })
    return sorted(found, key=lambda d: (d["bus"] or 0, d["device"] or 0))
