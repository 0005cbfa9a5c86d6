# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hypothesis strategies for VALID kv_vm option dicts (shared by spec/ and domain/ tests).

Import from another test directory with:
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "spec"))
    import vm_strategies
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from decimal import Decimal

from hypothesis import strategies as st

MIB = 2 ** 20

VM_NAMES = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_.+-]{0,20}\Z")
DNS_LABELS = st.from_regex(r"\A[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?\Z")
MACHINES = ("q35", "pc", "pc-q35-7.2", "pc-i440fx-7.2")
Q35 = ("q35", "pc-q35-7.2")
CPU_MODELS = (None, "host-model", "host-passthrough", "maximum", "Skylake-Client", "qemu64", "EPYC-v2")
FEATURES = ("vmx", "svm", "pcid", "ssse3", "avx2", "x2apic", "hypervisor", "aes")
POLICIES = ("force", "require", "optional", "disable", "forbid")
WATCHDOG_ACTIONS = ("reset", "shutdown", "poweroff", "pause", "none", "dump", "inject-nmi")


@st.composite
def mib_quantity(draw, low=16, high=65536):
    """A whole number of MiB, spelled in one of the ways Kubernetes allows; returns (text_or_int, bytes)."""
    n = draw(st.integers(low, high))
    count = n * MIB
    spellings = ["%dMi" % n, count, str(count), "%dKi" % (n * 1024),
                 "%sGi" % (Decimal(n) / Decimal(1024)),  # exact decimal: 1.5Gi, 0.015625Gi
                 ("%de1" % (count // 10)) if count % 10 == 0 else ("%de0" % count)]
    if n % 1024 == 0:
        spellings.append("%dGi" % (n // 1024))
    return draw(st.sampled_from(spellings)), count


@st.composite
def kib_quantity(draw, low, high):
    """A whole number of KiB >= low bytes, as text or int."""
    k = draw(st.integers(low // 1024, high // 1024))
    count = k * 1024
    return draw(st.sampled_from(["%dKi" % k, count, str(count)] + (["%dMi" % (k // 1024)] if k % 1024 == 0 else []))), count


def cpu_text(milli):
    choices = ["%dm" % milli]
    if milli % 1000 == 0:
        choices += [str(milli // 1000), milli // 1000]
    elif milli % 100 == 0:
        choices.append("%s" % (Decimal(milli) / 1000))
    return st.sampled_from(choices)


@st.composite
def mac(draw):
    octets = [draw(st.integers(0, 127)) * 2] + [draw(st.integers(0, 255)) for _i in range(5)]
    text = ":".join("%02x" % o for o in octets)
    return text.upper() if draw(st.booleans()) else text


@st.composite
def resources(draw, guest):
    out = {"requests": {}, "limits": {}}
    # requests.cpu kept within [2m, 256 CPUs]: cputune shares (2..262144) round-trip there only.
    req_cpu = draw(st.none() | st.integers(2, 256000))
    lim_cpu = draw(st.none() | st.integers(max(10, req_cpu or 0), 512000))
    if req_cpu is not None:
        out["requests"]["cpu"] = draw(cpu_text(req_cpu))
    if lim_cpu is not None:
        out["limits"]["cpu"] = draw(cpu_text(lim_cpu))
    req_mem = draw(st.none() | kib_quantity(MIB, 64 * 2 ** 30))
    if req_mem is not None:
        out["requests"]["memory"] = req_mem[0]
    if draw(st.booleans()):
        low = max(guest, req_mem[1] if req_mem else 0)
        out["limits"]["memory"] = draw(kib_quantity(low, low + 8 * 2 ** 30))[0]
    return dict((k, v) for k, v in out.items() if v)


@st.composite
def disks(draw, vm_name="vm"):
    names = draw(st.lists(DNS_LABELS, max_size=4, unique=True))
    orders = draw(st.permutations(list(range(1, len(names) + 1))))
    out = []
    for i, name in enumerate(names):
        kind = draw(st.sampled_from(["file", "volume", "cdrom", "empty-cdrom"]))
        d = {"name": name}
        if kind in ("cdrom", "empty-cdrom"):
            d["device"] = "cdrom"
            bus = draw(st.sampled_from([None, "sata", "scsi"]))
            if kind == "cdrom":
                d["path"] = "/srv/iso/%s.iso" % name
        else:
            if draw(st.booleans()):
                d["device"] = "disk"
            bus = draw(st.sampled_from([None, "virtio", "sata", "scsi"]))
            if kind == "file":
                d["path"] = "/var/lib/libvirt/images/%s-%s.img" % (vm_name, name)
            else:
                d["pool"], d["volume"] = draw(st.sampled_from(["default", "fast"])), "%s.qcow2" % name
            if draw(st.booleans()):
                d["size"] = draw(st.sampled_from(["1Gi", "10Gi", "512Mi", str(3 * 2 ** 30), "20G"]))
            if draw(st.booleans()):
                # libvirt refuses read-only sata disks (options.py says so).
                d["readonly"] = draw(st.booleans()) and bus != "sata"
        if bus is not None:
            d["bus"] = bus
        if draw(st.booleans()):
            d["format"] = draw(st.sampled_from(["qcow2", "raw"]))
        if draw(st.booleans()):
            d["boot_order"] = orders[i]
        out.append(d)
    return out


@st.composite
def interfaces(draw):
    names = draw(st.lists(DNS_LABELS, max_size=3, unique=True))
    macs = draw(st.lists(mac(), min_size=len(names), max_size=len(names), unique_by=lambda m: m.lower()))
    out = []
    for name, address in zip(names, macs):
        nic = {"name": name}
        kind = draw(st.sampled_from([None, "user", "network", "bridge"]))
        if kind:
            nic["type"] = kind
        if kind == "network":
            nic["source"] = draw(st.sampled_from(["default", "isolated"]))
        elif kind == "bridge":
            nic["source"] = draw(st.sampled_from(["br0", "virbr1"]))
        if draw(st.booleans()):
            nic["model"] = draw(st.sampled_from(["virtio", "e1000e", "e1000", "rtl8139"]))
        if draw(st.booleans()):
            nic["mac"] = address
        out.append(nic)
    return out


@st.composite
def valid_options(draw, kvm_usable=True, minimal=False):
    """A valid kv_vm option dict over every field.

    kvm_usable: restrict to what a host with (True) or without (False) KVM can resolve
    (no host-passthrough on TCG, no domain_type kvm without KVM).
    """
    opts = {"name": draw(VM_NAMES)}
    if minimal and draw(st.booleans()):
        return opts
    dtypes = ["auto", "kvm", "qemu"] if kvm_usable else ["auto", "qemu"]
    dtype = draw(st.sampled_from([None] + dtypes))
    if dtype:
        opts["domain_type"] = dtype
    fw = draw(st.sampled_from([None, "bios", "efi", "secure"]))
    machine = draw(st.sampled_from((None,) + (Q35 if fw == "secure" else MACHINES)))
    if machine:
        opts["machine"] = machine
    if fw == "secure":
        opts["firmware"] = {"type": "efi", "secure_boot": True}
    elif fw:
        opts["firmware"] = {"type": fw}
        if draw(st.booleans()):
            opts["firmware"]["secure_boot"] = False
    if draw(st.booleans()):
        kb = {"kernel": "/boot/vmlinuz-%d" % draw(st.integers(1, 9))}
        if draw(st.booleans()):
            kb["initrd"] = "/boot/initrd.img"
        if draw(st.booleans()):
            kb["cmdline"] = draw(st.from_regex(r"\A[a-z0-9=_.,/]+( [a-z0-9=_.,/]+){0,3}\Z"))
        opts["kernel_boot"] = kb
    cpu = {}
    for key, high in (("sockets", 4), ("cores", 8), ("threads", 2)):
        if draw(st.booleans()):
            cpu[key] = draw(st.integers(1, high))
    can_passthrough = kvm_usable and dtype in (None, "auto", "kvm")
    model = draw(st.sampled_from([m for m in CPU_MODELS if m != "host-passthrough" or can_passthrough]))
    if model:
        cpu["model"] = model
    feats = draw(st.lists(st.sampled_from(FEATURES), max_size=3, unique=True))
    if feats:
        cpu["features"] = []
        for name in feats:
            policy = draw(st.sampled_from((None,) + POLICIES))
            cpu["features"].append({"name": name, "policy": policy} if policy else {"name": name})
    if cpu:
        opts["cpu"] = cpu
    guest = 512 * MIB
    if draw(st.booleans()):
        text, guest = draw(mib_quantity())
        opts["memory"] = {"guest": text}
    res = draw(resources(guest))
    if res:
        opts["resources"] = res
    dl = draw(disks(opts["name"]))
    if dl:
        opts["disks"] = dl
    nl = draw(interfaces())
    if nl:
        opts["interfaces"] = nl
    video = draw(st.sampled_from([None, "auto", "virtio", "vga", "bochs", "none"]))
    if video:
        opts["video"] = video
    serial = draw(st.sampled_from([None, "pty", "file", "none"]))
    if serial == "file":
        opts["serial"] = {"type": "file", "path": "/var/log/libvirt/%s.serial.log" % opts["name"]}
    elif serial:
        opts["serial"] = {"type": serial}
    if draw(st.booleans()):
        opts["rng"] = draw(st.booleans())
    if draw(st.booleans()):
        wd = {}
        if draw(st.booleans()):
            wd["model"] = draw(st.sampled_from(["i6300esb", "ib700"]))
        if draw(st.booleans()):
            wd["action"] = draw(st.sampled_from(WATCHDOG_ACTIONS))
        opts["watchdog"] = wd
    if draw(st.booleans()):
        opts["tpm"] = draw(st.sampled_from([{}, {"persistent": False}, {"persistent": True}]))
        if draw(st.booleans()):
            opts["tpm"] = dict(opts["tpm"], encryption_secret="f3473733-444c-4fa8-b36b-999ec590dc45")
    return opts
