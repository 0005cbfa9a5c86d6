# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kv_vm's permitted_host_devices: KubeVirt's permittedHostDevices, in snake_case.

It maps each device_name (a resource name) to what selects host devices for it:
a PCI vendor:device, an mdev type name, or USB vendor/product pairs.  A VM may
only ask for device names listed here, as in KubeVirt.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib

from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.errors import SpecError
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.fields import Fields
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.host_devices import (
    RESOURCE,
    RESOURCE_HELP,
    read_usb_id,
    required_text,
)

FIELD = "permitted_host_devices"
VENDOR_DEVICE = r"^[0-9a-fA-F]{4}:[0-9a-fA-F]{4}$"


def parse_permitted(data):
    """{device_name: {'kind': 'pci'|'mdev'|'usb', ...}} or SpecError naming the field."""
    problems = []
    f = Fields(FIELD, data, problems)
    permitted = {}

    def add(item, name, entry):
        if name in permitted:
            item.fail("resource_name", "%r is listed twice" % name)
        permitted[name] = entry

    for item in f.items("pci_host_devices"):
        selector = required_text(item, "pci_vendor_selector", pattern=VENDOR_DEVICE,
                                 pattern_help="vendor:device in hex, for example 10de:1eb8")
        name = _resource(item)
        item.boolean("external_resource_provider", False)  # accepted as KubeVirt has it; nothing to provide here
        item.done()
        if name and selector:
            add(item, name, {"kind": "pci", "vendor_device": selector.lower()})
    for item in f.items("mediated_devices"):
        selector = item.text("mdev_name_selector")
        name = _resource(item)
        item.boolean("external_resource_provider", False)
        if not selector:
            item.fail("mdev_name_selector", "is required (an mdev type name, for example 'GRID T4-1Q')")
        item.done()
        if name and selector:
            add(item, name, {"kind": "mdev", "type_name": selector})
    for item in f.items("usb"):
        name = _resource(item)
        selectors = [s for s in (read_usb_id(sel) for sel in item.items("selectors")) if s]
        if not item.has("selectors") or not item.data.get("selectors"):
            item.fail("selectors", "needs at least one {vendor, product}")
        item.boolean("external_resource_provider", False)
        item.done()
        if name and selectors:
            add(item, name, {"kind": "usb", "selectors": selectors})
    f.done()
    if problems:
        raise SpecError(problems)
    return permitted


def _resource(item):
    return required_text(item, "resource_name", pattern=RESOURCE, pattern_help=RESOURCE_HELP)


def check_requested(spec, permitted):
    """Problems (field, message) for device names of a VM that the permitted map does not list."""
    problems = []
    for key, items in (("host_devices", spec.host_devices), ("gpus", spec.gpus)):
        for i, item in enumerate(items):
            if item.device_name and item.device_name not in permitted:
                known = sorted(permitted)
                hint = difflib.get_close_matches(item.device_name, known, n=1)
                problems.append(("%s[%d].device_name" % (key, i), "%r is not in permitted_host_devices; permitted: %s%s"
                                 % (item.device_name, ", ".join(known) or "none",
                                    " (did you mean %r?)" % hint[0] if hint else "")))
    return problems
