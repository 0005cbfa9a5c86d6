#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: kv_vm_info
short_description: Report libvirt VMs and their spec as kv_vm sees it
version_added: 0.1.0
description:
  - Lists the VMs of a libvirt host with their state and their spec in M(kvcompute.libvirt.kv_vm)'s options,
    read back from the domain XML. Feeding a VM's RV(vms[].spec) to M(kvcompute.libvirt.kv_vm) changes nothing.
  - Reports, for a running VM, whether it still waits for a restart to take changes (RV(vms[].restart_required)).
extends_documentation_fragment:
  - kvcompute.libvirt.connection
author:
  - kvcompute.libvirt contributors (!UNKNOWN)
requirements:
  - bitmath
options:
  name:
    description: Only this VM. Without it, every VM of the host.
    type: str
notes:
  - Supports check mode (it changes nothing).
seealso:
  - module: kvcompute.libvirt.kv_vm
"""

EXAMPLES = r"""
- name: Every VM on the host
  kvcompute.libvirt.kv_vm_info:
  register: info

- name: One VM, to copy its spec into a playbook
  kvcompute.libvirt.kv_vm_info:
    name: web1
  register: web1

- name: Re-declare it unchanged (a no-op)
  kvcompute.libvirt.kv_vm: "{{ web1.vms[0].spec | combine({'state': 'running'}) }}"
"""

RETURN = r"""
vms:
  description: One entry per VM, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The VM's name.
      type: str
      sample: web1
    state:
      description: libvirt state (running, shutoff, paused ...).
      type: str
      sample: running
    uuid:
      description: The domain's UUID.
      type: str
    managed:
      description: Whether kv_vm declared this VM (its metadata is in the domain).
      type: bool
    spec:
      description: The VM's spec as M(kvcompute.libvirt.kv_vm) options.
      type: dict
    spec_errors:
      description: For a domain kv_vm did not write, the parts of it that kv_vm cannot express.
      type: list
      elements: str
      returned: when there are such parts
    vcpus:
      description: Number of vCPUs.
      type: int
    memory:
      description: Guest memory as a Kubernetes quantity.
      type: str
    status:
      description:
        - What a running VM has now (KubeVirt's C(currentCPUTopology) and C(status.memory)) - C(cpu) with
          C(sockets), C(cores), C(threads); C(memory) with C(guest_at_boot), C(guest_requested) and C(guest_current)
          (the virtio-mem request and what the guest has plugged).
      type: dict
      returned: for a running VM
    restart_required:
      description: A running VM whose definition has restart-only changes it has not booted with yet.
      type: bool
    restart_required_fields:
      description: Those fields.
      type: list
      elements: str
    memory_dump:
      description:
        - The last M(kvcompute.libvirt.kv_memory_dump) request, as KubeVirt's C(status.memoryDumpRequest) - C(phase)
          (C(InProgress), C(Completed) or C(Failed)), C(path), C(format), C(start_timestamp), C(end_timestamp), and
          when completed C(size) and C(sha256), when failed C(message); C(pool) and C(volume) for a pool target.
        - While C(InProgress), C(progress) has the C(total) and C(processed) bytes and C(percent) (libvirt's job
          stats), so a dump running under Ansible's C(async) can be watched from another task.
        - Null when the VM was never dumped.
      type: dict
    vsock_cid:
      description: The VM's VSOCK context id (KubeVirt's C(status.VSOCKCID)); null without VSOCK.
      type: int
    conditions:
      description:
        - KubeVirt-style conditions, each with C(type), C(status), C(reason) and C(message). A VM holding host devices
          has C(LiveMigratable) V(False) with reason C(HostDeviceNotLiveMigratable).
      type: list
      elements: dict
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.kvcompute.libvirt.plugins.module_utils.converge.info import describe
from ansible_collections.kvcompute.libvirt.plugins.module_utils.converge.module import check_libraries, connected


def main():
    module = AnsibleModule(
        argument_spec=dict(uri=dict(type="str", default="qemu:///system"), name=dict(type="str")),
        supports_check_mode=True,
    )
    check_libraries(module, missing_required_lib)

    def report(conn):
        names = [module.params["name"]] if module.params["name"] else conn.list_domain_names()
        return [describe(conn, name) for name in names if conn.lookup(name) is not None]

    vms = connected(module, report)
    module.exit_json(changed=False, vms=vms)


if __name__ == "__main__":
    main()
