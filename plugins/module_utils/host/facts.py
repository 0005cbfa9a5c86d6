# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One plain, JSON-safe dict of what the planner needs to know about a host.

Inputs are a virt.Connection (capabilities, domain capabilities, versions)
and a HostFS (sysfs, /dev/kvm, firmware descriptors); both can be fakes.
Numeric map keys (page sizes in KiB, node ids) are strings, so the dict is
the same before and after Ansible ships it to the controller as JSON.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.host import cpu_models, firmware, topology

# KubeVirt's default machine; its domain capabilities show the secure-boot loaders.
PREFERRED_MACHINE = "q35"


def _domain_type(caps, kvm):
    types = caps["guests"].get(caps["arch"], {})
    if kvm["usable"] and "kvm" in types:
        return "kvm"
    return "qemu"


def _numa_cells(caps, hugepages):
    cells = []
    for cell in caps["cells"]:
        node_pages = hugepages.get(str(cell["id"]), {})
        cells.append({
            "id": cell["id"],
            "cpus": cell["cpus"],
            "memory_bytes": cell["memory_bytes"],
            "hugepages": node_pages,
        })
    return cells


def _hugepages_by_size(hugepages):
    by_size = {}
    for node, sizes in sorted(hugepages.items(), key=lambda kv: int(kv[0])):
        for size, counts in sizes.items():
            entry = by_size.setdefault(size, {"total": 0, "free": 0, "nodes": {}})
            entry["total"] += counts["total"]
            entry["free"] += counts["free"]
            entry["nodes"][node] = dict(counts)
    return by_size


def gather(conn, fs):
    caps = topology.parse_capabilities(conn.capabilities_xml())
    hugepages = topology.read_hugepages(fs)
    kvm = topology.read_kvm(fs)
    libvirt_version, qemu_version = conn.versions()

    arch = caps["arch"]
    domain_type = _domain_type(caps, kvm)
    machines = caps["guests"].get(arch, {}).get(domain_type, {"aliases": {}, "names": [], "deprecated": []})
    machine = PREFERRED_MACHINE if PREFERRED_MACHINE in machines["names"] else None
    domcaps = cpu_models.parse_domain_capabilities(
        conn.domain_capabilities_xml(virt_type=domain_type, arch=arch, machine=machine))
    descriptors = firmware.load_descriptors(fs)

    return {
        "cpu": {
            "arch": arch,
            "vendor": caps["vendor"],
            "model": caps["model"],
            "sockets": caps["sockets"],
            "cores": caps["cores"],
            "threads": caps["threads"],
            "count": caps["count"],
            "cpus": caps["cpus"],
            "siblings": caps["siblings"],
            "numa_cells": _numa_cells(caps, hugepages),
        },
        "hugepages": _hugepages_by_size(hugepages),
        "kvm": kvm,
        "domain_type": domain_type,
        "versions": {"libvirt": libvirt_version, "qemu": qemu_version},
        "cpu_modes": cpu_models.supported_modes(domcaps),
        "cpu_models": {
            "domain_type": domcaps["domain_type"],
            "machine": domcaps["machine"],
            "max_vcpus": domcaps["max_vcpus"],
            "host_model": domcaps["host_model"],
            "usable": sorted(cpu_models.usable_models(domcaps)),
            "deprecated": sorted(m["name"] for m in domcaps["models"] if m["deprecated"]),
        },
        "machines": machines,
        "firmware": {
            "descriptors": firmware.summarise(descriptors),
            "loaders": domcaps["firmware"]["loaders"],
            "secure_boot_possible": domcaps["firmware"]["secure_boot_possible"],
        },
        "iommu": topology.read_iommu(fs),
    }
