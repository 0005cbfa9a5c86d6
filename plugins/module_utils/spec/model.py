# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The typed model of one VM: what both front doors (options, manifest) produce.

Quantities are held as integers (bytes, millicores) so that comparison is
exact; `export.py` spells them back the Kubernetes way.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from dataclasses import dataclass, field
from typing import List, Optional

DOMAIN_TYPES = ("auto", "kvm", "qemu")
FIRMWARE_TYPES = ("bios", "efi")
CPU_MODES = ("host-model", "host-passthrough", "maximum")
FEATURE_POLICIES = ("force", "require", "optional", "disable", "forbid")
DISK_DEVICES = ("disk", "cdrom")
DISK_BUSES = ("virtio", "sata", "scsi")
DISK_FORMATS = ("qcow2", "raw")
NIC_TYPES = ("user", "network", "bridge")
NIC_MODELS = ("virtio", "e1000e", "e1000", "rtl8139")
VIDEO_MODELS = ("auto", "virtio", "vga", "bochs", "none")
SERIAL_TYPES = ("pty", "file", "none")
WATCHDOG_MODELS = ("i6300esb", "ib700")
WATCHDOG_ACTIONS = ("reset", "shutdown", "poweroff", "pause", "none", "dump", "inject-nmi")
THREAD_POLICIES = ("prefer", "isolate", "require")  # Nova's hw:cpu_thread_policy
PAGE_SIZES = {"2Mi": 2 * 2 ** 20, "1Gi": 2 ** 30}  # KubeVirt's memory.hugepages.pageSize


@dataclass
class CpuFeature:
    name: str
    policy: str = "require"


@dataclass
class NumaCell:
    """One guest NUMA cell: its vCPUs and memory (bytes)."""
    id: int
    cpus: List[int]
    memory: int


@dataclass
class Numa:
    """guest_mapping_passthrough: guest cells mirror the host cells behind the pinned CPUs; else explicit cells."""
    guest_mapping_passthrough: bool = False
    cells: List[NumaCell] = field(default_factory=list)


@dataclass
class Cpu:
    sockets: int = 1
    cores: int = 1
    threads: int = 1
    model: Optional[str] = None  # None: chosen by plan (host-model on KVM, maximum on TCG)
    features: List[CpuFeature] = field(default_factory=list)
    max_sockets: Optional[int] = None  # None: plan picks 4 × sockets (KubeVirt's maxHotplugRatio), capped by the host
    dedicated_cpu_placement: bool = False  # one exclusive host CPU per vCPU (docs/dedicated-cpus.md)
    isolate_emulator_thread: bool = False  # one more exclusive host CPU for QEMU's emulator threads
    thread_policy: str = "prefer"
    numa: Optional[Numa] = None

    @property
    def vcpus(self):
        return self.sockets * self.cores * self.threads

    @property
    def max_vcpus(self):
        return (self.max_sockets or self.sockets) * self.cores * self.threads


@dataclass
class Memory:
    guest: int = 512 * 2 ** 20
    max_guest: Optional[int] = None  # None: plan picks 4 × guest; above guest, a virtio-mem device covers the rest
    hugepages: Optional[int] = None  # page size in bytes (PAGE_SIZES), None: normal pages


@dataclass
class Firmware:
    type: str = "bios"
    secure_boot: bool = False


@dataclass
class KernelBoot:
    kernel: str
    initrd: Optional[str] = None
    cmdline: Optional[str] = None


@dataclass
class Resources:
    requests_cpu: Optional[int] = None  # millicores
    requests_memory: Optional[int] = None  # bytes
    limits_cpu: Optional[int] = None
    limits_memory: Optional[int] = None


@dataclass
class Disk:
    name: str
    device: str = "disk"
    bus: Optional[str] = None  # None: virtio for disks, sata for cdroms
    path: Optional[str] = None
    pool: Optional[str] = None
    volume: Optional[str] = None
    size: Optional[int] = None  # bytes; create the image when it is missing
    format: Optional[str] = None  # None: detected (existing) or qcow2 (created)
    boot_order: Optional[int] = None
    readonly: bool = False


@dataclass
class Interface:
    name: str
    type: str = "user"
    source: Optional[str] = None
    model: str = "virtio"
    mac: Optional[str] = None  # None: kept from the domain, else derived from VM and NIC names


@dataclass
class Serial:
    type: str = "pty"
    path: Optional[str] = None


@dataclass
class Watchdog:
    model: str = "i6300esb"
    action: str = "reset"


@dataclass
class Tpm:
    """KubeVirt's devices.tpm: a TPM 2.0 emulator (swtpm); persistent keeps its state across boots."""
    persistent: bool = False
    encryption_secret: Optional[str] = None  # a libvirt vtpm secret (UUID or usage name); plan resolves it to the UUID


@dataclass
class MemoryDump:
    """Dump the guest's memory when it crashes (libvirt's <on_crash>coredump-restart</on_crash>)."""
    on_crash: bool = False


@dataclass
class UsbId:
    vendor: str  # 4 lowercase hex digits
    product: str


@dataclass
class HostDevice:
    """KubeVirt's devices.hostDevices[]: by device_name (through permitted_host_devices), PCI address or USB id."""
    name: str
    device_name: Optional[str] = None
    pci_address: Optional[str] = None  # 0000:01:00.0
    usb: Optional[UsbId] = None


@dataclass
class Gpu:
    """KubeVirt's devices.gpus[]: a PCI GPU or a vGPU (mediated device), by device_name."""
    name: str
    device_name: str


@dataclass
class VMSpec:
    name: str
    domain_type: str = "auto"
    machine: str = "q35"
    firmware: Firmware = field(default_factory=Firmware)
    kernel_boot: Optional[KernelBoot] = None
    cpu: Cpu = field(default_factory=Cpu)
    memory: Memory = field(default_factory=Memory)
    resources: Resources = field(default_factory=Resources)
    disks: List[Disk] = field(default_factory=list)
    interfaces: List[Interface] = field(default_factory=list)
    video: str = "auto"
    serial: Serial = field(default_factory=Serial)
    rng: bool = False
    watchdog: Optional[Watchdog] = None
    tpm: Optional[Tpm] = None
    memory_dump: MemoryDump = field(default_factory=MemoryDump)
    host_devices: List[HostDevice] = field(default_factory=list)
    gpus: List[Gpu] = field(default_factory=list)
    autoattach_vsock: bool = False
