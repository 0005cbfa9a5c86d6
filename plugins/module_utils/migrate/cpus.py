# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Dedicated CPUs on the destination: which of its CPUs are free, and new pins for a migrating VM.

replan_dedicated_cpus() is the hook the pinning stream's allocator (plan/cpu_pinning.py) should
replace: it knows the cpu_manager pool, thread policies and NUMA cells. Until then this keeps a
VM's pins when they are free on the destination and otherwise takes the lowest free CPUs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.topology import parse_cpuset


def _format(cpus):
    return ",".join(str(c) for c in sorted(cpus))


def dedicated_pins(root):
    """{'vcpus': {vcpu: cpu}, 'emulator': [cpus] or None} when every vCPU is pinned to one CPU, else None."""
    pins = {}
    for el in root.iterfind("cputune/vcpupin"):
        cpus = parse_cpuset(el.get("cpuset"))
        if len(cpus) != 1:
            return None
        pins[int(el.get("vcpu"))] = cpus[0]
    if not pins:
        return None
    emulator = root.find("cputune/emulatorpin")
    return {"vcpus": pins, "emulator": parse_cpuset(emulator.get("cpuset")) if emulator is not None else None}


def used_cpus(domain_roots):
    """CPUs held by the dedicated VMs among domain_roots (active domains of the destination)."""
    used = set()
    for root in domain_roots:
        pins = dedicated_pins(root)
        if pins:
            used.update(pins["vcpus"].values())
            if pins["emulator"] and len(pins["emulator"]) == 1:
                used.update(pins["emulator"])
    return used


def replan_dedicated_cpus(pins, free):
    """New pins on a destination whose free CPUs are ``free``; None when the old ones are all free.

    Raises ValueError naming the shortfall. Emulator pinned to one CPU of its own (KubeVirt's
    isolateEmulatorThread) gets one more free CPU.
    """
    vcpus = pins["vcpus"]
    isolated = pins["emulator"] if pins["emulator"] and len(pins["emulator"]) == 1 \
        and pins["emulator"][0] not in vcpus.values() else None
    wanted = set(vcpus.values()) | set(isolated or [])
    if wanted <= set(free):
        return None
    if len(free) < len(wanted):
        raise ValueError("the destination has %d free dedicated CPU(s) (%s), the VM needs %d"
                         % (len(free), _format(free) or "none", len(wanted)))
    pool = sorted(free)
    new = {"vcpus": dict((vcpu, pool[i]) for i, vcpu in enumerate(sorted(vcpus)))}
    if isolated:
        new["emulator"] = [pool[len(vcpus)]]
    else:
        new["emulator"] = sorted(set(new["vcpus"].values())) if pins["emulator"] else None
    return new


def apply_pins(root, new):
    """Rewrite <cputune>'s vcpupin/emulatorpin in place (an lxml root)."""
    for el in root.iterfind("cputune/vcpupin"):
        el.set("cpuset", str(new["vcpus"][int(el.get("vcpu"))]))
    emulator = root.find("cputune/emulatorpin")
    if emulator is not None and new.get("emulator"):
        emulator.set("cpuset", _format(new["emulator"]))
