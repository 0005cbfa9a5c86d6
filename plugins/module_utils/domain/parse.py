# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Domain XML -> kv_vm options: the parse-back that lets diff compare meaning."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain import (
    base,
    cpu,
    devices,
    disks,
    firmware,
    hostdev,
    hugepages,
    interfaces,
    memory,
    metadata,
    numa,
    pinning,
    resources,
)
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import parse as parse_xml

PARSERS = (base, firmware, memory, cpu, resources, disks, interfaces, devices, hostdev)
PARSERS += (pinning, numa, hugepages)  # after cpu and memory: they add to those keys


def parse_options(xml_text):
    """Options as kv_vm would take them; values the XML cannot hold come from our metadata."""
    root = parse_xml(xml_text)
    out = {}
    for concern in PARSERS:
        concern.parse(root, out)
    declared = metadata.read(root) or {}
    sizes = dict((d.get("name"), d.get("size")) for d in declared.get("disks", []) if d.get("size"))
    for disk in out.get("disks", []):
        if disk["name"] in sizes:
            disk["size"] = sizes[disk["name"]]
    return _drop_none(out)


def _drop_none(value):
    if isinstance(value, dict):
        return dict((k, _drop_none(v)) for k, v in value.items() if v is not None)
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value
