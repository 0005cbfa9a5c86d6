# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hypothesis strategy for INVALID kv_vm options: (options, field) where `field` is what the error must name.

A valid base VM gets exactly one mutation: a leaf set to a value its type refuses, a mapping replaced by
a non-mapping, or an unknown key added to a mapping. Used by the unit property test (parse_options) and
by the reliability suite (the same cases through the real module against the real libvirtd).
"""

from __future__ import annotations

import copy

from hypothesis import strategies as st

BASE = {
    "domain_type": "qemu", "machine": "q35",
    "firmware": {"type": "efi", "secure_boot": False},
    "cpu": {"sockets": 1, "cores": 1, "threads": 1, "max_sockets": 2, "model": "maximum",
            "features": [{"name": "pcid", "policy": "optional"}]},
    "memory": {"guest": "128Mi", "max_guest": "256Mi"},
    "resources": {"requests": {"cpu": "500m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "256Mi"}},
    "disks": [{"name": "root", "path": "/var/lib/libvirt/images/kvt-none.qcow2", "size": "1Gi", "bus": "virtio",
               "format": "qcow2", "boot_order": 1, "readonly": False, "device": "disk"}],
    "interfaces": [{"name": "nic0", "type": "user", "model": "virtio", "mac": "52:54:00:00:00:01"}],
    "video": "none", "serial": {"type": "pty"}, "rng": True,
    "watchdog": {"model": "i6300esb", "action": "reset"},
    "tpm": {"persistent": True}, "memory_dump": {"on_crash": False},
}

# Values every field of a kind refuses.
NOT_INT = st.one_of(st.sampled_from(["two", "1.5", "", "0x", [], {}]), st.floats(0.1, 0.9))
NOT_POSITIVE = st.integers(-10 ** 6, 0)
NOT_SIZE = st.one_of(st.sampled_from(["12Qi", "Mi", "-5Mi", "1.5.5Gi", "lots", [], {}, "0x10"]),
                     st.integers(-10 ** 9, -1))
NOT_CPU = st.one_of(st.sampled_from(["1.5.5", "fast", "-1", "3x", [], {}, "0.0001"]), st.integers(-100, -1))
NOT_BOOL = st.sampled_from(["maybe", "2", "si", [], {}, 7])
NOT_DICT = st.sampled_from(["text", 5, ["a"], True])
NOT_LIST = st.sampled_from(["text", 5, {"a": 1}, True])
NOT_NAME = st.sampled_from(["", "-lead", "UPPER", "a b", "x" * 70, "under_score", "dot.ted"])
NOT_MAC = st.sampled_from(["52:54:00:00:00", "zz:54:00:00:00:01", "01:00:00:00:00:01", "5254.0000.0001"])
NOT_PATH = st.sampled_from(["relative/x.qcow2", "x.img", "./x"])

# (path, strategy of bad values)
LEAVES = [
    ("domain_type", st.sampled_from(["xen", "KVM", "lxc", "", 1])),
    ("machine", st.sampled_from(["q35 pc", "-q35", "", "q35;rm"])),
    ("firmware.type", st.sampled_from(["uefi", "BIOS", "", 2])),
    ("firmware.secure_boot", NOT_BOOL),
    ("cpu.sockets", st.one_of(NOT_INT, NOT_POSITIVE, st.integers(5000, 10 ** 6))),
    ("cpu.cores", st.one_of(NOT_INT, NOT_POSITIVE, st.integers(5000, 10 ** 6))),
    ("cpu.threads", st.one_of(NOT_INT, NOT_POSITIVE, st.integers(5000, 10 ** 6))),
    ("cpu.max_sockets", st.one_of(NOT_INT, NOT_POSITIVE)),
    ("cpu.model", st.sampled_from(["has space", "-x", "", "a/b"])),
    ("cpu.features", NOT_LIST),
    ("cpu.features[0].policy", st.sampled_from(["must", "Require", "", 1])),
    ("cpu.features[0].name", st.sampled_from(["has space", "", "-x"])),
    ("memory.guest", st.one_of(NOT_SIZE, st.sampled_from(["1Mi", "15Mi", "100Ki", "1000001Ki"]))),
    ("memory.max_guest", st.one_of(NOT_SIZE, st.sampled_from(["64Mi", "129Mi"]))),
    ("resources.requests.cpu", NOT_CPU),
    ("resources.limits.cpu", st.one_of(NOT_CPU, st.sampled_from(["1m", "9m"]))),
    ("resources.requests.memory", st.one_of(NOT_SIZE, st.sampled_from(["1001"]))),
    ("resources.limits.memory", st.one_of(NOT_SIZE, st.sampled_from(["64Mi", "1Ki"]))),
    ("disks", NOT_LIST),
    ("disks[0].name", NOT_NAME),
    ("disks[0].path", NOT_PATH),
    ("disks[0].size", st.one_of(NOT_SIZE, st.sampled_from(["1Ki", "100"]))),
    ("disks[0].bus", st.sampled_from(["ide", "usb", "VIRTIO", ""])),
    ("disks[0].format", st.sampled_from(["vmdk", "QCOW2", "iso", ""])),
    ("disks[0].device", st.sampled_from(["floppy", "lun", "CDROM"])),
    ("disks[0].boot_order", st.one_of(NOT_INT, NOT_POSITIVE, st.integers(256, 10 ** 4))),
    ("disks[0].readonly", NOT_BOOL),
    ("interfaces", NOT_LIST),
    ("interfaces[0].name", NOT_NAME),
    ("interfaces[0].type", st.sampled_from(["direct", "tap", "USER", ""])),
    ("interfaces[0].model", st.sampled_from(["ne2k", "VIRTIO", "vmxnet3x", ""])),
    ("interfaces[0].mac", NOT_MAC),
    ("video", st.sampled_from(["cirrus", "qxl2", "VGA", "", 3])),
    ("serial.type", st.sampled_from(["tcp", "udp", "PTY", ""])),
    ("rng", NOT_BOOL),
    ("watchdog.model", st.sampled_from(["diag288", "itco", "", 1])),
    ("watchdog.action", st.sampled_from(["explode", "Reset", ""])),
    ("tpm.persistent", NOT_BOOL),
    ("tpm.encryption_secret", st.sampled_from(["has space", "", "-x", "a" * 200])),
    ("memory_dump.on_crash", NOT_BOOL),
]
MAPPINGS = ["firmware", "cpu", "memory", "resources", "resources.requests", "resources.limits", "disks[0]",
            "interfaces[0]", "serial", "watchdog", "tpm", "memory_dump", "cpu.features[0]", ""]
UNKNOWN_KEYS = st.from_regex(r"\A[a-z][a-z_]{2,12}\Z").filter(
    lambda k: k not in {"name", "domain_type", "machine", "firmware", "kernel_boot", "cpu", "memory", "resources",
                        "disks", "interfaces", "video", "serial", "rng", "watchdog", "tpm", "memory_dump", "type",
                        "secure_boot", "sockets", "cores", "threads", "model", "features", "max_sockets", "guest",
                        "max_guest", "requests", "limits", "path", "pool", "volume", "size", "format",
                        "boot_order", "readonly", "device", "bus", "source", "mac", "action", "persistent",
                        "encryption_secret", "on_crash", "policy", "state"})


def _walk(tree, path):
    """(parent container, key) of a dotted path with [i] indexes."""
    parts = []
    for part in path.split("."):
        if "[" in part:
            key, index = part[:-1].split("[")
            parts.extend([key, int(index)])
        else:
            parts.append(part)
    node = tree
    for part in parts[:-1]:
        node = node[part]
    return node, parts[-1]


@st.composite
def bad_vm_options(draw, name="kvt-bad"):
    """(options, field): one invalid kv_vm VM entry and the field its error must name."""
    opts = copy.deepcopy(BASE)
    opts["name"] = name
    kind = draw(st.sampled_from(["leaf"] * 4 + ["mapping", "unknown"]))
    if kind == "leaf":
        path, values = draw(st.sampled_from(LEAVES))
        parent, key = _walk(opts, path)
        parent[key] = draw(values)
        return opts, path
    if kind == "mapping":
        path = draw(st.sampled_from([m for m in MAPPINGS if m]))
        parent, key = _walk(opts, path)
        parent[key] = draw(NOT_DICT)
        return opts, path
    path = draw(st.sampled_from(MAPPINGS))
    key = draw(UNKNOWN_KEYS)
    target = _walk(opts, path)[0][_walk(opts, path)[1]] if path else opts
    target[key] = "x"
    return opts, ("%s.%s" % (path, key)) if path else key


def names_field(problems, field):
    """Whether one of the (field, message) problems names `field` (or a part of it)."""
    return any(f == field or f.startswith(field + ".") or f.startswith(field + "[") for f, _m in problems)
