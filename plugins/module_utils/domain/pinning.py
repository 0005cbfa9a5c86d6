# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the vCPUs run: <cputune> vcpupin/emulatorpin, <vcpu cpuset>, <hint-dedicated>, our placement record.

The record (<kv:placement> beside the declared spec) is how every later run
knows which CPUs this VM holds: libvirt's defined domains are the truth for
allocations, not a side file.  Its attributes, cpusets in Linux list format:
  source         the pool file the VM was placed with (VMs of another file are not counted)
  vcpus          host CPU of each vCPU, in vCPU order (dedicated VMs only)
  emulator       the isolated emulator thread's CPU
  held           sibling threads held idle by thread_policy isolate
  shared         a shared VM's CPUs (pool minus every exclusive CPU)
  thread_policy  and numa="passthrough": what the XML alone cannot say
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.metadata import TAG as VM_TAG
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import KV_NS, etree, sub
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.cpu_pool import format_cpuset
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.topology import parse_cpuset
from ansible_collections.kvcompute.libvirt.plugins.module_utils.plan.cpu_pinning import Placement

TAG = "{%s}placement" % KV_NS


def render(root, spec, plan):
    placement = getattr(plan, "placement", None)
    if placement is None:
        return
    if placement.vcpus:
        tune = root.find("cputune")
        if tune is None:
            tune = sub(root, "cputune")
        for vcpu, host_cpu in enumerate(placement.vcpus):
            sub(tune, "vcpupin", vcpu=vcpu, cpuset=host_cpu)
        emulator = [placement.emulator] if placement.emulator is not None else placement.vcpus
        sub(tune, "emulatorpin", cpuset=format_cpuset(emulator))
        if spec.domain_type == "kvm":
            kvm = sub(root.find("features"), "kvm")
            sub(kvm, "hint-dedicated", state="on")
    elif sorted(placement.shared) != sorted(placement.online):
        root.find("vcpu").set("cpuset", format_cpuset(placement.shared))
    _record(root, placement)


def _record(root, placement):
    el = etree.SubElement(root.find("metadata/%s" % VM_TAG), TAG)
    el.set("source", placement.source)
    if placement.vcpus:
        el.set("vcpus", ",".join(str(c) for c in placement.vcpus))
        el.set("thread_policy", placement.thread_policy or "prefer")
        if placement.emulator is not None:
            el.set("emulator", str(placement.emulator))
        if placement.held:
            el.set("held", format_cpuset(placement.held))
        if placement.passthrough:
            el.set("numa", "passthrough")
    else:
        el.set("shared", format_cpuset(placement.shared))


def read(root):
    """The Placement recorded in a domain (memory binding from its <numatune>), or None."""
    el = root.find("metadata/%s/%s" % (VM_TAG, TAG))
    if el is None:
        return None
    emulator = el.get("emulator")
    nodeset = root.find("numatune/memory")
    return Placement(source=el.get("source") or "",
                     vcpus=[int(c) for c in (el.get("vcpus") or "").split(",") if c.strip()],
                     emulator=int(emulator) if emulator else None,
                     held=parse_cpuset(el.get("held")), shared=parse_cpuset(el.get("shared")),
                     thread_policy=el.get("thread_policy"), passthrough=el.get("numa") == "passthrough",
                     memory_cells=parse_cpuset(nodeset.get("nodeset")) if nodeset is not None else [])


def pins(root):
    """What the XML pins, for comparing a domain's placement with the planned one."""
    tune = root.find("cputune")
    vcpupins = {}
    emulator = None
    if tune is not None:
        vcpupins = dict((int(p.get("vcpu")), p.get("cpuset")) for p in tune.findall("vcpupin"))
        el = tune.find("emulatorpin")
        emulator = el.get("cpuset") if el is not None else None
    vcpu = root.find("vcpu")
    return {"vcpupin": ",".join("%d:%s" % kv for kv in sorted(vcpupins.items())) or None,
            "emulatorpin": emulator, "cpuset": vcpu.get("cpuset") if vcpu is not None else None,
            "memory_nodes": _attr(root.find("numatune/memory"), "nodeset")}


def _attr(el, name):
    return el.get(name) if el is not None else None


def parse(root, out):
    placement = read(root)
    if placement is None or not placement.vcpus:
        return
    cpu = out.setdefault("cpu", {})
    cpu["dedicated_cpu_placement"] = True
    cpu["thread_policy"] = placement.thread_policy or "prefer"
    if placement.emulator is not None:
        cpu["isolate_emulator_thread"] = True
    if placement.passthrough:
        cpu["numa"] = {"guest_mapping_passthrough": True}
