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
  format:
    description:
      - V(options) reports each VM's spec as M(kvcompute.libvirt.kv_vm) options (RV(vms[].spec)).
      - V(kubevirt) adds RV(vms[].manifest), the VM as a KubeVirt C(VirtualMachine); feeding it to
        M(kvcompute.libvirt.kv_vm) O(kvcompute.libvirt.kv_vm#module:manifest) (with the same O(image_catalogue),
        O(storage_pool) and O(image_dir)) declares the same VM again.
    type: str
    choices: [options, kubevirt]
    default: options
  image_catalogue:
    description:
      - With O(format=kubevirt), the catalogue the VMs were declared with, so that a disk that is a catalogue image
        exports as a C(containerDisk) of that image.
    type: dict
  storage_pool:
    description: With O(format=kubevirt), the pool whose volumes export as C(persistentVolumeClaim)s.
    type: str
    default: default
  image_dir:
    description: With O(format=kubevirt), where kv_vm wrote the VMs' seed ISOs and emptyDisk images.
    type: path
    default: /var/lib/libvirt/images
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

- name: The VM as a KubeVirt VirtualMachine
  kvcompute.libvirt.kv_vm_info:
    name: web1
    format: kubevirt
  register: web1_kubevirt

- name: Keep the manifest
  ansible.builtin.copy:
    content: "{{ web1_kubevirt.vms[0].manifest | to_nice_yaml }}"
    dest: /srv/manifests/web1.yaml
    mode: "0600"
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
    manifest:
      description:
        - With O(format=kubevirt), the VM as a KubeVirt C(VirtualMachine) (camelCase). kv_vm options KubeVirt has no
          field for (such as C(domain_type), a bridge NIC) are in the annotation C(kvcompute.dev/libvirt-options).
        - Null for a domain whose spec kv_vm cannot express (see RV(vms[].spec_errors)).
      type: dict
      returned: when O(format=kubevirt)
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
    run_strategy:
      description:
        - The VM's run strategy (C(Always), C(RerunOnFailure), C(Once), C(Manual), C(Halted)), as
          M(kvcompute.libvirt.kv_vm) stored it; null when none is set. The run-strategy service of the
          C(kvcompute.libvirt.libvirt_host) role acts on it. See docs/run-strategies.md.
      type: str
      sample: Always
    autostart:
      description: Whether libvirt starts the VM when the host boots (on for run strategy C(Always)).
      type: bool
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.kvcompute.libvirt.plugins.module_utils.converge.info import describe
from ansible_collections.kvcompute.libvirt.plugins.module_utils.converge.kubevirt_info import add_manifest
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.hostfs import HostFS
from ansible_collections.kvcompute.libvirt.plugins.module_utils.converge.module import check_libraries, connected


def main():
    module = AnsibleModule(
        argument_spec=dict(uri=dict(type="str", default="qemu:///system"), name=dict(type="str"),
                           format=dict(type="str", default="options", choices=["options", "kubevirt"]),
                           image_catalogue=dict(type="dict"), storage_pool=dict(type="str", default="default"),
                           image_dir=dict(type="path", default="/var/lib/libvirt/images")),
        supports_check_mode=True,
    )
    check_libraries(module, missing_required_lib)

    def report(conn):
        names = [module.params["name"]] if module.params["name"] else conn.list_domain_names()
        vms = [describe(conn, name) for name in names if conn.lookup(name) is not None]
        if module.params["format"] == "kubevirt":
            vms = [add_manifest(vm, HostFS("/"), module.params["image_catalogue"], module.params["storage_pool"],
                                module.params["image_dir"]) for vm in vms]
        return vms

    vms = connected(module, report)
    module.exit_json(changed=False, vms=vms)


if __name__ == "__main__":
    main()
