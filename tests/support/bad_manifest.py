# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hypothesis strategy for INVALID KubeVirt manifests: (manifest, path) where `path` is what the error must name.

The manifest twin of bad_input.bad_vm_options: a valid VirtualMachine (or, drawn, its
VirtualMachineInstance form) gets exactly one mutation -- a typed leaf set to a value KubeVirt's
schema refuses, a mapping replaced by a non-mapping, an unknown camelCase key, or a field this
collection refuses (docs/kubevirt-mapping.md). Paths are as KubeVirt writes them
(`spec.template.spec.domain.cpu.cores`); for a VMI the `spec.template.spec.` prefix is `spec.`.
"""

from __future__ import annotations

import copy

from hypothesis import strategies as st

from tests.support.bad_input import NOT_BOOL, NOT_CPU, NOT_DICT, NOT_INT, NOT_LIST, NOT_POSITIVE, NOT_SIZE, _walk

VMI_SPEC = {
    "terminationGracePeriodSeconds": 30,
    "domain": {
        "cpu": {"sockets": 1, "cores": 1, "threads": 1, "model": "qemu64", "maxSockets": 2},
        "memory": {"guest": "64Mi", "maxGuest": "128Mi"},
        "resources": {"requests": {"memory": "64Mi", "cpu": "500m"}, "limits": {"cpu": "1"}},
        "machine": {"type": "q35"},
        "devices": {"disks": [{"name": "scratch", "disk": {"bus": "virtio"}}], "rng": {},
                    "autoattachGraphicsDevice": False,
                    "watchdog": {"name": "wd", "i6300esb": {"action": "poweroff"}}},
    },
    "volumes": [{"name": "scratch", "emptyDisk": {"capacity": "16Mi"}}],
}

# (path below the VMI spec, strategy of values KubeVirt's types refuse)
LEAVES = [
    ("terminationGracePeriodSeconds", st.one_of(NOT_INT, st.integers(-10 ** 6, -1))),
    ("domain.cpu.sockets", st.one_of(NOT_INT, NOT_POSITIVE)),
    ("domain.cpu.cores", st.one_of(NOT_INT, NOT_POSITIVE)),
    ("domain.cpu.threads", st.one_of(NOT_INT, NOT_POSITIVE)),
    ("domain.cpu.maxSockets", st.one_of(NOT_INT, NOT_POSITIVE)),
    ("domain.cpu.model", st.sampled_from(["has space", "", "a/b", "-x"])),
    ("domain.memory.guest", st.one_of(NOT_SIZE, st.sampled_from(["1Mi", "100Ki"]))),
    ("domain.memory.maxGuest", st.one_of(NOT_SIZE, st.sampled_from(["32Mi", "1Mi"]))),
    ("domain.resources.requests.cpu", NOT_CPU),
    ("domain.resources.requests.memory", NOT_SIZE),
    ("domain.resources.limits.cpu", st.one_of(NOT_CPU, st.sampled_from(["1m", "9m"]))),
    ("domain.machine.type", st.sampled_from(["q35 pc", "-q35", "", "q35;rm"])),
    ("domain.devices.disks", NOT_LIST),
    ("domain.devices.disks[0].disk.bus", st.sampled_from(["floppy", "VIRTIO", "", 3])),
    ("domain.devices.autoattachGraphicsDevice", NOT_BOOL),
    ("domain.devices.rng", NOT_DICT),
    ("domain.devices.watchdog.i6300esb.action", st.sampled_from(["explode", "Reset", ""])),
    ("volumes", NOT_LIST),
    ("volumes[0].emptyDisk.capacity", NOT_SIZE),
]
MAPPINGS = ["domain", "domain.cpu", "domain.memory", "domain.resources", "domain.resources.requests",
            "domain.machine", "domain.devices", "domain.devices.disks[0]", "domain.devices.watchdog",
            "volumes[0]", "volumes[0].emptyDisk"]
# Fields this collection refuses where KubeVirt has them (docs/kubevirt-mapping.md).
REFUSED = [("livenessProbe", {"tcpSocket": {"port": 22}}), ("readinessProbe", {"exec": {"command": ["true"]}}),
           ("accessCredentials", [{"sshPublicKey": {}}]), ("startStrategy", "Paused"),
           ("domain.clock.timezone", "Europe/Paris"), ("domain.features.hyperv", {"relaxed": {}}),
           ("domain.firmware.serial", "abc")]
UNKNOWN_KEYS = st.from_regex(r"\A[a-z]{3,8}[A-Z][a-z]{2,8}\Z")  # camelCase, as KubeVirt writes; none is a field

RUN_STRATEGIES = st.sampled_from(["Sometimes", "always", "", 3])


def base(kind):
    spec = copy.deepcopy(VMI_SPEC)
    meta = {"name": "gen", "labels": {"app": "gen"}}
    if kind == "VirtualMachineInstance":
        return {"apiVersion": "kubevirt.io/v1", "kind": kind, "metadata": meta, "spec": spec}
    return {"apiVersion": "kubevirt.io/v1", "kind": kind, "metadata": meta,
            "spec": {"runStrategy": "Halted", "template": {"metadata": {"labels": {"app": "gen"}}, "spec": spec}}}


@st.composite
def bad_manifests(draw):
    """(manifest, path): one invalid KubeVirt VM or VMI and the manifest path its error must name."""
    kind = draw(st.sampled_from(["VirtualMachine", "VirtualMachineInstance"]))
    manifest = base(kind)
    prefix = "spec.template.spec" if kind == "VirtualMachine" else "spec"
    spec = manifest["spec"]["template"]["spec"] if kind == "VirtualMachine" else manifest["spec"]
    how = draw(st.sampled_from(["leaf"] * 4 + ["mapping", "unknown", "refused", "top"]))
    if how == "top":  # the object's own fields
        choice = draw(st.sampled_from(["apiVersion", "kind", "runStrategy"] if kind == "VirtualMachine"
                                      else ["apiVersion", "kind"]))
        if choice == "runStrategy":
            manifest["spec"]["runStrategy"] = draw(RUN_STRATEGIES)
            return manifest, "spec.runStrategy"
        manifest[choice] = draw(st.sampled_from(["Pod", "kubevirt.io/v9", "", 5]))
        return manifest, choice
    if how == "leaf":
        path, values = draw(st.sampled_from(LEAVES))
        parent, key = _walk(spec, path)
        parent[key] = draw(values)
    elif how == "mapping":
        path = draw(st.sampled_from(MAPPINGS))
        parent, key = _walk(spec, path)
        parent[key] = draw(NOT_DICT)
    elif how == "refused":
        path, value = draw(st.sampled_from(REFUSED))
        set_path(spec, path, value)
    else:
        where = draw(st.sampled_from(MAPPINGS))
        key = draw(UNKNOWN_KEYS)
        parent, last = _walk(spec, where)
        parent[last][key] = "x"
        path = "%s.%s" % (where, key)
    return manifest, "%s.%s" % (prefix, path)


def set_path(tree, path, value):
    """Set a dotted path, creating the mappings on the way; the tree back."""
    node = tree
    parts = path.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return tree
