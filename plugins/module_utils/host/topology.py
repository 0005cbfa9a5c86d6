# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host CPU/NUMA topology and guest machine types, from `virsh capabilities` XML,
plus the few sysfs facts libvirt does not report (free hugepages per node,
IOMMU, whether /dev/kvm is usable by us).

Parsing is pure: XML strings in, plain dicts out.  Keys that are numbers
(hugepage sizes, node ids) are strings so the facts survive a JSON round trip
to the controller unchanged.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.kvcompute.libvirt.plugins.module_utils.libvirt_xml import (  # noqa: F401 pylint: disable=unused-import
    HAS_LXML,
    LXML_IMPORT_ERROR,
    etree,
    parse,
    scaled_bytes,
)

to_bytes = scaled_bytes


def page_size_kib(size, unit="KiB"):
    return to_bytes(size, unit) // 1024


def parse_cpuset(text):
    """'0-3,8,10-11' -> [0, 1, 2, 3, 8, 10, 11]; '^n' exclusions are honoured."""
    result = set()
    excluded = set()
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        target = result
        if part.startswith("^"):
            target, part = excluded, part[1:]
        if "-" in part:
            lo, hi = part.split("-", 1)
            target.update(range(int(lo), int(hi) + 1))
        else:
            target.add(int(part))
    return sorted(result - excluded)


def _int_attr(el, name):
    value = el.get(name)
    return int(value) if value is not None and value.lstrip("-").isdigit() else None


def _root(xml):
    return parse(xml)


def parse_capabilities(xml):
    """Parse `virsh capabilities` XML into a plain dict.

    cpu.sockets is the number of distinct sockets over all NUMA cells (libvirt's
    <topology sockets> counts per cell); cores is per socket, threads per core.
    """
    root = _root(xml)
    host_cpu = root.find("host/cpu")
    topo = host_cpu.find("topology") if host_cpu is not None else None

    cells = []
    cpus = []
    for cell in root.iterfind("host/topology/cells/cell"):
        cell_id = int(cell.get("id"))
        mem = cell.find("memory")
        pages = {}
        for p in cell.iterfind("pages"):
            pages[str(page_size_kib(p.get("size"), p.get("unit")))] = int(p.text or 0)
        cell_cpus = []
        for c in cell.iterfind("cpus/cpu"):
            cpu_id = int(c.get("id"))
            cell_cpus.append(cpu_id)
            cpus.append({
                "id": cpu_id,
                "cell": cell_id,
                "socket": _int_attr(c, "socket_id"),
                "die": _int_attr(c, "die_id"),
                "core": _int_attr(c, "core_id"),
                # Offline CPUs carry no siblings attribute: a CPU is its own sibling.
                "siblings": parse_cpuset(c.get("siblings")) if c.get("siblings") else [cpu_id],
            })
        cells.append({
            "id": cell_id,
            "cpus": sorted(cell_cpus),
            "memory_bytes": to_bytes(mem.text, mem.get("unit")) if mem is not None else None,
            "pages": pages,
        })
    cpus.sort(key=lambda c: c["id"])
    cells.sort(key=lambda c: c["id"])

    sockets = set((c["socket"]) for c in cpus if c["socket"] is not None)
    per_cell_sockets = _int_attr(topo, "sockets") if topo is not None else None
    siblings = []
    for c in cpus:
        if c["siblings"] not in siblings:
            siblings.append(c["siblings"])

    return {
        "arch": host_cpu.findtext("arch") if host_cpu is not None else None,
        "vendor": host_cpu.findtext("vendor") if host_cpu is not None else None,
        "model": host_cpu.findtext("model") if host_cpu is not None else None,
        "sockets": len(sockets) if sockets else per_cell_sockets,
        "dies": _int_attr(topo, "dies") if topo is not None else None,
        "cores": _int_attr(topo, "cores") if topo is not None else None,
        "threads": _int_attr(topo, "threads") if topo is not None else None,
        "count": len(cpus),
        "cpus": cpus,
        "siblings": siblings,
        "cells": cells,
        "page_sizes_kib": sorted(
            page_size_kib(p.get("size"), p.get("unit")) for p in root.iterfind("host/cpu/pages")
        ),
        "guests": parse_guests(root),
    }


def parse_guests(root):
    """Machine types per arch and domain type: {arch: {domain_type: {aliases, names, deprecated}}}.

    Machines listed under <arch> apply to every domain type; those listed
    under <domain type=...> (some hosts list extra ones there) add to that type.
    aliases maps e.g. 'q35' -> 'pc-q35-7.2'; names holds every usable name,
    aliases included, sorted.
    """
    if isinstance(root, (str, bytes)):
        root = _root(root)
    guests = {}
    for arch in root.iterfind("guest/arch"):
        if arch.getparent().findtext("os_type") not in (None, "hvm"):
            continue
        common = list(arch.iterfind("machine"))
        per_type = guests.setdefault(arch.get("name"), {})
        for dom in arch.iterfind("domain"):
            aliases = {}
            names = set()
            deprecated = set()
            for m in common + list(dom.iterfind("machine")):
                name = (m.text or "").strip()
                names.add(name)
                if m.get("canonical"):
                    aliases[name] = m.get("canonical")
                if m.get("deprecated") == "yes":
                    deprecated.add(name)
            per_type[dom.get("type")] = {
                "aliases": aliases,
                "names": sorted(names, key=_machine_sort_key),
                "deprecated": sorted(deprecated, key=_machine_sort_key),
            }
    return guests


def _machine_sort_key(name):
    # pc-q35-2.10 after pc-q35-2.9: compare version parts as numbers.
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"([0-9]+)", name)]


def canonical_machine(guests, arch, domain_type, machine):
    """Resolve an alias ('q35') to the versioned machine; other names unchanged."""
    info = guests.get(arch, {}).get(domain_type, {})
    return info.get("aliases", {}).get(machine, machine)


# --- sysfs ---------------------------------------------------------------

_HP_DIR = re.compile(r"^hugepages-([0-9]+)kB$")


def _read_hugepage_dir(fs, base):
    sizes = {}
    for entry in fs.listdir(base):
        m = _HP_DIR.match(entry)
        if not m:
            continue
        d = "%s/%s" % (base, entry)
        sizes[m.group(1)] = {
            "total": fs.read_int(d + "/nr_hugepages", 0),
            "free": fs.read_int(d + "/free_hugepages", 0),
        }
    return sizes


def read_hugepages(fs):
    """Hugepages per NUMA node per size: {node: {size_kib: {total, free}}} (string keys).

    Kernels without NUMA node directories expose only the global pool: it is
    reported as node '0', the single cell libvirt shows on such hosts.
    """
    nodes = {}
    for entry in fs.listdir("/sys/devices/system/node"):
        m = re.match(r"^node([0-9]+)$", entry)
        if m:
            nodes[m.group(1)] = _read_hugepage_dir(fs, "/sys/devices/system/node/%s/hugepages" % entry)
    if not nodes:
        nodes["0"] = _read_hugepage_dir(fs, "/sys/kernel/mm/hugepages")
    return nodes


def read_iommu(fs):
    """IOMMU is on when the kernel registered an IOMMU or built any IOMMU group."""
    units = fs.listdir("/sys/class/iommu")
    groups = fs.listdir("/sys/kernel/iommu_groups")
    return {"enabled": bool(units or groups), "groups": len(groups)}


def read_kvm(fs):
    """KVM is usable when /dev/kvm exists and this process can open it read-write."""
    present = fs.exists("/dev/kvm")
    return {"present": present, "usable": present and fs.open_rw_ok("/dev/kvm")}
