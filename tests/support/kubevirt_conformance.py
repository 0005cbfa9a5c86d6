# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The KubeVirt conformance manifests and what each one is expected to become.

The manifests are tests/data/kubevirt-conformance (unmodified copies of
../shared/kubevirt-conformance). Some use fields whose kv_vm options other work
streams add (CONTRACTS.md); `DEPENDS` says which. While an option is unknown to
parse_options the manifest must fail naming exactly those manifest paths, and
the same manifest without them must be accepted; once the option exists the
whole manifest must be accepted (or, for host devices this machine lacks, fail
naming the device field).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
from pathlib import Path

import yaml

from ansible_collections.kvcompute.libvirt.plugins.module_utils.converge.vm import read_request
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.errors import SpecError

DATA = Path(__file__).resolve().parent.parent / "data" / "kubevirt-conformance"
# The originals, beside the checkout (../shared as the issue names it); the copies must not drift.
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "kubevirt-conformance"

# file -> [(manifest path, kv_vm option it maps to, option tree that probes support, stream)]
DEPENDS = {
    "vm-cirros.yaml": [("spec.runStrategy", "run_strategy", {"run_strategy": "Halted"}, "runstrategy")],
    "vmi-fedora-isolated.yaml": [
        ("spec.domain.cpu.dedicatedCpuPlacement", "cpu.dedicated_cpu_placement",
         {"cpu": {"dedicated_cpu_placement": True}}, "pinning"),
        ("spec.domain.cpu.isolateEmulatorThread", "cpu.isolate_emulator_thread",
         {"cpu": {"dedicated_cpu_placement": True, "isolate_emulator_thread": True}}, "pinning"),
    ],
    "vmi-gpu.yaml": [("spec.domain.devices.gpus", "gpus",
                      {"gpus": [{"name": "gpu1", "device_name": "nvidia.com/GP102GL_Tesla_P40"}]}, "devices")],
    "vmi-usb.yaml": [("spec.domain.devices.hostDevices", "host_devices",
                      {"host_devices": [{"name": "usb1", "device_name": "kubevirt.io/storage"}]}, "devices")],
}
# Fields naming hardware this machine does not have (TESTBED: no PCI/USB devices): once the devices
# stream lands, kv_vm may refuse them on the host, and must then name these paths.
HOST_LACKS = {"vmi-gpu.yaml": "spec.domain.devices.gpus[0]", "vmi-usb.yaml": "spec.domain.devices.hostDevices[0]"}
# vmi-host-disk's hostDisk lives in /var/data: on a host without that directory kv_vm must say so.
HOST_DISK_PATH = "spec.volumes[0].hostDisk.path"

IMAGES = ("registry:5000/kubevirt/cirros-container-disk-demo:devel",
          "registry:5000/kubevirt/alpine-container-disk-demo:devel",
          "registry:5000/kubevirt/fedora-with-test-tooling-container-disk:devel")
KERNEL_IMAGE = "registry:5000/kubevirt/alpine-ext-kernel-boot-demo:devel"


def files():
    return sorted(p.name for p in DATA.glob("*.yaml"))


def load(name):
    return yaml.safe_load((DATA / name).read_text())


def vm_files():
    return [n for n in files() if load(n).get("kind") in ("VirtualMachine", "VirtualMachineInstance")]


def option_supported(tree):
    """Whether kv_vm knows these options (any complaint but 'unknown option' counts as known)."""
    options = {"name": "probe"}
    options.update(copy.deepcopy(tree))
    try:
        read_request(options, {})
    except SpecError as err:
        return not any(msg.startswith("unknown option") for _f, msg in err.problems)
    return True


def missing(name):
    """[(manifest path, option, stream)] of this manifest's dependencies that are not there yet."""
    return [(path, option, stream) for path, option, tree, stream in DEPENDS.get(name, ())
            if not option_supported(tree)]


def without(manifest, paths):
    """A copy of the manifest without the fields at these paths (a VMI's or a VM's)."""
    out = copy.deepcopy(manifest)
    for path in paths:
        keys = path.split(".")
        node = out
        for key in keys[:-1]:
            node = node[key]
        node.pop(keys[-1], None)
        if keys[-1] == "dedicatedCpuPlacement":
            node.pop("isolateEmulatorThread", None)  # KubeVirt needs the first for the second
    return out


def catalogue(directory):
    """Image reference -> a file (disk images) or directory (kernel boot) under `directory`."""
    out = dict((image, "%s/%s.qcow2" % (directory, image.rsplit("/", 1)[1].split(":")[0])) for image in IMAGES)
    out[KERNEL_IMAGE] = "%s/kernel-boot" % directory
    return out
