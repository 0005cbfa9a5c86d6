# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host-aware, pure decisions for one VM's virtual hardware.

Input: a VMSpec, a host view (plain data gathered by converge/), what a probe
found on disk, and the existing domain if there is one.  Output: the resolved
spec (no 'auto' left) and the details the renderers need.  Anything this host
cannot do is a SpecError naming the field, raised before any change.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import fnmatch
import hashlib
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.errors import SpecError

NVRAM_DIR = "/var/lib/libvirt/qemu/nvram"
MACHINE_FAMILIES = {"q35": "pc-q35-*", "pc": "pc-i440fx-*"}


@dataclass
class HardwarePlan:
    arch: str = "x86_64"
    uuid: Optional[str] = None
    loader: Optional[dict] = None
    nvram: Optional[str] = None
    targets: Dict[str, str] = field(default_factory=dict)
    creates: List[dict] = field(default_factory=list)  # images to create before define
    boot_memory: int = 0  # RAM the VM boots with; a virtio-mem device adds the rest up to max_guest
    requested: int = 0  # what the virtio-mem device is asked to plug
    placement: Optional[object] = None  # plan/cpu_pinning.Placement: host CPUs, NUMA cells (set by converge)
    hostdevs: List[dict] = field(default_factory=list)  # host devices assigned (converge/devices.py)
    vsock_cid: Optional[int] = None


@dataclass
class Existing:
    """What plan needs of an existing domain (parsed by converge from its XML)."""

    uuid: Optional[str] = None
    machine: Optional[str] = None
    loader: Optional[dict] = None
    nvram: Optional[str] = None
    secure_boot: bool = False
    targets: Dict[str, str] = field(default_factory=dict)
    macs: Dict[str, str] = field(default_factory=dict)
    max_sockets: Optional[int] = None
    max_guest: Optional[int] = None
    running: bool = False
    # Of the running VM, from its live XML: what a live change can reach.
    boot_memory: Optional[int] = None
    live_max_sockets: Optional[int] = None
    live_max_guest: Optional[int] = None


def resolve(spec, host, probe, existing=None, pick_firmware=None, check_cpu_model=None):
    """Return (resolved VMSpec, HardwarePlan) or raise SpecError.

    host:  {'arch', 'kvm_usable', 'machines': {dtype: [names]}, 'machine_aliases': {dtype: {alias: name}},
            'max_vcpus': {dtype: n}}
    probe: {'files': {path: format or None (absent)}, 'volumes': {'pool/vol': path or None},
            'networks': {name: bool}, 'secrets': {ref: {'uuid', 'usage'} or None}}
    pick_firmware(arch, machine, secure_boot) -> loader dict (raises ValueError)
    check_cpu_model(dtype, model) -> None or message
    """
    existing = existing or Existing()
    problems = []
    spec = copy.deepcopy(spec)
    plan = HardwarePlan(arch=host.get("arch", "x86_64"), uuid=existing.uuid)

    _domain_type(spec, host, problems)
    _machine(spec, host, existing, problems)
    _cpu(spec, host, problems, check_cpu_model)
    _cpu_hotplug(spec, host, existing, problems)
    _memory_hotplug(spec, plan, existing, problems)
    _firmware(spec, plan, existing, problems, pick_firmware)
    if spec.video == "auto":
        spec.video = "bochs" if spec.firmware.type == "efi" else "vga"
    _disks(spec, plan, probe, existing, problems)
    _interfaces(spec, probe, existing, problems)
    _kernel_boot(spec, probe, problems)
    _tpm_secret(spec, probe, problems)
    if problems:
        raise SpecError(problems)
    return spec, plan


def _domain_type(spec, host, problems):
    if spec.domain_type == "auto":
        spec.domain_type = "kvm" if host.get("kvm_usable") else "qemu"
    elif spec.domain_type == "kvm" and not host.get("kvm_usable"):
        problems.append(("domain_type", "kvm is not usable on this host (/dev/kvm missing or not accessible); "
                                        "use qemu (TCG) or auto"))


def machine_matches(wanted, actual):
    """'q35' is satisfied by any pc-q35-X.Y: a domain keeps the version it was defined with."""
    return wanted == actual or fnmatch.fnmatch(actual or "", MACHINE_FAMILIES.get(wanted, wanted))


def machine_family(machine):
    """'q35' for q35 and pc-q35-X, 'pc' for pc and pc-i440fx-X: what decides the PCI layout."""
    for family, pattern in MACHINE_FAMILIES.items():
        if machine_matches(family, machine):
            return family
    return machine


def _machine(spec, host, existing, problems):
    if existing.machine and machine_matches(spec.machine, existing.machine):
        spec.machine = existing.machine
        return
    offered = host.get("machines", {}).get(spec.domain_type)
    if offered and spec.machine not in offered:
        families = sorted(n for n in offered if not n.startswith(("pc-", "pc_")))
        problems.append(("machine", "%r is not offered by this host for %s domains; offered: %s, or a versioned "
                                    "pc-q35-*/pc-i440fx-* name" % (spec.machine, spec.domain_type, ", ".join(families))))
        return
    # Pin the alias to the versioned machine now, as libvirt will: the spec we store and report is the real one.
    spec.machine = host.get("machine_aliases", {}).get(spec.domain_type, {}).get(spec.machine, spec.machine)


def _cpu(spec, host, problems, check_cpu_model):
    cpu = spec.cpu
    if cpu.model is None:
        cpu.model = "host-model" if spec.domain_type == "kvm" else "maximum"
    if cpu.model == "host-passthrough" and spec.domain_type != "kvm":
        problems.append(("cpu.model", "host-passthrough needs domain_type kvm; with qemu (TCG) use maximum, "
                                      "host-model or a named model"))
    elif check_cpu_model is not None:
        message = check_cpu_model(spec.domain_type, cpu.model)
        if message:
            problems.append(("cpu.model", message))
    limit = host.get("max_vcpus", {}).get(spec.domain_type)
    if limit and cpu.vcpus > limit:
        problems.append(("cpu", "sockets × cores × threads = %d vCPUs; this host allows at most %d for %s"
                                % (cpu.vcpus, limit, spec.domain_type)))


HOTPLUG_RATIO = 4  # KubeVirt's maxHotplugRatio
MIB = 2 ** 20
VIRTIO_MEM_BLOCK = 2 * MIB


def _cpu_hotplug(spec, host, existing, problems):
    """max_sockets: given, else kept from the domain (KubeVirt fixes it at creation), else 4 × sockets."""
    cpu = spec.cpu
    per_socket = cpu.cores * cpu.threads
    limit = host.get("max_vcpus", {}).get(spec.domain_type) or 4096
    if cpu.max_sockets is None and cpu.dedicated_cpu_placement:
        cpu.max_sockets = cpu.sockets  # every vCPU holds an exclusive CPU: none to hotplug
    if cpu.max_sockets is None:
        if existing.max_sockets and existing.max_sockets >= cpu.sockets:
            cpu.max_sockets = existing.max_sockets
        else:
            cpu.max_sockets = max(cpu.sockets, min(HOTPLUG_RATIO * cpu.sockets, limit // per_socket))
    elif cpu.max_sockets * per_socket > limit:
        problems.append(("cpu.max_sockets", "%d sockets × %d vCPUs each is more than the %d vCPUs this host "
                                            "allows for %s" % (cpu.max_sockets, per_socket, limit, spec.domain_type)))
    if existing.running and existing.live_max_sockets and cpu.sockets > existing.live_max_sockets:
        problems.append(("cpu.sockets", "%d is above the %d sockets the running VM was started with (max_sockets); "
                                        "raise max_sockets and restart first" % (cpu.sockets, existing.live_max_sockets)))


def _memory_hotplug(spec, plan, existing, problems):
    """Boot memory and the virtio-mem request: live changes move only the request (KubeVirt's model)."""
    mem = spec.memory
    if mem.max_guest is None and (mem.hugepages or spec.cpu.numa is not None):
        mem.max_guest = mem.guest  # virtio-mem is not combined with hugepages or guest NUMA cells
    if mem.max_guest is None:
        if existing.max_guest and existing.max_guest >= mem.guest:
            mem.max_guest = existing.max_guest
        else:
            extra = (HOTPLUG_RATIO - 1) * mem.guest
            mem.max_guest = mem.guest + extra + (-extra % VIRTIO_MEM_BLOCK)
    plan.boot_memory, plan.requested = mem.guest, 0
    if not (existing.running and existing.boot_memory):
        return
    plan.boot_memory = existing.boot_memory
    plan.requested = mem.guest - existing.boot_memory
    if plan.requested < 0:
        problems.append(("memory.guest", "%s is below the boot memory (%d MiB) of the running VM; virtio-mem cannot "
                                         "go lower: stop the VM to shrink it" % (mem.guest, existing.boot_memory // MIB)))
    elif plan.requested % VIRTIO_MEM_BLOCK:
        problems.append(("memory.guest", "must differ from the running VM's boot memory (%d MiB) by a multiple of "
                                         "2Mi" % (existing.boot_memory // MIB)))
    elif existing.live_max_guest and mem.guest > existing.live_max_guest:
        problems.append(("memory.guest", "%d MiB is above the %d MiB the running VM can plug (max_guest at boot); "
                                         "raise max_guest and restart first" % (mem.guest // MIB,
                                                                                existing.live_max_guest // MIB)))


def _firmware(spec, plan, existing, problems, pick_firmware):
    if spec.firmware.type != "efi":
        return
    if existing.loader and existing.secure_boot == spec.firmware.secure_boot:
        plan.loader = existing.loader  # keep the firmware the NVRAM was made for
    else:
        try:
            plan.loader = pick_firmware(plan.arch, spec.machine, spec.firmware.secure_boot)
        except ValueError as err:
            problems.append(("firmware", str(err)))
            return
    plan.nvram = existing.nvram or "%s/%s_VARS.fd" % (NVRAM_DIR, spec.name)


def _next_target(prefix, used):
    for i in range(26 * 27):
        name = prefix + (chr(97 + i) if i < 26 else chr(96 + i // 26) + chr(97 + i % 26))
        if name not in used:
            return name
    raise ValueError("no free target")


def _disks(spec, plan, probe, existing, problems):
    used = set()
    prefixes = {"virtio": "vd", "sata": "sd", "scsi": "sd"}
    for disk in spec.disks:
        kept = existing.targets.get(disk.name)
        if kept and kept.startswith(prefixes[disk.bus]) and kept not in used:
            plan.targets[disk.name] = kept
            used.add(kept)
    for i, disk in enumerate(spec.disks):
        if disk.name not in plan.targets:
            plan.targets[disk.name] = _next_target(prefixes[disk.bus], used | set(existing.targets.values()))
            used.add(plan.targets[disk.name])
        _disk_source(i, disk, plan, probe, problems)


def _disk_source(i, disk, plan, probe, problems):
    where = "disks[%d]" % i
    if disk.pool:
        key = "%s/%s" % (disk.pool, disk.volume)
        if key not in probe.get("volumes", {}):
            problems.append((where + ".pool", "storage pool %r is not defined or not active" % disk.pool))
        elif probe["volumes"][key] is None:
            if disk.size is None:
                problems.append((where + ".volume", "%r does not exist in pool %r; give size to create it"
                                                    % (disk.volume, disk.pool)))
            else:
                disk.format = disk.format or "qcow2"
                plan.creates.append({"name": disk.name, "pool": disk.pool, "volume": disk.volume,
                                     "size": disk.size, "format": disk.format})
        if disk.format is None:
            disk.format = probe.get("volume_formats", {}).get(key) or "raw"
        return
    if not disk.path:
        return
    files = probe.get("files", {})
    if files.get(disk.path) is None:
        if disk.size is None:
            problems.append((where + ".path", "%s does not exist; give size to create it" % disk.path
                             if disk.device == "disk" else "%s does not exist" % disk.path))
        elif not probe.get("dirs", {}).get(disk.path.rsplit("/", 1)[0] or "/", True):
            problems.append((where + ".path", "cannot create %s: its directory does not exist" % disk.path))
        else:
            disk.format = disk.format or "qcow2"
            plan.creates.append({"name": disk.name, "path": disk.path, "size": disk.size, "format": disk.format})
    elif disk.format is None:
        disk.format = files[disk.path]


def _kernel_boot(spec, probe, problems):
    kb = spec.kernel_boot
    if kb is None:
        return
    for key in ("kernel", "initrd"):
        path = getattr(kb, key)
        if path and path in probe.get("files", {}) and probe["files"][path] is None:
            problems.append(("kernel_boot.%s" % key, "%s does not exist" % path))


def _tpm_secret(spec, probe, problems):
    """Pin a vtpm secret named by usage to its UUID (what the domain XML holds)."""
    ref = spec.tpm.encryption_secret if spec.tpm else None
    if not ref or "secrets" not in probe:
        return
    found = probe["secrets"].get(ref)
    if found is None:
        problems.append(("tpm.encryption_secret", "no libvirt secret %r on this host; create it with "
                         "kvcompute.libvirt.kv_secret (usage vtpm)" % ref))
    elif found["usage"] != "vtpm":
        problems.append(("tpm.encryption_secret", "libvirt secret %r has usage %s; swtpm needs usage vtpm"
                         % (ref, found["usage"])))
    else:
        spec.tpm.encryption_secret = found["uuid"]


def stable_mac(vm_name, nic_name):
    """A locally administered-looking QEMU MAC that the same VM and NIC always get."""
    digest = hashlib.sha256(("%s/%s" % (vm_name, nic_name)).encode("utf-8")).digest()
    return "52:54:00:%02x:%02x:%02x" % (digest[0], digest[1], digest[2])


def _interfaces(spec, probe, existing, problems):
    for i, nic in enumerate(spec.interfaces):
        if nic.mac is None:
            nic.mac = existing.macs.get(nic.name) or stable_mac(spec.name, nic.name)
        if nic.type == "network" and not probe.get("networks", {}).get(nic.source, True):
            problems.append(("interfaces[%d].source" % i, "network %r is not defined on this host" % nic.source))
