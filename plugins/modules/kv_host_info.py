#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: kv_host_info
short_description: Gather what a libvirt/KVM host offers to virtual machines
version_added: 0.1.0
description:
  - Reads libvirt's host and domain capabilities and a few sysfs files and returns one
    plain dictionary with the CPU topology (sockets, cores, threads, thread siblings, NUMA cells
    with their CPUs and memory), hugepages per size and NUMA node (total and free),
    whether KVM is usable, the libvirt and QEMU versions, the CPU modes and models and
    the firmware the host offers, and whether an IOMMU is enabled.
  - These are the facts behind the host-aware checks M(kvcompute.libvirt.kv_vm) makes, and the input
    of placement across an inventory.
  - Changes nothing on the host.
extends_documentation_fragment:
  - kvcompute.libvirt.connection
author:
  - kvcompute.libvirt contributors (!UNKNOWN)
options:
  root:
    description:
      - Directory under which host files (C(/sys), C(/dev/kvm), C(/usr/share/qemu/firmware),
        C(/etc/qemu/firmware)) are read.
      - Meant for testing with a fake tree and for chroots; leave the default on real hosts.
    type: path
    default: /
  cpu_manager_file:
    description:
      - The host's CPU pools file (read under O(root)), as M(kvcompute.libvirt.kv_vm)'s option of the same name.
      - RV(host.cpu_pools) reports the pools and the exclusive CPUs of the VMs placed with this file.
    type: path
    default: /etc/kvcompute/cpu_manager.json
attributes:
  check_mode:
    description: Can run in check mode and return the same facts as a normal run.
    support: full
  diff_mode:
    description: Will return details on what has changed when in diff mode.
    support: none
notes:
  - CPU models, CPU modes and machine types are those of the domain type the host can
    run, C(kvm) when C(/dev/kvm) is usable and C(qemu) (TCG) otherwise; see RV(host.domain_type).
  - Map keys that are numbers (hugepage sizes in KiB, NUMA node ids) are strings.
"""

EXAMPLES = r"""
- name: Gather host facts
  kvcompute.libvirt.kv_host_info:
  register: kv

- name: Show the NUMA cells and free 2 MiB hugepages
  ansible.builtin.debug:
    msg: >-
      {{ kv.host.cpu.numa_cells | map(attribute='cpus') | list }}
      {{ kv.host.hugepages['2048'].free | default(0) }}

- name: Gather from another libvirt daemon
  kvcompute.libvirt.kv_host_info:
    uri: qemu+tcp://127.0.0.2/system
  register: other
"""

RETURN = r"""
host:
  description: Everything known about the host, as one dictionary.
  returned: success
  type: dict
  contains:
    cpu:
      description: Host CPU and its topology.
      type: dict
      returned: success
      contains:
        arch:
          description: Host architecture, as libvirt names it.
          type: str
          returned: success
          sample: x86_64
        vendor:
          description: CPU vendor.
          type: str
          returned: success
          sample: AMD
        model:
          description: The CPU model libvirt reports for the host.
          type: str
          returned: success
          sample: EPYC-Milan
        sockets:
          description: Number of CPU sockets over all NUMA cells.
          type: int
          returned: success
          sample: 2
        cores:
          description: Cores per socket.
          type: int
          returned: success
          sample: 8
        threads:
          description: Threads per core.
          type: int
          returned: success
          sample: 2
        count:
          description: Number of host CPUs libvirt lists.
          type: int
          returned: success
          sample: 32
        cpus:
          description: Every host CPU with its NUMA cell, socket, die, core and thread siblings.
          type: list
          elements: dict
          returned: success
          sample: [{"id": 0, "cell": 0, "socket": 0, "die": 0, "core": 0, "siblings": [0, 16]}]
        siblings:
          description: Groups of CPUs that share a physical core.
          type: list
          elements: list
          returned: success
          sample: [[0, 16], [1, 17]]
        numa_cells:
          description:
            - NUMA cells with their CPUs, memory in bytes and hugepages per size
              in KiB (C(total) and C(free)).
          type: list
          elements: dict
          returned: success
          sample: [{"id": 0, "cpus": [0, 1], "memory_bytes": 4926500864,
                    "hugepages": {"2048": {"total": 256, "free": 256}}}]
    hugepages:
      description:
        - Hugepages per size in KiB, with totals and a per NUMA node breakdown under C(nodes).
      type: dict
      returned: success
      sample: {"2048": {"total": 256, "free": 128, "nodes": {"0": {"total": 256, "free": 128}}}}
    kvm:
      description: Whether C(/dev/kvm) exists (C(present)) and can be opened read-write (C(usable)).
      type: dict
      returned: success
      sample: {"present": true, "usable": true}
    domain_type:
      description: The domain type the facts about CPU models and machines are for.
      type: str
      returned: success
      sample: kvm
    versions:
      description: libvirt and QEMU versions as C(X.Y.Z).
      type: dict
      returned: success
      sample: {"libvirt": "9.0.0", "qemu": "7.2.0"}
    cpu_modes:
      description: Supported guest CPU modes.
      type: list
      elements: str
      returned: success
      sample: ["host-passthrough", "maximum", "host-model", "custom"]
    cpu_models:
      description:
        - Named CPU models for RV(host.domain_type) and machine C(q35).
        - C(usable) lists the models libvirt does not report as unusable here.
      type: dict
      returned: success
      sample: {"domain_type": "kvm", "machine": "pc-q35-7.2", "max_vcpus": 288,
               "host_model": {"name": "EPYC-Milan", "vendor": "AMD", "fallback": "forbid"},
               "usable": ["486", "pentium"], "deprecated": []}
    machines:
      description:
        - Machine types for the host architecture and RV(host.domain_type); C(aliases) maps
          an alias to its versioned machine.
      type: dict
      returned: success
      sample: {"aliases": {"pc": "pc-i440fx-7.2", "q35": "pc-q35-7.2"},
               "names": ["pc", "pc-q35-7.2", "q35"], "deprecated": ["pc-i440fx-1.4"]}
    firmware:
      description:
        - QEMU firmware descriptors in priority order, the loader images libvirt offers,
          and whether libvirt offers a secure-boot loader.
      type: dict
      returned: success
      sample: {"descriptors": [{"path": "/usr/share/qemu/firmware/60-edk2-x86_64.json",
                                "description": "UEFI firmware for x86_64", "interfaces": ["uefi"],
                                "code": "/usr/share/OVMF/OVMF_CODE_4M.fd",
                                "vars_template": "/usr/share/OVMF/OVMF_VARS_4M.fd", "format": "raw",
                                "targets": [{"arch": "x86_64", "machines": ["pc-q35-*"]}],
                                "features": ["acpi-s3"]}],
               "loaders": ["/usr/share/OVMF/OVMF_CODE_4M.fd"], "secure_boot_possible": false}
    iommu:
      description: Whether an IOMMU is enabled and how many IOMMU groups exist.
      type: dict
      returned: success
      sample: {"enabled": false, "groups": 0}
    cpu_pools:
      description:
        - The CPU pools (cpusets in Linux list format) from O(cpu_manager_file); without the file every online
          CPU is in the pool. C(exclusive) maps each VM with dedicated CPUs to the CPUs it holds (vCPUs, an
          isolated emulator thread, siblings held by thread policy isolate); C(shared) is where shared VMs float.
        - Per NUMA cell, the pool CPUs nobody holds, the free memory (MemFree) and the free hugepages by size in KiB.
        - C(error) instead when the file cannot be used.
      type: dict
      returned: success
      sample: {"file": "/etc/kvcompute/cpu_manager.json", "file_present": true, "reserved": "0", "pool": "1-3",
               "exclusive": {"db1": "1-2"}, "shared": "3",
               "cells": [{"id": 0, "free_cpus": "3", "free_memory_bytes": 5368709120,
                          "free_hugepages": {"2048": 64, "1048576": 0}}]}
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.kvcompute.libvirt.plugins.module_utils.converge.module import check_libraries, connected
from ansible_collections.kvcompute.libvirt.plugins.module_utils.converge.placement import pool_facts
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host import facts
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.hostfs import HostFS


def main():
    module = AnsibleModule(
        argument_spec=dict(
            uri=dict(type="str", default="qemu:///system"),
            root=dict(type="path", default="/"),
            cpu_manager_file=dict(type="path", default="/etc/kvcompute/cpu_manager.json"),
        ),
        supports_check_mode=True,
    )
    check_libraries(module, missing_required_lib, names=("libvirt-python", "lxml"))
    fs = HostFS(module.params["root"])
    host = connected(module, lambda conn: dict(facts.gather(conn, fs),
                                               cpu_pools=pool_facts(conn, fs, module.params["cpu_manager_file"])))
    module.exit_json(changed=False, host=host)


if __name__ == "__main__":
    main()
