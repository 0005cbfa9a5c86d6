# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kv_vm_info format=kubevirt: a VM's spec as a KubeVirt VirtualMachine manifest.

The cloud-init data is read back from the VM's seed ISOs (its ephemeral disks
that are seeds), so the exported manifest declares the same VM again.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.converge import seed_iso
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.kubevirt_export import SEED_KINDS, to_manifest
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.options import parse_options


def seeds_of(fs, spec):
    """{disk name: (label, files)} for the VM's cloud-init seed ISOs."""
    found = {}
    if not seed_iso.HAS_PYCDLIB:
        return found
    for disk in spec.disks:
        if disk.ephemeral and disk.path and not disk.transient:
            seed = seed_iso.read(fs.real(disk.path))
            if seed is not None and seed[0] in SEED_KINDS:
                found[disk.name] = seed
    return found


def add_manifest(entry, fs, catalogue=None, storage_pool="default", image_dir=None):
    """Add entry['manifest'] to a kv_vm_info entry whose spec kv_vm understands."""
    if "spec_errors" in entry:
        entry["manifest"] = None
        return entry
    spec = parse_options(entry["spec"])
    kwargs = {"image_dir": image_dir} if image_dir else {}
    entry["manifest"] = to_manifest(spec, seeds=seeds_of(fs, spec), catalogue=catalogue,
                                    storage_pool=storage_pool or "default", **kwargs)
    return entry
