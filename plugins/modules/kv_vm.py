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
  - Disks, NVRAM and TPM state are never deleted. O(state=absent) undefines the domain and keeps them.
author:
  - kvcompute.libvirt contributors (!UNKNOWN)
requirements:
  - libvirt-python
  - lxml
  - bitmath
options:
  uri:
    description: libvirt connection URI.
    type: str
    default: qemu:///system
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
      - V(absent) stops and undefines it; its disks, NVRAM and TPM state are kept.
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
  domain_type:
    description:
      - V(kvm) for hardware virtualization, V(qemu) for emulation (TCG), V(auto) for kvm when /dev/kvm is usable.
    type: str
    choices: [auto, kvm, qemu]
  machine:
    description:
      - Machine type. V(q35) (default) or V(pc), or a versioned name such as V(pc-q35-7.2).
      - A domain keeps the versioned machine it was defined with; V(q35) matches any V(pc-q35-*).
    type: str
  firmware:
    description: Firmware of the VM.
    type: dict
    suboptions:
      type:
        description:
          - V(bios) (SeaBIOS) or V(efi) (UEFI). The UEFI build is chosen from QEMU's firmware descriptors,
            and the VM gets its own NVRAM, kept across runs.
        type: str
        choices: [bios, efi]
        default: bios
      secure_boot:
        description: UEFI secure boot (enrolled keys preferred). Needs O(firmware.type=efi) and a q35 machine (SMM).
        type: bool
        default: false
  kernel_boot:
    description: Boot a kernel directly (KubeVirt's kernelBoot).
    type: dict
    suboptions:
      kernel:
        description: Absolute path of the kernel image on the host.
        type: path
        required: true
      initrd:
        description: Absolute path of the initrd on the host.
        type: path
      cmdline:
        description: Kernel command line.
        type: str
  cpu:
    description: vCPU topology and model; the VM has sockets × cores × threads vCPUs.
    type: dict
    suboptions:
      sockets:
        description:
          - Sockets. On a running VM a change is applied live, up and down (CPU hotplug by sockets, as KubeVirt does),
            up to O(cpu.max_sockets); removing vCPUs needs a guest that supports CPU hot-unplug.
        type: int
        default: 1
      max_sockets:
        description:
          - The most sockets the VM can be given while running. Default 4 × O(cpu.sockets) (KubeVirt's
            maxHotplugRatio), capped by the host; an existing VM keeps the maximum it was defined with.
          - A change is restart-required.
        type: int
      cores:
        description: Cores per socket.
        type: int
        default: 1
      threads:
        description: Threads per core.
        type: int
        default: 1
      model:
        description:
          - V(host-model), V(host-passthrough) (KVM only), V(maximum), or a named model the host knows
            (V(virsh cpu-models x86_64)). An unknown or unusable model is refused before the VM is defined.
          - Default V(host-model) with KVM, V(maximum) with TCG.
        type: str
      features:
        description: CPU features with their policy. A feature libvirt does not know is refused.
        type: list
        elements: dict
        suboptions:
          name:
            description: Feature name, as libvirt spells it (for example V(vmx), V(pcid)).
            type: str
            required: true
          policy:
            description: How the feature is treated.
            type: str
            choices: [force, require, optional, disable, forbid]
            default: require
  memory:
    description: Guest memory.
    type: dict
    suboptions:
      guest:
        description:
          - Memory the guest sees, as a Kubernetes quantity (V(512Mi), V(2Gi), V(1G)); whole MiB.
          - On a running VM a change is applied live through virtio-mem (KubeVirt's memory hotplug) and kv_vm waits
            until the guest has plugged it; it cannot go below the memory the VM booted with, nor above
            O(memory.max_guest).
        type: str
        default: 512Mi
      max_guest:
        description:
          - The most memory the VM can be given while running; the part above the boot memory is a virtio-mem device.
            Default 4 × O(memory.guest), rounded to 2Mi; an existing VM keeps the maximum it was defined with.
            Set it equal to O(memory.guest) for a VM without memory hotplug.
          - A change is restart-required.
        type: str
  resources:
    description:
      - KubeVirt's resources. C(requests.cpu) becomes C(<cputune><shares>) (Kubernetes' 1024 shares per CPU),
        C(limits.cpu) a CFS quota over a 100 ms period, C(requests.memory) and C(limits.memory) the memtune soft and
        hard limits. A request above its limit is an error. Applied live to a running VM.
    type: dict
    suboptions:
      requests:
        description: C(cpu) (for example V(500m)) and C(memory) (for example V(1Gi)).
        type: dict
      limits:
        description: C(cpu) and C(memory); C(limits.memory) must not be below O(memory.guest).
        type: dict
  disks:
    description: Disks and cdroms, in order. Each is named, and keeps its name in libvirt as the alias C(ua-NAME).
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the disk (a DNS label).
        type: str
        required: true
      device:
        description: V(disk) or V(cdrom).
        type: str
        choices: [disk, cdrom]
        default: disk
      bus:
        description: Bus; V(virtio) for disks and V(sata) for cdroms by default. A cdrom cannot use virtio.
        type: str
        choices: [virtio, sata, scsi]
      path:
        description:
          - An image file on the host. When it does not exist and O(disks[].size) is given, a new image is created
            (mode 0600); otherwise a missing file is an error.
        type: path
      pool:
        description: A libvirt storage pool holding the volume O(disks[].volume).
        type: str
      volume:
        description: A volume in O(disks[].pool); created with O(disks[].size) when missing.
        type: str
      size:
        description: Size of an image to create, as a Kubernetes quantity (V(10Gi)). Never used to shrink or grow.
        type: str
      format:
        description: Image format; detected for an existing file, V(qcow2) for a new one.
        type: str
        choices: [qcow2, raw]
      boot_order:
        description: Boot order of this device (1 first).
        type: int
      readonly:
        description: Attach read-only (cdroms always are).
        type: bool
        default: false
  interfaces:
    description: Network interfaces, in order.
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the interface (a DNS label).
        type: str
        required: true
      type:
        description: V(user) (QEMU user networking), V(network) (a libvirt network) or V(bridge) (a host bridge).
        type: str
        choices: [user, network, bridge]
        default: user
      source:
        description: The network or bridge name; required for V(network) and V(bridge).
        type: str
      model:
        description: NIC model.
        type: str
        choices: [virtio, e1000e, e1000, rtl8139]
        default: virtio
      mac:
        description:
          - MAC address. By default the domain's current one is kept, and a new NIC gets one derived from the VM
            and NIC names, so it is the same on every run and every host.
        type: str
  video:
    description:
      - Video device; any but V(none) also gets a VNC display listening on 127.0.0.1 only.
      - V(auto) is V(vga) with BIOS and V(bochs) with UEFI, as KubeVirt does.
    type: str
    choices: [auto, virtio, vga, bochs, none]
  serial:
    description: The serial console.
    type: dict
    suboptions:
      type:
        description: V(pty) (for C(virsh console)), V(file) (a log file) or V(none).
        type: str
        choices: [pty, file, none]
        default: pty
      path:
        description: The log file, for V(file).
        type: path
  rng:
    description: A virtio random number generator fed from the host's /dev/urandom.
    type: bool
  watchdog:
    description: A watchdog device.
    type: dict
    suboptions:
      model:
        description: Watchdog model.
        type: str
        choices: [i6300esb, ib700]
        default: i6300esb
      action:
        description: What libvirt does when the watchdog fires.
        type: str
        choices: [reset, shutdown, poweroff, pause, none, dump, inject-nmi]
        default: reset
notes:
  - Runs on the libvirt host (or against O(uri)); needs libvirt-python, lxml and bitmath there.
  - Supports check mode and diff mode.
seealso:
  - module: kvcompute.libvirt.kv_vm_info
  - module: kvcompute.libvirt.kv_host_info
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
kept:
  description: What O(state=absent) left on the host.
  returned: when a VM was removed
  type: str
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
              "disks": "list", "interfaces": "list", "serial": "dict", "watchdog": "dict", "rng": "bool"}


def main():
    argument_spec = dict(
        uri=dict(type="str", default="qemu:///system"),
        state=dict(type="str", choices=["present", "running", "stopped", "absent", "restarted"]),
        vms=dict(type="list", elements="dict"),
        shutdown_timeout=dict(type="int"),
        wait_timeout=dict(type="int"),
        domain_type=dict(type="str", choices=["auto", "kvm", "qemu"]),
        video=dict(type="str", choices=["auto", "virtio", "vga", "bochs", "none"]),
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
