#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: kv_vm
short_description: Declare libvirt/KVM virtual machines, KubeVirt style
version_added: 0.1.0
description:
  - Declares one VM, or a list of VMs in one task, as typed virtual hardware; defines, changes,
    starts, stops and removes the libvirt domains to match.
  - Idempotent. A re-run with the same options changes nothing. Check mode reports exactly the changes
    and actions a real run would make, and C(--diff) shows the spec before and after, never libvirt's defaults.
  - A change to a running VM is applied live where libvirt can (vCPUs by sockets, memory through virtio-mem,
    CPU and memory tuning), and otherwise
    written to the domain's definition and reported in RV(restart_required_fields), like KubeVirt's
    RestartRequired condition.
  - Every option is validated before anything on the host changes; an error names the field and what is allowed.
    With O(vms), one bad entry stops the whole task before any VM is touched.
  - Disks are never deleted. O(state=absent) undefines the domain and keeps its disks, and its NVRAM and TPM
    state unless O(purge_state=true).
author:
  - kvcompute.libvirt contributors (!UNKNOWN)
extends_documentation_fragment:
  - kvcompute.libvirt.connection
  - kvcompute.libvirt.vm_hardware
  - kvcompute.libvirt.vm_devices
requirements:
  - bitmath
options:
  name:
    description:
      - Name of the VM (the libvirt domain).
      - Required unless O(vms) is given.
    type: str
  state:
    description:
      - V(present) defines the domain and leaves it as it is (a new one stays shut off).
      - V(running) defines and starts it; V(stopped) defines it and shuts it down (gracefully first, forced
        after O(shutdown_timeout)).
      - V(restarted) stops and starts it, applying every pending restart-only change.
      - V(absent) stops and undefines it; its disks are kept, and its NVRAM and TPM state too unless
        O(purge_state=true).
    type: str
    choices: [present, running, stopped, absent, restarted]
  vms:
    description:
      - Several VMs in one task. Each item takes the same keys as this module's VM options (O(name), O(state),
        O(cpu), O(memory) ...); a key an item leaves out takes the task's top-level value.
      - All items are validated and planned before any of them is changed.
    type: list
    elements: dict
  shutdown_timeout:
    description: Seconds to wait for a graceful (ACPI) shutdown before forcing the VM off. V(0) forces at once.
    type: int
  wait_timeout:
    description: Seconds to wait for a start or a forced stop to be reported by libvirt.
    type: int
  purge_state:
    description:
      - With O(state=absent), also delete the VM's NVRAM file and swtpm state directory (libvirt's undefine
        flags C(--nvram --tpm)). By default both are kept, so a VM defined again with the same name and UUID
        finds them. Disks are never deleted.
      - The result's RV(state_files) lists which of these files were removed or kept.
      - Per VM, like O(state); default V(false).
    type: bool
  cpu_manager_file:
    description:
      - 'Where the host''s CPU pools are recorded (JSON such as C({"reserved": "0", "pool": "1-3"})), written by the
        cpu_manager role. Without the file every online CPU is in the pool.'
      - Dedicated CPUs come from the pool; shared VMs float on the pool minus every exclusive CPU. VMs placed with
        another file are neither counted nor re-pinned, so change it only for tests or a non-standard layout.
      - See C(docs/dedicated-cpus.md).
    type: path
    default: /etc/kvcompute/cpu_manager.json
  permitted_host_devices:
    description:
      - The host devices VMs may ask for by C(device_name) in O(host_devices) and O(gpus) - KubeVirt's
        C(permittedHostDevices), in snake_case. One map for the whole task (not per VM).
      - C(pci_host_devices) - a list of C(pci_vendor_selector) (vendor:device, for example V(10de:1eb8)) and
        C(resource_name) (the C(device_name) VMs use).
      - C(mediated_devices) - a list of C(mdev_name_selector) (an mdev type name, for example V(GRID T4-1Q)) and
        C(resource_name).
      - C(usb) - a list of C(resource_name) and C(selectors) (a list of C(vendor) and C(product), 4 hex digits each;
        the VM gets one device per selector).
      - C(external_resource_provider) is accepted in each entry, as KubeVirt has it, and ignored.
    type: dict
  root:
    description:
      - Directory under which host files are read (sysfs devices, C(/dev/kvm), C(/dev/vhost-vsock), firmware
        descriptors) and the allocation lock C(/run/kvcompute/allocate.lock) is taken.
      - Meant for testing with a fake tree and for chroots; leave the default on real hosts.
    type: path
    default: /
notes:
  - Host devices and VSOCK CIDs are allocated from what the defined domains of the host hold, under a host-wide
    lock, so a device or mediated device goes to one VM at a time. See the C(host_devices) and C(gpus) options.
  - Runs on the libvirt host (or against O(uri)); needs libvirt-python, lxml and bitmath there.
  - Supports check mode and diff mode.
seealso:
  - module: kvcompute.libvirt.kv_vm_info
  - module: kvcompute.libvirt.kv_host_info
  - module: kvcompute.libvirt.kv_memory_dump
"""

EXAMPLES = r"""
- name: A running VM with 2 vCPUs, 2Gi, UEFI, a new 20Gi disk and a NIC on the default network
  kvcompute.libvirt.kv_vm:
    name: web1
    state: running
    firmware:
      type: efi
    cpu:
      cores: 2
    memory:
      guest: 2Gi
    resources:
      requests:
        cpu: 500m
      limits:
        cpu: "2"
    disks:
      - name: root
        path: /var/lib/libvirt/images/web1.qcow2
        size: 20Gi
        boot_order: 1
      - name: install
        device: cdrom
        path: /srv/iso/debian-12.iso
    interfaces:
      - name: default
        type: network
        source: default
    rng: true

- name: A fleet of shut-off VMs in one task
  kvcompute.libvirt.kv_vm:
    state: present
    memory:
      guest: 1Gi
    vms:
      - name: worker1
      - name: worker2
        cpu:
          cores: 4

- name: A VM with a passed-through T4, a vGPU, a USB stick and VSOCK
  kvcompute.libvirt.kv_vm:
    name: gpu1
    state: present
    permitted_host_devices:
      pci_host_devices:
        - pci_vendor_selector: "10de:1eb8"
          resource_name: nvidia.com/TU104GL_Tesla_T4
      mediated_devices:
        - mdev_name_selector: GRID T4-1Q
          resource_name: nvidia.com/GRID_T4-1Q
    host_devices:
      - name: t4
        device_name: nvidia.com/TU104GL_Tesla_T4
      - name: stick
        usb:
          vendor: "0781"
          product: "5567"
    gpus:
      - name: vgpu
        device_name: nvidia.com/GRID_T4-1Q
    autoattach_vsock: true

- name: Remove a VM (disks, NVRAM and TPM state are kept)
  kvcompute.libvirt.kv_vm:
    name: web1
    state: absent
"""

RETURN = r"""
name:
  description: The VM's name (single-VM form).
  returned: when O(name) is given
  type: str
  sample: web1
state:
  description: The libvirt state of the VM after the task (predicted in check mode).
  returned: when O(name) is given
  type: str
  sample: running
spec:
  description: The resolved spec, in this module's options; feeding it back is a no-op.
  returned: when O(name) is given and the VM is not absent
  type: dict
placement:
  description:
    - Where the VM runs on the host (cpusets in Linux list format). A dedicated VM has C(vcpus) (the host CPU of each
      vCPU, in order), C(emulator) and C(exclusive) (every CPU it holds); a shared VM has C(cpus), where it floats.
      C(memory_cells) are the host NUMA cells its memory is bound to (empty when unbound), C(guest_cells) the host
      cell of each guest NUMA cell. See C(docs/dedicated-cpus.md).
  returned: when O(name) is given and the VM is not absent
  type: dict
  sample: {"pool_file": "/etc/kvcompute/cpu_manager.json", "dedicated": true, "vcpus": [2, 3], "emulator": "1",
           "exclusive": "1-3", "memory_cells": "0"}
changes:
  description:
    - Each field that differs, with how it is applied; V(define) (the VM is off), V(live) (applied to the running
      VM), V(restart) (takes effect at the next boot) or V(create) (a new disk image).
  returned: when O(name) is given
  type: list
  elements: dict
  sample: [{"field": "cpu.cores", "before": 1, "after": 2, "apply": "restart"}]
actions:
  description: What the task did (or would do in check mode), in order.
  returned: when O(name) is given
  type: list
  elements: str
  sample: ["redefine", "start"]
restart_required:
  description: Whether the running VM still differs from its spec in fields that need a restart.
  returned: when O(name) is given
  type: bool
restart_required_fields:
  description: The fields that are waiting for a restart.
  returned: when O(name) is given
  type: list
  elements: str
  sample: ["cpu.cores"]
state_files:
  description:
    - The VM's NVRAM file and swtpm state directory that O(state=absent) removed (O(purge_state=true)) or kept,
      as lists of paths; only files that exist are listed. In check mode, what a real run would do.
  returned: when a VM was removed
  type: dict
  sample:
    kept: ["/var/lib/libvirt/qemu/nvram/web1_VARS.fd", "/var/lib/libvirt/swtpm/0c4b5c1e-7a35-4d5e-9d1a-2f1e0c7e5a11"]
    removed: []
vms:
  description: One result per VM, each with the keys above.
  returned: when O(vms) is given
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.kvcompute.libvirt.plugins.module_utils.converge.module import run_vms
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.options import SPEC_KEYS

SPEC_TYPES = {"firmware": "dict", "kernel_boot": "dict", "cpu": "dict", "memory": "dict", "resources": "dict",
              "disks": "list", "interfaces": "list", "serial": "dict", "watchdog": "dict", "rng": "bool",
              "tpm": "dict", "memory_dump": "dict", "host_devices": "list", "gpus": "list", "autoattach_vsock": "bool"}


def main():
    argument_spec = dict(
        uri=dict(type="str", default="qemu:///system"),
        state=dict(type="str", choices=["present", "running", "stopped", "absent", "restarted"]),
        vms=dict(type="list", elements="dict"),
        shutdown_timeout=dict(type="int"),
        wait_timeout=dict(type="int"),
        purge_state=dict(type="bool"),
        cpu_manager_file=dict(type="path", default="/etc/kvcompute/cpu_manager.json"),
        domain_type=dict(type="str", choices=["auto", "kvm", "qemu"]),
        video=dict(type="str", choices=["auto", "virtio", "vga", "bochs", "none"]),
        permitted_host_devices=dict(type="dict"),
        root=dict(type="path", default="/"),
    )
    for key in SPEC_KEYS:
        if key not in argument_spec:
            kind = SPEC_TYPES.get(key, "str")
            argument_spec[key] = dict(type=kind, elements="dict") if kind == "list" else dict(type=kind)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           required_one_of=[("name", "vms")], mutually_exclusive=[("name", "vms")])
    run_vms(module, missing_required_lib)


if __name__ == "__main__":
    main()
