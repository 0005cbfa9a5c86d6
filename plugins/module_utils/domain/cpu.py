# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""<vcpu>/<vcpus> and <cpu>: count, hotplug layout, topology, mode or named model, feature policies.

CPU hotplug is by sockets, as KubeVirt does it: the topology describes
max_sockets, <vcpu current> the sockets plugged now, and every vCPU but the
first is hotpluggable.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import attr, sub, text, to_int
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.model import CPU_MODES


def cpu_element(parent, cpu):
    """The <cpu> element alone: also what virt.check_cpu asks libvirt about."""
    if cpu.model in CPU_MODES:
        el = sub(parent, "cpu", mode=cpu.model)
        if cpu.model == "host-passthrough":
            el.set("check", "none")
    else:
        el = sub(parent, "cpu", mode="custom", match="exact", check="partial")
        sub(el, "model", cpu.model, fallback="forbid")
    sub(el, "topology", sockets=cpu.max_sockets or cpu.sockets, dies=1, cores=cpu.cores, threads=cpu.threads)
    for feature in cpu.features:
        sub(el, "feature", policy=feature.policy, name=feature.name)
    return el


def render(root, spec, plan):
    cpu = spec.cpu
    if cpu.max_vcpus > cpu.vcpus:
        sub(root, "vcpu", cpu.max_vcpus, placement="static", current=cpu.vcpus)
        layout = sub(root, "vcpus")
        for i in range(cpu.max_vcpus):
            sub(layout, "vcpu", id=i, enabled="yes" if i < cpu.vcpus else "no",
                hotpluggable="no" if i == 0 else "yes")
    else:
        sub(root, "vcpu", cpu.vcpus, placement="static")
    cpu_element(root, cpu)


def parse(root, out):
    el = root.find("cpu")
    cpu = {}
    if el is not None:
        mode = el.get("mode", "custom")
        cpu["model"] = text(el, "model") if mode == "custom" else mode
        topo = el.find("topology")
        if topo is not None:
            for key in ("sockets", "cores", "threads"):
                cpu[key] = to_int(topo.get(key), 1)
        cpu["features"] = [{"name": f.get("name"), "policy": f.get("policy", "require")}
                           for f in el.findall("feature")]
    total = to_int(text(root, "vcpu"), 1)
    current = to_int(attr(root, "vcpu", "current"), total)
    per_socket = cpu.get("cores", 1) * cpu.get("threads", 1)
    cpu["max_sockets"] = cpu.get("sockets", total // per_socket)
    cpu["sockets"] = max(1, current // per_socket)
    out["cpu"] = cpu
