# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""<domain type>, name, <os><type machine>, <features> and lifecycle actions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.run_strategy import crash_action, wants_panic_device
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import attr, etree, sub, text


def render(spec, plan):
    root = etree.Element("domain", type=spec.domain_type)
    sub(root, "name", spec.name)
    if plan.uuid:
        sub(root, "uuid", plan.uuid)
    os_el = sub(root, "os")
    sub(os_el, "type", "hvm", arch=plan.arch, machine=spec.machine)
    features = sub(root, "features")
    sub(features, "acpi")
    sub(features, "apic")
    if spec.firmware.secure_boot:
        sub(features, "smm", state="on")
    # libvirt's defaults, written out so that parse-back never sees them as drift.
    sub(root, "on_poweroff", "destroy")
    sub(root, "on_reboot", "restart")
    sub(root, "on_crash", crash_action(spec))
    return root


def render_panic(devices, spec):
    """A pvpanic device (ISA on x86) with memory_dump.on_crash or a strategy that restarts a crashed guest:
    QEMU only sees a guest crash that the guest reports."""
    if wants_panic_device(spec):
        sub(devices, "panic", model="isa")


def parse(root, out):
    out["name"] = text(root, "name")
    out["domain_type"] = root.get("type")
    out["machine"] = attr(root, "os/type", "machine")
    if (text(root, "on_crash") or "").startswith("coredump-"):
        out["memory_dump"] = {"on_crash": True}
