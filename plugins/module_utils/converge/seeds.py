# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cloud-init seeds of a manifest VM inside kv_vm's prepare/apply.

prepare: the seed paths count as present for plan (kv_vm writes them), and
each seed whose ISO is missing or differs becomes a change and an action.
apply: write them (after define, like new disk images).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.converge import seed_iso
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.errors import SpecError
from ansible_collections.kvcompute.libvirt.plugins.module_utils.virt import VirtError


def _seeds(request):
    manifest = getattr(request, "manifest", None)
    return manifest.seeds if manifest is not None else []


def mark(request, found):
    """Tell plan the seed ISOs exist: kv_vm writes them before the VM can start."""
    for seed in _seeds(request):
        found["files"][seed.path] = "raw"


def plan(fs, request, prepared):
    """Which seeds to (re)write; SpecError if one cannot be written here."""
    prepared.fs = fs
    prepared.seeds = []
    names = [d.name for d in request.spec.disks]
    for seed in _seeds(request):
        where = "disks[%d].path" % names.index(seed.disk)
        if not seed_iso.HAS_PYCDLIB:
            raise SpecError([(where, "a cloud-init seed needs the pycdlib Python library on the host")])
        parent = seed.path.rsplit("/", 1)[0] or "/"
        if not fs.isdir(parent):
            raise SpecError([(where, "cannot write the cloud-init seed %s: directory %s does not exist"
                                     % (seed.path, parent))])
        if seed_iso.needs_write(fs, seed):
            prepared.seeds.append(seed)
            prepared.changes.append({"field": "disks[%s]" % seed.disk, "before": None,
                                     "after": "write cloud-init seed %s (%s)" % (seed.path, seed.label),
                                     "apply": "create"})
            prepared.actions.append("write seed %s" % seed.disk)


def apply(prepared, done):
    for seed in prepared.seeds:
        try:
            seed_iso.write(prepared.fs, seed)
        except OSError as err:
            raise VirtError("disks[%s]: cannot write the cloud-init seed %s: %s" % (seed.disk, seed.path, err))
        done.append("wrote seed %s" % seed.disk)
