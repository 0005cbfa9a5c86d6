# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Carry over what kv_vm does not manage from the existing definition.

A redefine must not lose what someone else put in the domain (a hand-added
device, other tools' metadata, clock or seclabel settings) nor move devices to
other PCI slots, which renames NICs inside the guest.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.metadata import TAG as KV_TAG
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import alias_of, attr

MANAGED_TOP = ("name", "uuid", "metadata", "maxMemory", "memory", "currentMemory", "vcpu", "vcpus", "cpu", "os", "features",
               "cputune", "memtune", "on_poweroff", "on_reboot", "on_crash", "devices")
MANAGED_TOP += ("numatune", "memoryBacking")  # NUMA binding and hugepages (domain/numa.py, domain/hugepages.py)
MANAGED_DEVICES = ("disk", "interface", "graphics", "video", "serial", "console", "rng", "watchdog", "emulator",
                   "memory", "tpm")
# Managed only when they carry our alias: a hostdev or vsock someone added by hand is kept.
MANAGED_WITH_ALIAS = ("hostdev", "vsock")


def _managed(el):
    return el.tag in MANAGED_DEVICES or (el.tag in MANAGED_WITH_ALIAS and alias_of(el) is not None)


def merge(new, old, keep_addresses=True):
    """Copy unmanaged parts of `old` (an lxml root) into `new`, in place; return new.

    keep_addresses=False (the machine type changes, e.g. q35 -> pc): old
    controllers and addresses do not fit the new machine, libvirt assigns anew.
    """
    for child in old:
        if not isinstance(child.tag, str):
            continue
        if child.tag not in MANAGED_TOP:
            new.append(copy.deepcopy(child))
    _merge_metadata(new, old)
    _merge_devices(new.find("devices"), old.find("devices"), keep_addresses)
    return new


def _merge_metadata(new, old):
    old_meta = old.find("metadata")
    if old_meta is None:
        return
    new_meta = new.find("metadata")
    for child in old_meta:
        if isinstance(child.tag, str) and child.tag != KV_TAG:
            new_meta.append(copy.deepcopy(child))


def _merge_devices(new, old, keep_addresses):
    if old is None:
        return
    if not keep_addresses:
        for el in old:
            if el.tag == "panic" and new.find("panic[@model='%s']" % el.get("model")) is not None:
                continue
            if isinstance(el.tag, str) and not _managed(el) and el.tag != "controller":
                el = copy.deepcopy(el)
                for address in el.findall("address"):
                    el.remove(address)
                new.append(el)
        return
    by_alias = dict((alias_of(el), el) for el in new if isinstance(el.tag, str) and alias_of(el))
    controllers = set((el.get("type"), el.get("index")) for el in new.findall("controller"))
    for el in old:
        if not isinstance(el.tag, str):
            continue
        if el.tag == "controller":
            if (el.get("type"), el.get("index")) not in controllers:
                new.append(copy.deepcopy(el))
            else:
                _copy_address(el, new.find("controller[@type='%s'][@index='%s']" % (el.get("type"), el.get("index"))))
        elif el.tag == "panic" and new.find("panic[@model='%s']" % el.get("model")) is not None:
            _copy_address(el, new.find("panic[@model='%s']" % el.get("model")))  # ours (memory_dump.on_crash)
        elif not _managed(el):
            new.append(copy.deepcopy(el))
        elif alias_of(el) in by_alias:
            match = by_alias[alias_of(el)]
            if el.tag != "disk" or attr(el, "target", "bus") == attr(match, "target", "bus"):
                _copy_address(el, match)  # a disk moved to another bus needs a new address


def _copy_address(src, dst):
    address = src.find("address")
    if dst is not None and address is not None and dst.find("address") is None:
        dst.append(copy.deepcopy(address))
