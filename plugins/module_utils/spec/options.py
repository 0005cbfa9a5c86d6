# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Front door 1: kv_vm's options (snake_case) -> VMSpec, with every problem named.

All validation that needs no host lives here; what needs the host (CPU models,
firmware files, machine types) is checked by plan/, still before any change.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec import cpu_placement
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec import model as m
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.errors import SpecError
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.fields import Fields
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec import host_devices

SPEC_KEYS = ("name", "domain_type", "machine", "firmware", "kernel_boot", "cpu", "memory", "resources",
             "disks", "interfaces", "video", "serial", "rng", "watchdog", "tpm",
             "memory_dump", "host_devices", "gpus", "autoattach_vsock")

VM_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$"
VM_NAME_HELP = "1-64 characters: letters, digits, '_', '.', '+', '-', starting with a letter or digit"
DEVICE_NAME = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
DEVICE_NAME_HELP = "a DNS label: lowercase letters, digits and '-', at most 63 characters"
MACHINE = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
ABS_PATH = r"^/"
MAC = r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$"
SECRET_REF = r"^[A-Za-z0-9][A-Za-z0-9_.:/@-]{0,127}$"
CPU_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.,-]*$"
MIB = 2 ** 20
MAX_VCPUS = 4096


def parse_options(data):
    """Return a VMSpec for one VM's options, or raise SpecError naming every bad field."""
    problems = []
    spec = _vm(Fields("", data, problems))
    if problems:
        raise SpecError(problems)
    return spec


def _vm(f):
    name = f.text("name", pattern=VM_NAME, pattern_help=VM_NAME_HELP)
    if name is None and not f.has("name"):
        f.fail("name", "is required")
    spec = m.VMSpec(
        name=name or "",
        domain_type=f.text("domain_type", "auto", choices=m.DOMAIN_TYPES),
        machine=f.text("machine", "q35", pattern=MACHINE, pattern_help="a machine type such as q35, pc"),
        firmware=_firmware(f.sub("firmware")),
        kernel_boot=_kernel_boot(f.sub("kernel_boot")) if f.has("kernel_boot") else None,
        cpu=_cpu(f.sub("cpu")),
        memory=_memory(f.sub("memory")),
        resources=_resources(f.sub("resources")),
        disks=[_disk(d) for d in f.items("disks")],
        interfaces=[_interface(i) for i in f.items("interfaces")],
        video=f.text("video", "auto", choices=m.VIDEO_MODELS),
        serial=_serial(f.sub("serial")),
        rng=f.boolean("rng", False),
        watchdog=_watchdog(f.sub("watchdog")) if f.has("watchdog") else None,
        tpm=_tpm(f.sub("tpm")) if f.has("tpm") else None,
        memory_dump=_memory_dump(f.sub("memory_dump")),
        host_devices=host_devices.parse_host_devices(f),
        gpus=host_devices.parse_gpus(f),
        autoattach_vsock=f.boolean("autoattach_vsock", False),
    )
    f.done(SPEC_KEYS)
    _cross_checks(f, spec)
    return spec


def _firmware(f):
    fw = m.Firmware(type=f.text("type", "bios", choices=m.FIRMWARE_TYPES),
                    secure_boot=f.boolean("secure_boot", False))
    if fw.secure_boot and fw.type != "efi":
        f.fail("secure_boot", "needs firmware.type efi (it is %s)" % fw.type)
    f.done()
    return fw


def _kernel_boot(f):
    kernel = f.text("kernel", pattern=ABS_PATH, pattern_help="an absolute path")
    if kernel is None:
        f.fail("kernel", "is required when kernel_boot is given")
    kb = m.KernelBoot(kernel=kernel or "",
                      initrd=f.text("initrd", pattern=ABS_PATH, pattern_help="an absolute path"),
                      cmdline=f.text("cmdline") or None)
    f.done()
    return kb


def _cpu(f):
    cpu = m.Cpu(
        sockets=f.integer("sockets", 1, minimum=1, maximum=MAX_VCPUS),
        cores=f.integer("cores", 1, minimum=1, maximum=MAX_VCPUS),
        threads=f.integer("threads", 1, minimum=1, maximum=MAX_VCPUS),
        model=f.text("model", None, pattern=CPU_NAME,
                     pattern_help="host-model, host-passthrough, maximum or a CPU model name"),
        features=[],
        max_sockets=f.integer("max_sockets", None, minimum=1, maximum=MAX_VCPUS),
    )
    if cpu.max_sockets is not None and cpu.max_sockets < cpu.sockets:
        f.fail("max_sockets", "must be ≥ sockets (%d), got %d" % (cpu.sockets, cpu.max_sockets))
    names = set()
    for item in f.items("features"):
        feat = m.CpuFeature(name=item.text("name", pattern=CPU_NAME, pattern_help="a CPU feature name") or "",
                            policy=item.text("policy", "require", choices=m.FEATURE_POLICIES))
        if not item.has("name"):
            item.fail("name", "is required")
        elif feat.name in names:
            item.fail("name", "%r is listed twice" % feat.name)
        names.add(feat.name)
        item.done()
        cpu.features.append(feat)
    cpu_placement.read_cpu(f, cpu)
    if cpu.max_vcpus > MAX_VCPUS:
        f.fail(None, "max_sockets × cores × threads = %d vCPUs, more than %d" % (cpu.max_vcpus, MAX_VCPUS))
    f.done()
    return cpu


def _memory(f):
    guest = f.size("guest", 512 * MIB, minimum=16 * MIB)
    if guest % MIB:
        f.fail("guest", "must be a whole number of MiB (QEMU sizes RAM in MiB), got %d bytes" % guest)
    max_guest = f.size("max_guest", None, minimum=16 * MIB)
    if max_guest is not None:
        if max_guest < guest:
            f.fail("max_guest", "must be ≥ memory.guest (%s), got %d bytes" % (guest, max_guest))
        elif (max_guest - guest) % (2 * MIB):
            f.fail("max_guest", "must exceed memory.guest by a multiple of 2Mi (virtio-mem's block size)")
    hugepages = cpu_placement.read_hugepages(f)
    f.done()
    return m.Memory(guest=guest, max_guest=max_guest, hugepages=hugepages)


def _resources(f):
    req, lim = f.sub("requests"), f.sub("limits")
    res = m.Resources(requests_cpu=req.cpu("cpu"), requests_memory=_kib(req, "memory"),
                      limits_cpu=lim.cpu("cpu"), limits_memory=_kib(lim, "memory"))
    req.done()
    lim.done()
    f.done()
    for kind in ("cpu", "memory"):
        want, cap = getattr(res, "requests_" + kind), getattr(res, "limits_" + kind)
        if want is not None and cap is not None and want > cap:
            req.fail(kind, "request is above resources.limits.%s" % kind)
    if res.requests_cpu is not None and not 2 <= res.requests_cpu <= 256000:
        req.fail("cpu", "must be between 2m and 256 (libvirt's cputune shares range 2..262144)")
    if res.limits_cpu is not None and res.limits_cpu < 10:
        lim.fail("cpu", "must be at least 10m (libvirt's smallest CPU quota is 1000µs of 100000µs)")
    return res


def _kib(f, key):
    count = f.size(key, None, minimum=MIB)
    if count is not None and count % 1024:
        f.fail(key, "must be a whole number of KiB (libvirt's unit), got %d bytes" % count)
        return None
    return count


def _disk(f):
    disk = m.Disk(
        name=f.text("name", pattern=DEVICE_NAME, pattern_help=DEVICE_NAME_HELP) or "",
        device=f.text("device", "disk", choices=m.DISK_DEVICES),
        bus=f.text("bus", None, choices=m.DISK_BUSES),
        path=f.text("path", None, pattern=ABS_PATH, pattern_help="an absolute path"),
        pool=f.text("pool"),
        volume=f.text("volume"),
        size=f.size("size", None, minimum=MIB),
        format=f.text("format", None, choices=m.DISK_FORMATS),
        boot_order=f.integer("boot_order", None, minimum=1, maximum=255),
        readonly=f.boolean("readonly", False),
    )
    if not f.has("name"):
        f.fail("name", "is required")
    if disk.bus is None:
        disk.bus = "sata" if disk.device == "cdrom" else "virtio"
    if disk.device == "cdrom":
        if disk.bus == "virtio":
            f.fail("bus", "a cdrom cannot sit on virtio; use sata or scsi")
        if disk.size is not None:
            f.fail("size", "a cdrom is not created; give an existing ISO in path or none for an empty drive")
        disk.readonly = True
        if disk.format is None:
            disk.format = "raw"
    if disk.readonly and disk.device == "disk" and disk.bus == "sata":
        f.fail("readonly", "libvirt cannot attach a read-only sata disk; use bus virtio or scsi")
    if disk.path and (disk.pool or disk.volume):
        f.fail("path", "give either path or pool and volume, not both")
    if bool(disk.pool) != bool(disk.volume):
        f.fail("pool" if not disk.pool else "volume", "pool and volume go together")
    if disk.device == "disk" and not (disk.path or disk.pool):
        f.fail("path", "a disk needs path, or pool and volume")
    f.done()
    return disk


def _interface(f):
    nic = m.Interface(
        name=f.text("name", pattern=DEVICE_NAME, pattern_help=DEVICE_NAME_HELP) or "",
        type=f.text("type", "user", choices=m.NIC_TYPES),
        source=f.text("source"),
        model=f.text("model", "virtio", choices=m.NIC_MODELS),
        mac=f.text("mac", None, pattern=MAC, pattern_help="six colon-separated hex bytes"),
    )
    if not f.has("name"):
        f.fail("name", "is required")
    if nic.type in ("network", "bridge") and not nic.source:
        f.fail("source", "is required for type %s (the %s name)" % (nic.type, nic.type))
    if nic.type == "user" and nic.source:
        f.fail("source", "type user takes no source")
    if nic.mac:
        nic.mac = nic.mac.lower()
        if int(nic.mac[:2], 16) & 1:
            f.fail("mac", "%s is a multicast address; the first byte must be even" % nic.mac)
    f.done()
    return nic


def _serial(f):
    serial = m.Serial(type=f.text("type", "pty", choices=m.SERIAL_TYPES),
                      path=f.text("path", None, pattern=ABS_PATH, pattern_help="an absolute path"))
    if serial.type == "file" and not serial.path:
        f.fail("path", "is required for type file")
    if serial.type != "file" and serial.path:
        f.fail("path", "only type file takes a path")
    f.done()
    return serial


def _watchdog(f):
    wd = m.Watchdog(model=f.text("model", "i6300esb", choices=m.WATCHDOG_MODELS),
                    action=f.text("action", "reset", choices=m.WATCHDOG_ACTIONS))
    f.done()
    return wd


def _tpm(f):
    tpm = m.Tpm(persistent=f.boolean("persistent", False),
                encryption_secret=f.text("encryption_secret", None, pattern=SECRET_REF,
                                         pattern_help="a libvirt secret UUID or its vtpm usage name"))
    f.done()
    return tpm


def _memory_dump(f):
    dump = m.MemoryDump(on_crash=f.boolean("on_crash", False))
    f.done()
    return dump


def _cross_checks(f, spec):
    _unique(f, "disks", [d.name for d in spec.disks])
    _unique(f, "interfaces", [i.name for i in spec.interfaces])
    host_devices.cross_checks(f, spec)
    _unique(f, "interfaces", [i.mac for i in spec.interfaces if i.mac], what="mac")
    orders = [d.boot_order for d in spec.disks if d.boot_order is not None]
    if len(orders) != len(set(orders)):
        f.fail("disks", "boot_order values must be unique, got %s" % sorted(orders))
    if spec.firmware.secure_boot and not spec.machine.startswith(("q35", "pc-q35")):
        f.fail("firmware.secure_boot", "needs a q35 machine type (SMM), machine is %s" % spec.machine)
    res = spec.resources
    if res.limits_memory is not None and res.limits_memory < spec.memory.guest:
        f.fail("resources.limits.memory", "is below memory.guest (%d bytes): QEMU would be killed" % spec.memory.guest)
    cpu_placement.cross_check(f, spec)


def _unique(f, key, values, what="name"):
    seen = set()
    for value in values:
        if value in seen:
            f.fail(key, "%s %r is used twice" % (what, value))
        seen.add(value)
