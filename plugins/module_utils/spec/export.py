# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""VMSpec -> kv_vm options: what kv_vm_info reports and --diff shows.

Feeding this back to kv_vm gives the same spec, so a round trip is a no-op.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.cpu_placement import export_cpu, export_memory
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.quantity import format_bytes, format_cpu


def _clean(d):
    return dict((k, v) for k, v in d.items() if v is not None)


def to_options(spec):
    res = spec.resources
    requests = _clean({"cpu": _cpu(res.requests_cpu), "memory": _bytes(res.requests_memory)})
    limits = _clean({"cpu": _cpu(res.limits_cpu), "memory": _bytes(res.limits_memory)})
    return _clean({
        "name": spec.name,
        "domain_type": spec.domain_type,
        "machine": spec.machine,
        "firmware": {"type": spec.firmware.type, "secure_boot": spec.firmware.secure_boot},
        "kernel_boot": _clean(vars(spec.kernel_boot)) if spec.kernel_boot else None,
        "cpu": _clean({
            "sockets": spec.cpu.sockets,
            "cores": spec.cpu.cores,
            "threads": spec.cpu.threads,
            "model": spec.cpu.model,
            "features": [{"name": f.name, "policy": f.policy} for f in spec.cpu.features],
            "max_sockets": spec.cpu.max_sockets,
            **export_cpu(spec.cpu)
        }),
        "memory": _clean({"guest": format_bytes(spec.memory.guest), "max_guest": _bytes(spec.memory.max_guest),
                          **export_memory(spec.memory)}),
        "resources": _clean({"requests": requests or None, "limits": limits or None}),
        "disks": [_disk(d) for d in spec.disks],
        "interfaces": [_clean(vars(i)) for i in spec.interfaces],
        "video": spec.video,
        "serial": _clean(vars(spec.serial)),
        "rng": spec.rng,
        "watchdog": vars(spec.watchdog) if spec.watchdog else None,
        "tpm": {"persistent": spec.tpm.persistent, "encryption_secret": spec.tpm.encryption_secret} if spec.tpm else None,
        "memory_dump": {"on_crash": True} if spec.memory_dump.on_crash else None,
        "host_devices": [host_device_options(d) for d in spec.host_devices] or None,
        "gpus": [{"name": g.name, "device_name": g.device_name} for g in spec.gpus] or None,
        "autoattach_vsock": True if spec.autoattach_vsock else None,
    })


def host_device_options(dev):
    return _clean({"name": dev.name, "device_name": dev.device_name, "pci_address": dev.pci_address,
                   "usb": vars(dev.usb) if dev.usb else None})


def _disk(disk):
    out = _clean(vars(disk))
    if disk.size is not None:
        out["size"] = format_bytes(disk.size)
    if not disk.readonly or disk.device == "cdrom":
        out.pop("readonly", None)
    return out


def _cpu(milli):
    return None if milli is None else format_cpu(milli)


def _bytes(count):
    return None if count is None else format_bytes(count)
