# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mediated devices from sysfs: parents with their types, and the mdevs that exist."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

MDEV_BUS = "/sys/class/mdev_bus"
MDEV_DEVICES = "/sys/bus/mdev/devices"
UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


def _text(fs, path):
    try:
        return fs.read(path).strip()
    except (OSError, IOError):
        return None


def types_dir(parent, type_id):
    return "%s/%s/mdev_supported_types/%s" % (MDEV_BUS, parent, type_id)


def read_parents(fs):
    """{parent: {type_id: {name, available_instances, device_api}}} for every mdev-capable device."""
    parents = {}
    for parent in fs.listdir(MDEV_BUS):
        types = {}
        for type_id in fs.listdir("%s/%s/mdev_supported_types" % (MDEV_BUS, parent)):
            base = types_dir(parent, type_id)
            types[type_id] = {
                "name": _text(fs, base + "/name") or type_id,
                "available_instances": fs.read_int(base + "/available_instances", 0),
                "device_api": _text(fs, base + "/device_api"),
            }
        parents[parent] = types
    return parents


def read_mdevs(fs):
    """{uuid: {parent, type}} of the mdevs that exist now."""
    found = {}
    for uuid in fs.listdir(MDEV_DEVICES):
        if not re.match(UUID, uuid):
            continue
        base = "%s/%s" % (MDEV_DEVICES, uuid)
        parent = fs.resolve(base).rsplit("/", 2)[-2]
        found[uuid] = {"uuid": uuid, "parent": parent, "type": fs.link_name(base + "/mdev_type")}
    return found
