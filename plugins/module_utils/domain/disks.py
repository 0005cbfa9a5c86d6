# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""<disk>: files, pool volumes and cdroms, named by a libvirt user alias."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import USER_ALIAS, alias_of, attr, sub, to_int


def render(devices, spec, plan):
    if any(d.bus == "scsi" for d in spec.disks):
        sub(devices, "controller", type="scsi", index=0, model="virtio-scsi")
    for disk in spec.disks:
        kind = "volume" if disk.pool else "file"
        el = sub(devices, "disk", type=kind, device=disk.device)
        sub(el, "driver", name="qemu", type=disk.format or "raw")
        if disk.pool:
            sub(el, "source", pool=disk.pool, volume=disk.volume)
        elif disk.path:
            sub(el, "source", file=disk.path)
        sub(el, "target", dev=plan.targets[disk.name], bus=disk.bus)
        if disk.boot_order is not None:
            sub(el, "boot", order=disk.boot_order)
        if disk.readonly:
            sub(el, "readonly")
        if disk.transient:  # shareBacking: VMs of one catalogue image may run side by side
            sub(el, "transient", shareBacking="yes")
        sub(el, "alias", name=USER_ALIAS + disk.name)


def parse(root, out):
    disks = []
    for el in root.findall("devices/disk"):
        name = alias_of(el) or attr(el, "target", "dev")
        disk = {
            "name": name,
            "device": el.get("device", "disk"),
            "bus": attr(el, "target", "bus"),
            "format": attr(el, "driver", "type"),
            "boot_order": to_int(attr(el, "boot", "order")),
        }
        source = el.find("source")
        if source is not None:
            if el.get("type") == "volume":
                disk["pool"], disk["volume"] = source.get("pool"), source.get("volume")
            else:
                disk["path"] = source.get("file") or source.get("dev")
        if el.find("readonly") is not None and disk["device"] != "cdrom":
            disk["readonly"] = True
        if el.find("transient") is not None:
            disk["transient"] = True
        disks.append(disk)
    out["disks"] = disks


def parse_targets(root):
    """Spec disk name -> target dev of an existing domain (kept on redefine)."""
    return dict((alias_of(el), attr(el, "target", "dev")) for el in root.findall("devices/disk") if alias_of(el))
