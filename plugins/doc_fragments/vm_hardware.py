# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """A VM's virtual hardware: the options kv_vm takes for each VM (and each O(vms) item)."""

    DOCUMENTATION = r"""
options:
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
      dedicated_cpu_placement:
        description:
          - KubeVirt's C(dedicatedCpuPlacement). Each vCPU gets an exclusive host CPU from the pool of
            O(cpu_manager_file), inside one NUMA cell when one holds them; C(<vcpupin>) per vCPU and, with KVM,
            C(<hint-dedicated>). Other VMs never get these CPUs; shared VMs float on the rest of the pool and are
            re-pinned live when exclusive CPUs are taken or freed.
          - Not enough free CPUs is an error before anything is defined, saying what was needed and what is free.
            A re-run keeps the CPUs the VM has. No vCPU hotplug (O(cpu.max_sockets) equals O(cpu.sockets)).
          - See C(docs/dedicated-cpus.md).
        type: bool
        default: false
      isolate_emulator_thread:
        description:
          - KubeVirt's C(isolateEmulatorThread) (Nova's C(hw:emulator_threads_policy=isolate)); one more exclusive
            CPU for QEMU's emulator threads (C(<emulatorpin>)). Without it they share the vCPUs' CPUs.
          - Needs O(cpu.dedicated_cpu_placement).
        type: bool
        default: false
      thread_policy:
        description:
          - How pinned vCPUs use SMT thread siblings, as Nova's C(hw:cpu_thread_policy).
          - V(prefer) as few cores as hold the vCPUs (siblings together), any host.
          - V(isolate) each vCPU on its own core whose sibling threads are held idle; no other VM runs beside it.
          - V(require) only on SMT hosts and only on cores with two or more free threads.
          - Needs O(cpu.dedicated_cpu_placement) for anything but V(prefer).
        type: str
        choices: [prefer, isolate, require]
        default: prefer
      numa:
        description:
          - Guest NUMA topology, bound strictly to host cells (C(<numatune>) with a C(memnode) per cell).
            Give O(cpu.numa.guest_mapping_passthrough) or O(cpu.numa.cells).
          - No memory hotplug with it (O(memory.max_guest) equals O(memory.guest)).
        type: dict
        suboptions:
          guest_mapping_passthrough:
            description:
              - KubeVirt's C(guestMappingPassthrough). One guest cell per host cell behind the pinned vCPUs,
                memory split evenly. Needs O(cpu.dedicated_cpu_placement).
            type: bool
            default: false
          cells:
            description:
              - Explicit guest cells (Nova's C(hw:numa_cpus.N)/C(hw:numa_mem.N)); each goes on its own host cell
                with enough free CPUs, memory and hugepages. Together they list every vCPU once and add up to
                O(memory.guest).
            type: list
            elements: dict
            suboptions:
              id:
                description: Guest cell number, 0, 1, ... in order.
                type: int
                required: true
              cpus:
                description: The vCPUs of this cell (numbers from 0).
                type: list
                elements: int
                required: true
              memory:
                description: Memory of this cell, a Kubernetes quantity; a multiple of the hugepage size if any.
                type: str
                required: true
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
      hugepages:
        description:
          - KubeVirt's C(memory.hugepages). The guest's memory comes from hugepages of this size
            (C(<memoryBacking>), taken when the VM starts); O(memory.guest) must be a multiple of it.
          - The free pages (per NUMA cell when the memory is bound to cells) are checked before a VM is defined or
            started; too few is an error saying how many are needed and free. No memory hotplug with hugepages.
        type: dict
        suboptions:
          page_size:
            description: Page size.
            type: str
            choices: [2Mi, 1Gi]
            required: true
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
  memory_dump:
    description:
      - Dump the guest's memory when it crashes. V(on_crash=true) sets libvirt's lifecycle action
        C(<on_crash>coredump-restart</on_crash>) (otherwise C(destroy)) and adds a pvpanic device (C(<panic model='isa'/>)),
        through which the guest kernel reports its panic to QEMU.
      - libvirt writes the dump to qemu.conf's C(auto_dump_path) (set by the C(kvcompute.libvirt.libvirt_host) role,
        variable C(libvirt_host_auto_dump_path)), then restarts the VM.
      - A change on a running VM is restart-required. For a dump on demand, see M(kvcompute.libvirt.kv_memory_dump).
    type: dict
    suboptions:
      on_crash:
        description: Dump the memory when the guest crashes, then restart it.
        type: bool
        default: false
  tpm:
    description:
      - "A TPM 2.0 emulated by swtpm (KubeVirt's C(devices.tpm)). C(tpm: {}) gives a TPM whose state lives only
        while the VM runs (model C(tpm-tis)); C(persistent: true) gives a C(tpm-crb) whose state is kept under
        C(/var/lib/libvirt/swtpm/<uuid>/) across stop/start, redefines, libvirtd restarts and migration."
      - Adding or removing it, or changing O(tpm.persistent), on a running VM is restart-required.
      - O(state=absent) keeps the TPM state unless O(purge_state=true). Back it up and restore it with
        M(kvcompute.libvirt.kv_tpm).
    type: dict
    suboptions:
      persistent:
        description: Keep the TPM state across boots (C(persistent_state='yes')).
        type: bool
        default: false
      encryption_secret:
        description:
          - Encrypt the TPM state with a libvirt secret of usage C(vtpm), by UUID or usage name (create it with
            M(kvcompute.libvirt.kv_secret)). An unknown secret is an error before any change.
          - M(kvcompute.libvirt.kv_tpm) backs the encrypted files up as they are; the VM they are restored
            into needs the same secret value.
        type: str
"""
