#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# kv_place is an action plugin (plugins/action/kv_place.py); this file holds its documentation.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: kv_place
short_description: Choose a libvirt host for each VM across the inventory, the way KubeVirt's scheduler would
version_added: 0.2.0
description:
  - "Runs on the controller. Reads, for each host in O(hosts), the facts M(kvcompute.libvirt.kv_host_info) gathered
    (in the host variable named by O(facts_var)), the inventory variables C(kv_node_labels), C(kv_node_taints) and
    C(kv_node_devices), and what M(kvcompute.libvirt.kv_vm_info) found on the host (O(present_var)); places every VM
    of O(vms) on one host, and says for each VM that fits nowhere why, summarised like the Kubernetes scheduler
    (C(0/5 hosts: 3 insufficient 2Mi hugepages, 2 did not match nodeSelector))."
  - Filters, in this order, with KubeVirt's names and meaning - C(node_selector); C(affinity.node_affinity) required
    terms (ORed; expressions ANDed; operators C(In), C(NotIn), C(Exists), C(DoesNotExist), C(Gt), C(Lt));
    taints with effect C(NoSchedule) or C(NoExecute) against C(tolerations); VM anti-affinity (the VM's own terms and
    those of VMs already placed); required VM affinity; then the requests.
  - "Requests, counted against what is left on each host, VMs already there included - CPU (a shared VM without
    C(resources.requests.cpu) requests vCPUs / O(cpu_allocation_ratio), a dedicated VM whole CPUs of the CPU
    manager pool); memory (C(memory.guest) / (O(memory_overcommit) / 100) unless C(resources.requests.memory) is
    given); dedicated CPUs per NUMA cell; hugepages per size and NUMA cell; host devices by resource name."
  - Scoring - the highest sum of matched preferences (preferred node affinity, preferred VM (anti-)affinity, half a
    point for tolerating every C(PreferNoSchedule) taint), then the least requested host (O(scoring=spread)) or the
    most requested (O(scoring=pack)), then the host name. The result does not depend on the order of O(vms) or
    O(hosts).
  - Stable - a VM found on a host stays there while that host still takes it (its node rules, C(NoExecute) taints,
    anti-affinity and requests); required VM affinity and C(NoSchedule) taints are only checked when a VM is placed,
    as Kubernetes' C(IgnoredDuringExecution) says. A VM that must leave is listed in RV(moved); it is still defined
    on its old host (and counted there) until it is migrated.
  - Changes nothing anywhere; the same in check mode.
author:
  - kvcompute.libvirt contributors (!UNKNOWN)
options:
  hosts:
    description:
      - Inventory hostnames to place on, for example C({{ groups['kvm'] }}).
      - Every host needs kv_host_info's facts in O(facts_var).
    type: list
    elements: str
    required: true
  vms:
    description:
      - The VMs, each as M(kvcompute.libvirt.kv_vm) options (C(name), C(cpu), C(memory), C(resources),
        C(host_devices), C(gpus), C(cpu_allocation_ratio) ...) plus the scheduling keys C(labels), C(node_selector),
        C(affinity) and C(tolerations), spelled as KubeVirt spells them, in snake_case.
      - C(affinity) holds C(node_affinity) (C(required_during_scheduling_ignored_during_execution.node_selector_terms),
        C(preferred_during_scheduling_ignored_during_execution) with C(weight) and C(preference)), C(pod_affinity)
        and C(pod_anti_affinity) (each a C(required_during_scheduling_ignored_during_execution) list of
        C({label_selector, topology_key}) and a C(preferred_during_scheduling_ignored_during_execution) list of
        C({weight, pod_affinity_term})). C(label_selector) takes C(match_labels) and C(match_expressions); a
        C(topology_key) names a host label; every host has C(kubernetes.io/hostname).
      - C(tolerations) - a list of C({key, operator (Equal or Exists), value, effect}).
      - Only the keys kv_place needs are read here; M(kvcompute.libvirt.kv_vm) checks the rest on the host, before
        any change.
    type: list
    elements: dict
    required: true
  cpu_allocation_ratio:
    description:
      - KubeVirt's C(cpuAllocationRatio) for VMs that do not set their own C(cpu_allocation_ratio).
      - Copied into each VM of RV(vms_by_host), so M(kvcompute.libvirt.kv_vm) gives the VM C(<cputune><shares>)
        for the request counted here.
    type: int
    default: 10
  memory_overcommit:
    description: KubeVirt's C(memoryOvercommit), in percent. V(150) makes a 3Gi guest request 2Gi.
    type: int
    default: 100
  scoring:
    description: V(spread) prefers the least requested host, V(pack) the most requested.
    type: str
    choices: [spread, pack]
    default: spread
  facts_var:
    description: The host variable that holds M(kvcompute.libvirt.kv_host_info)'s result (or its C(host)).
    type: str
    default: kv_host
  present_var:
    description:
      - The host variable that holds M(kvcompute.libvirt.kv_vm_info)'s result for the host. VMs of O(vms) found
        there are where they are now; other VMs there take capacity. Unset means an empty host.
    type: str
    default: kv_present_vms
  fail_on_unplaced:
    description: Fail the task when some VM fits nowhere (the reasons are in the message).
    type: bool
    default: false
attributes:
  check_mode:
    description: Computes the same result in check mode; it never changes anything.
    support: full
  diff_mode:
    description: Nothing to show, nothing changes.
    support: none
  action:
    description: Runs as an action plugin on the controller.
    support: full
notes:
  - "Inventory per host - C(kv_node_labels) (a mapping), C(kv_node_taints) (a list of C({key, value, effect}) or
    C(key=value:Effect) strings), C(kv_node_devices) (host devices per resource name, for example
    C({\"nvidia.com/TU104GL_Tesla_T4\": 2}))."
  - Allocatable CPU is the CPU manager pool kv_host_info reports in C(cpu_pools.pool) (every CPU without one);
    ordinary memory is the NUMA cells' memory less what hugepages hold.
  - "Dedicated CPUs and hugepages of a VM without guest NUMA come from one host NUMA cell (Nova's rule);
    with C(cpu.numa.guest_mapping_passthrough) they may spread over cells; explicit C(cpu.numa.cells) each take a
    host cell of their own. RV(cells) shows the split that proves the VM fits."
  - Needs the Python library bitmath on the controller.
seealso:
  - module: kvcompute.libvirt.kv_host_info
  - module: kvcompute.libvirt.kv_vm_info
  - module: kvcompute.libvirt.kv_vm
"""

EXAMPLES = r"""
- name: Gather each host's facts and what is defined there
  hosts: kvm
  tasks:
    - name: Host facts
      kvcompute.libvirt.kv_host_info:
      register: kv_host

    - name: VMs already there
      kvcompute.libvirt.kv_vm_info:
      register: kv_present_vms

- name: Place
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Choose a host for each VM
      kvcompute.libvirt.kv_place:
        hosts: "{{ groups['kvm'] }}"
        cpu_allocation_ratio: 10
        vms:
          - name: web1
            labels: {app: web}
            cpu: {sockets: 2}
            memory: {guest: 2Gi}
            affinity:
              pod_anti_affinity:
                required_during_scheduling_ignored_during_execution:
                  - label_selector: {match_labels: {app: web}}
                    topology_key: kubernetes.io/hostname
          - name: db1
            node_selector: {disk: ssd}
            cpu: {sockets: 4, dedicated_cpu_placement: true}
            memory: {guest: 8Gi, hugepages: {page_size: 1Gi}}
            tolerations:
              - {key: dedicated, operator: Equal, value: db, effect: NoSchedule}
      register: placement

- name: Define each VM where it was placed
  hosts: kvm
  tasks:
    - name: VMs of this host
      kvcompute.libvirt.kv_vm:
        vms: "{{ hostvars['localhost'].placement.vms_by_host[inventory_hostname] }}"
        state: running
"""

RETURN = r"""
placements:
  description: VM name to the inventory host chosen for it.
  returned: success
  type: dict
  sample: {"web1": "kvm1", "db1": "kvm2"}
unplaced:
  description: VM name to why it fits nowhere, summarised over the hosts like the Kubernetes scheduler.
  returned: success
  type: dict
  sample: {"web3": "0/2 hosts: 2 did not match VM anti-affinity rules"}
moved:
  description: VMs found on a host that no longer takes them, with C(from) and C(to) (null when unplaced).
  returned: success
  type: dict
  sample: {"web2": {"from": "kvm1", "to": "kvm2"}}
vms_by_host:
  description:
    - For every host of O(hosts), the M(kvcompute.libvirt.kv_vm) items of the VMs placed there (scheduling keys
      removed, C(cpu_allocation_ratio) filled in), sorted by name; an empty list for a host that gets none.
  returned: success
  type: dict
  sample: {"kvm1": [{"name": "web1", "cpu": {"sockets": 2}, "memory": {"guest": "2Gi"}, "cpu_allocation_ratio": 10}],
           "kvm2": []}
cells:
  description: For VMs with dedicated CPUs or hugepages, the host NUMA cells they were counted against.
  returned: success
  type: dict
  sample: {"db1": [{"cell": 0, "dedicated_cpus": 4, "hugepages": 8}]}
order:
  description: The order VMs were placed in (VMs that stayed first); VM affinity is judged in this order.
  returned: success
  type: list
  elements: str
  sample: ["db1", "web1"]
hosts:
  description:
    - Per host, what is allocatable and requested after placement - C(cpu) (millicores), C(memory) (bytes),
      C(devices) per resource name, and per NUMA cell C(dedicated_cpus) and C(hugepages) per size; C(vms) lists the
      VMs counted there.
  returned: success
  type: dict
  sample: {"kvm1": {"vms": ["web1"], "cpu": {"allocatable": "4000m", "requested": "200m"},
                    "memory": {"allocatable": 8321499136, "requested": 2147483648},
                    "cells": [{"id": 0, "dedicated_cpus": {"allocatable": 4, "requested": 0}, "hugepages": {}}]}}
settings:
  description: The C(cpu_allocation_ratio), C(memory_overcommit) and C(scoring) used.
  returned: success
  type: dict
  sample: {"cpu_allocation_ratio": 10, "memory_overcommit": 100, "scoring": "spread"}
errors:
  description: On bad input, every problem with the C(field) it is about (for example C(vms[2].tolerations[0].value)).
  returned: failure
  type: list
  elements: dict
"""
