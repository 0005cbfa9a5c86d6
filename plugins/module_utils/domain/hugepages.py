# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""memory.hugepages -> <memoryBacking><hugepages><page size unit nodeset/></hugepages><allocation mode='immediate'/>."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import sub, to_bytes
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.cpu_pool import format_cpuset
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.cpu_placement import PAGE_NAMES


def render(root, spec, plan):
    page = spec.memory.hugepages
    if not page:
        return
    placement = getattr(plan, "placement", None)
    cells = [c["id"] for c in placement.guest_cells] if placement is not None else []
    backing = sub(root, "memoryBacking")
    pages = sub(backing, "hugepages")
    sub(pages, "page", size=page // 1024, unit="KiB", nodeset=format_cpuset(cells) if cells else None)
    # Take every page when QEMU starts: a host short of pages fails the start, not the guest later (SIGBUS).
    sub(backing, "allocation", mode="immediate")


def parse(root, out):
    page = root.find("memoryBacking/hugepages/page")
    if root.find("memoryBacking/hugepages") is None:
        return
    size = to_bytes(page, attr_name="size") if page is not None else None
    if size is None:
        size = 2 * 2 ** 20  # <hugepages/> alone: the host's default size, 2Mi on x86
    memory = out.setdefault("memory", {})
    memory["hugepages"] = {"page_size": PAGE_NAMES.get(size, "%dKi" % (size // 1024))}
