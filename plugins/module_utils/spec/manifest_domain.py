# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""KubeVirt `domain` (CPU, memory, resources, firmware, machine, small devices) -> kv_vm options.

Option names of other features (dedicated CPUs, NUMA, hugepages, host devices,
VSOCK) are those of CONTRACTS.md; parse_options judges them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.quantity import (
    QuantityError,
    format_bytes,
    parse_bytes,
    parse_cpu,
)

MIB = 2 ** 20

REFUSED_DOMAIN = {
    "chassis": "SMBIOS chassis strings are not set by kv_vm",
    "ioThreadsPolicy": "kv_vm gives disks no dedicated I/O threads",
    "ioThreads": "kv_vm gives disks no dedicated I/O threads",
    "launchSecurity": "SEV/TDX guests are not supported",
}
IGNORED_DOMAIN = {}
REFUSED_DEVICES = {
    "inputs": "kv_vm adds no input devices beyond libvirt's default PS/2 pair",
    "filesystems": "virtiofs shares are not supported",
    "sound": "sound devices are not supported",
    "networkInterfaceMultiqueue": "multi-queue NICs are not supported",
    "blockMultiQueue": "multi-queue disks are not supported",
    "useVirtioTransitional": "virtio-transitional devices are not supported",
    "clientPassthrough": "USB redirection from a client is not supported",
    "downwardMetrics": "the downward metrics device is not supported",
    "disableHotplug": "hotplug of disks and NICs is not supported",
    "panicDevices": "panic devices are set by memory_dump here",
}
IGNORED_DEVICES = {
    "autoattachMemBalloon": "libvirt adds its default balloon device; kv_vm does not manage it",
    "autoattachInputDevice": "libvirt adds its default input devices",
    "logSerialConsole": "the serial console's log is the serial option (pty or file)",
}


def domain(f, tr):
    """f: ManifestFields over spec.domain; fills tr.options."""
    opts = tr.options
    for key, reason in REFUSED_DOMAIN.items():
        f.refuse(key, reason)
    res = _resources(f.sub("resources"), tr)
    _cpu(f.sub("cpu"), tr, res)
    _memory(f.sub("memory"), tr, res)
    _firmware(f.sub("firmware"), tr)
    machine = f.sub("machine")
    if machine.has("type"):
        opts["machine"] = machine.raw("type")
        tr.note("machine", machine.where("type"))
    machine.done()
    _devices(f.sub("devices"), tr)
    _features(f.sub("features"))
    _clock(f.sub("clock"))
    f.done()


# Hypervisor features every kv_vm domain has (libvirt's q35 defaults; SMM also for secure boot).
DEFAULT_FEATURES = ("acpi", "apic", "smm")
REFUSED_FEATURES = {
    "hyperv": "Hyper-V enlightenments are not set by kv_vm",
    "hypervPassthrough": "Hyper-V enlightenments are not set by kv_vm",
    "kvm": "hiding KVM from the guest is not supported",
    "pvspinlock": "paravirtual spinlocks are not set by kv_vm",
}


def _features(f):
    """Manifests often spell out the defaults (`acpi: {}`): those are accepted, anything else refused."""
    for key in DEFAULT_FEATURES:
        feature = f.sub(key)
        if feature.boolean("enabled", default=True) is False:
            feature.fail("enabled", "cannot be false: every kv_vm VM has %s" % key.upper())
        feature.refuse("endOfInterrupt", "the APIC's end-of-interrupt setting is not set by kv_vm")
        feature.done()
    for key, reason in REFUSED_FEATURES.items():
        f.refuse(key, reason)
    f.done()


def _clock(f):
    """`utc: {}` is the clock every kv_vm VM has; an offset, a timezone or timer tuning is refused."""
    utc = f.sub("utc")
    utc.refuse("offsetSeconds", "kv_vm keeps the guest clock at UTC without an offset")
    utc.done()
    f.refuse("timezone", "kv_vm keeps the guest clock at UTC")
    f.refuse("timer", "kv_vm keeps libvirt's default timers")
    f.done()


def _resources(f, tr):
    out = {}
    for kind in ("requests", "limits"):
        sub = f.sub(kind)
        for key in ("cpu", "memory"):
            if sub.has(key):
                out.setdefault(kind, {})[key] = sub.raw(key)
                tr.note("resources.%s.%s" % (kind, key), sub.where(key))
        sub.done()
    f.ignore("overcommitGuestOverhead", "QEMU's own overhead is not requested from a scheduler here")
    f.done()
    if out:
        tr.options["resources"] = out
        tr.note("resources", f.where(None))
    return out


def _cpu(f, tr, res):
    cpu = {}
    for key in ("sockets", "cores", "threads", "model", "features"):
        if f.has(key):
            cpu[key] = f.raw(key)
            tr.note("cpu.%s" % key, f.where(key))
    if f.has("maxSockets"):
        cpu["max_sockets"] = f.raw("maxSockets")
        tr.note("cpu.max_sockets", f.where("maxSockets"))
    if not any(k in cpu for k in ("sockets", "cores", "threads")):
        # KubeVirt: without a topology, the CPU request (limit first) rounded up is the socket count.
        quantity = res.get("limits", {}).get("cpu") or res.get("requests", {}).get("cpu")
        try:
            sockets = int(math.ceil(parse_cpu(quantity) / 1000.0)) if quantity is not None else None
        except QuantityError:
            sockets = None  # parse_options names the bad quantity
        if sockets:
            cpu["sockets"] = sockets
            tr.note("cpu.sockets", f.where(None))
    for key, option in (("dedicatedCpuPlacement", "dedicated_cpu_placement"),
                        ("isolateEmulatorThread", "isolate_emulator_thread")):
        if f.raw(key) not in (None, False):  # false is the default: no option needed
            cpu[option] = f.raw(key)
            tr.note("cpu.%s" % option, f.where(key))
    numa = f.sub("numa")
    if numa.has("guestMappingPassthrough"):
        cpu["numa"] = {"guest_mapping_passthrough": True}
        tr.note("cpu.numa", numa.where("guestMappingPassthrough"))
        if numa.raw("guestMappingPassthrough") != {}:
            numa.fail("guestMappingPassthrough", "must be an empty mapping ({}), as in KubeVirt")
    numa.done()
    f.refuse("realtime", "realtime vCPU scheduling is not supported")
    f.done()
    if cpu:
        tr.options["cpu"] = cpu


def _memory(f, tr, res):
    mem = {}
    if f.has("guest"):
        mem["guest"] = _whole_mib(f, "guest", f.raw("guest"))
        tr.note("memory.guest", f.where("guest"))
    elif res.get("requests", {}).get("memory") is not None:
        mem["guest"] = res["requests"]["memory"]  # KubeVirt: the guest gets the memory request
        tr.note("memory.guest", "%s.resources.requests.memory" % f.where(None).rsplit(".", 1)[0])
    else:
        f.fail("guest", "is required (or resources.requests.memory), as in KubeVirt")
    if f.has("maxGuest"):
        mem["max_guest"] = f.raw("maxGuest")
        tr.note("memory.max_guest", f.where("maxGuest"))
    pages = f.sub("hugepages")
    if pages.has("pageSize"):
        mem["hugepages"] = {"page_size": pages.raw("pageSize")}
        tr.note("memory.hugepages", pages.where("pageSize"))
    pages.done()
    f.done()
    tr.options["memory"] = mem


def _whole_mib(f, key, value):
    """KubeVirt takes 1024M; QEMU sizes RAM in MiB and libvirt rounds up the same way, so kv_vm does too."""
    try:
        count = parse_bytes(value)
    except QuantityError:
        return value  # parse_options names it
    if count % MIB == 0:
        return value
    rounded = format_bytes(-(-count // MIB) * MIB)
    reason = "%s rounded up to %s: QEMU sizes RAM in whole MiB, as libvirt rounds it for KubeVirt" % (value, rounded)
    f.ignored.append({"field": f.where(key), "reason": reason})
    return rounded


def _firmware(f, tr):
    boot = f.sub("bootloader")
    kind = boot.one_of(("bios", "efi"))
    if kind == "efi":
        efi = boot.sub("efi")
        # KubeVirt's default is secure boot on.
        secure = efi.boolean("secureBoot", True)
        tr.options["firmware"] = {"type": "efi", "secure_boot": secure}
        tr.note("firmware", boot.where("efi"))
        tr.note("firmware.secure_boot", efi.where("secureBoot"))
        if efi.raw("persistent") is False:
            efi.ignored.append({"field": efi.where("persistent"),
                                "reason": "libvirt keeps every UEFI VM's NVRAM file across boots"})
        efi.done()
    elif kind == "bios":
        bios = boot.sub("bios")
        bios.refuse("useSerial", "SeaBIOS output on the serial port is not configured by kv_vm")
        bios.done()
        tr.options["firmware"] = {"type": "bios"}
    boot.done()
    _kernel_boot(f.sub("kernelBoot"), tr)
    f.refuse("uuid", "libvirt chooses the domain UUID; kv_vm keeps it across redefinitions")
    f.refuse("serial", "the SMBIOS serial number is not set by kv_vm")
    f.refuse("acpi", "ACPI tables from volumes are not supported")
    f.done()


def _kernel_boot(f, tr):
    if not f.data:
        f.done()
        return
    container = f.sub("container")
    image = container.text("image")
    if image is None:
        container.fail("image", "is required: the image_catalogue names the directory holding its files")
    root = tr.catalogue.directory(image, container) if image else None
    kernel_boot = {}
    for key, option in (("kernelPath", "kernel"), ("initrdPath", "initrd")):
        inner = container.text(key)
        if inner is not None and root is not None:
            kernel_boot[option] = root.rstrip("/") + "/" + inner.lstrip("/")
            tr.note("kernel_boot.%s" % option, container.where(key))
    if "kernel" not in kernel_boot and root is not None:
        container.fail("kernelPath", "is required")
    container.ignore("imagePullPolicy", "images come from the image_catalogue, not a registry")
    container.refuse("imagePullSecret", "images come from the image_catalogue, not a registry")
    container.done()
    if f.has("kernelArgs"):
        kernel_boot["cmdline"] = f.raw("kernelArgs")
        tr.note("kernel_boot.cmdline", f.where("kernelArgs"))
    f.done()
    tr.options["kernel_boot"] = kernel_boot
    tr.note("kernel_boot", f.where(None))


def _devices(f, tr):
    opts = tr.options
    for key, reason in REFUSED_DEVICES.items():
        f.refuse(key, reason)
    for key, reason in IGNORED_DEVICES.items():
        f.ignore(key, reason)
    if f.has("rng"):
        opts["rng"] = True
        tr.note("rng", f.where("rng"))
        f.sub("rng").done()
    if f.raw("autoattachGraphicsDevice") is False:
        opts["video"] = "none"
        tr.note("video", f.where("autoattachGraphicsDevice"))
    if f.raw("autoattachSerialConsole") is False:
        opts["serial"] = {"type": "none"}
        tr.note("serial", f.where("autoattachSerialConsole"))
    f.boolean("autoattachGraphicsDevice", True)
    video = f.sub("video")
    if video.has("type"):
        opts["video"] = video.raw("type")
        tr.note("video", video.where("type"))
    video.done()
    f.boolean("autoattachSerialConsole", True)
    tr.autoattach_pod = f.boolean("autoattachPodInterface", True)
    if f.raw("autoattachVSOCK") not in (None, False):
        opts["autoattach_vsock"] = f.raw("autoattachVSOCK")
        tr.note("autoattach_vsock", f.where("autoattachVSOCK"))
    if f.has("watchdog"):
        _watchdog(f.sub("watchdog"), tr)
    if f.has("tpm"):
        _tpm(f.sub("tpm"), tr)
    for key, option in (("hostDevices", "host_devices"), ("gpus", "gpus")):
        entries = []
        for item in f.items(key):
            entry = {"name": item.raw("name"), "device_name": item.raw("deviceName")}
            path = tr.item(option, len(entries), item)
            tr.note(path + ".device_name", item.where("deviceName"))
            item.refuse("virtualGPUOptions", "display options of mediated GPUs are not supported")
            item.ignore("tag", "device role tags go to KubeVirt's metadata service, which does not exist here")
            item.done()
            entries.append(entry)
        if entries:
            opts[option] = entries
            tr.note(option, f.where(key))
    # disks and interfaces are read by manifest_volumes / manifest_networks
    f.raw("disks")
    f.raw("interfaces")
    f.done()


def _watchdog(f, tr):
    model = f.one_of(("i6300esb", "diag288"))
    f.ignore("name", "kv_vm keeps one watchdog, without a name")
    f.text("name")
    if model == "diag288":
        f.fail("diag288", "is not supported: it is an s390x device; use i6300esb")
    dog = f.sub("i6300esb")
    wd = {"model": "i6300esb"}
    if dog.has("action"):
        wd["action"] = dog.raw("action")
        tr.note("watchdog.action", dog.where("action"))
    dog.done()
    f.done()
    tr.options["watchdog"] = wd
    tr.note("watchdog", f.where(None))


def _tpm(f, tr):
    """tpm: {} is a TPM (KubeVirt); enabled: false is none."""
    enabled = f.boolean("enabled", True)
    if enabled:
        tr.options["tpm"] = {"persistent": f.raw("persistent")} if f.has("persistent") else {}
        tr.note("tpm", f.where(None))
        tr.note("tpm.persistent", f.where("persistent"))
    f.done()
