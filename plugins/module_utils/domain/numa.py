# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Guest NUMA cells (<cpu><numa><cell>) and their strict binding to host cells (<numatune>)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain import memory as memory_xml
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import kib, sub, to_bytes
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.cpu_pool import format_cpuset
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.topology import parse_cpuset


def render(root, spec, plan):
    placement = getattr(plan, "placement", None)
    if placement is None:
        return
    if placement.guest_cells:
        numa = sub(root.find("cpu"), "numa")
        for cell in placement.guest_cells:
            sub(numa, "cell", id=cell["id"], cpus=format_cpuset(cell["cpus"]), memory=kib(cell["memory"]), unit="KiB")
    if placement.memory_cells:
        tune = sub(root, "numatune")
        sub(tune, "memory", mode="strict", nodeset=format_cpuset(placement.memory_cells))
        for cell in placement.guest_cells:
            sub(tune, "memnode", cellid=cell["id"], mode="strict", nodeset=cell["host_cell"])


def parse(root, out):
    """Guest cells as cpu.numa.cells, unless they are the one cell memory hotplug needs (virtio-mem)."""
    cells = root.findall("cpu/numa/cell")
    if not cells or memory_xml.virtio_mem(root) is not None:
        return
    cpu = out.setdefault("cpu", {})
    if cpu.get("numa"):  # guest_mapping_passthrough (from our placement record)
        return
    cpu["numa"] = {"cells": [{"id": int(c.get("id")), "cpus": parse_cpuset(c.get("cpus")),
                              "memory": to_bytes(c, attr_name="memory")} for c in cells]}
