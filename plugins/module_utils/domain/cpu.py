# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""<vcpu> and <cpu>: count, topology, mode or named model, feature policies."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import sub, text, to_int
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
    sub(el, "topology", sockets=cpu.sockets, dies=1, cores=cpu.cores, threads=cpu.threads)
    for feature in cpu.features:
        sub(el, "feature", policy=feature.policy, name=feature.name)
    return el


def render(root, spec, plan):
    sub(root, "vcpu", spec.cpu.vcpus, placement="static")
    cpu_element(root, spec.cpu)


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
    if "sockets" not in cpu:
        cpu["sockets"] = to_int(text(root, "vcpu"), 1)
    out["cpu"] = cpu
