# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Guest RAM: boot memory, and a virtio-mem device up to max_guest (KubeVirt's memory hotplug).

libvirt needs <maxMemory> and a NUMA cell for a memory device; it then counts
the device into <memory>, so parse-back reads the boot size from the cell.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import USER_ALIAS, kib, sub, to_bytes

HOTPLUG_ALIAS = USER_ALIAS + "memory-hotplug"
BLOCK_KIB = 2048


def render(root, spec, plan):
    mem = spec.memory
    boot = plan.boot_memory or mem.guest
    hotplug = (mem.max_guest or mem.guest) - boot
    if hotplug > 0:
        sub(root, "maxMemory", kib(mem.max_guest), slots=1, unit="KiB")
    sub(root, "memory", kib(boot), unit="KiB")
    sub(root, "currentMemory", kib(boot), unit="KiB")
    if hotplug <= 0:
        return
    numa = sub(root.find("cpu"), "numa")
    sub(numa, "cell", id=0, cpus="0-%d" % (spec.cpu.max_vcpus - 1), memory=kib(boot), unit="KiB")


def render_device(devices, spec, plan):
    mem = spec.memory
    boot = plan.boot_memory or mem.guest
    if (mem.max_guest or mem.guest) <= boot:
        return
    dev = sub(devices, "memory", model="virtio-mem")
    target = sub(dev, "target")
    sub(target, "size", kib(mem.max_guest - boot), unit="KiB")
    sub(target, "node", 0)
    sub(target, "block", BLOCK_KIB, unit="KiB")
    sub(target, "requested", kib(plan.requested), unit="KiB")
    sub(dev, "alias", name=HOTPLUG_ALIAS)


def virtio_mem(root):
    return root.find("devices/memory[@model='virtio-mem']")


def boot_memory(root):
    """RAM the domain boots with (without memory devices)."""
    cells = root.findall("cpu/numa/cell")
    if virtio_mem(root) is not None and cells:
        return sum(to_bytes(c, attr_name="memory") for c in cells)
    return to_bytes(root.find("memory"))


def parse(root, out):
    boot = boot_memory(root)
    if boot is None:
        return
    dev = virtio_mem(root)
    if dev is None:
        out["memory"] = {"guest": boot, "max_guest": boot}
        return
    size = to_bytes(dev.find("target/size")) or 0
    requested = to_bytes(dev.find("target/requested")) or 0
    out["memory"] = {"guest": boot + requested, "max_guest": boot + size}


def plugged(root):
    """(requested, current) of the virtio-mem device in a live XML, in bytes, or None."""
    dev = virtio_mem(root)
    if dev is None:
        return None
    return to_bytes(dev.find("target/requested")) or 0, to_bytes(dev.find("target/current")) or 0
