# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Dedicated CPUs on the destination: what its VMs hold, and new pins for a migrating VM.

The destination is planned like a kv_vm run there would plan it (plan/cpu_pinning.py): its
cpu_manager pool (kv_migrate's dest_cpu_pool; all its online CPUs otherwise), its thread
siblings and NUMA cells, the VM's recorded thread policy, and one NUMA cell when one fits.
A VM keeps its pins when they are all free there.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain import pinning
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.cpu_pool import HostCpus, cells_and_siblings, format_cpuset
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.topology import parse_cpuset
from ansible_collections.kvcompute.libvirt.plugins.module_utils.plan import cpu_pinning


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


def held_by(domain_roots):
    """{cpu: VM name} of what the dedicated VMs among domain_roots hold: vCPUs, isolated emulator, idle siblings."""
    taken = {}
    for root in domain_roots:
        name = root.findtext("name") or "?"
        pins = dedicated_pins(root)
        if pins:
            cpus = list(pins["vcpus"].values())
            if pins["emulator"] and len(pins["emulator"]) == 1:
                cpus += pins["emulator"]
            placement = pinning.read(root)
            cpus += placement.held if placement is not None else []
            taken.update((cpu, name) for cpu in cpus)
    return taken


def dest_host(caps, pool=None):
    """HostCpus of the destination from its parsed capabilities; pool: its cpu_manager pool (a cpuset text)."""
    online = sorted(c["id"] for c in caps["cpus"])
    cells, siblings = cells_and_siblings(caps, set(online))
    chosen = sorted(set(parse_cpuset(pool)) & set(online)) if pool else online
    return HostCpus(cells=cells, siblings=siblings, pool=chosen)


def replan_dedicated_cpus(root, host, taken):
    """New pins for the VM (lxml root) on the destination ``host`` where ``taken`` ({cpu: name}) is held.

    None when its pins are all free there. Raises ValueError naming the shortfall. An emulator pinned
    to one CPU of its own (KubeVirt's isolateEmulatorThread) gets one more CPU, in the same cell.
    """
    pins = dedicated_pins(root)
    placement = pinning.read(root)
    policy = (placement.thread_policy if placement is not None else None) or "prefer"
    vcpus = pins["vcpus"]
    isolated = pins["emulator"] if pins["emulator"] and len(pins["emulator"]) == 1 \
        and pins["emulator"][0] not in vcpus.values() else None
    wanted = set(vcpus.values()) | set(isolated or []) | set(placement.held if placement is not None else [])
    if wanted <= set(c for c in host.pool if c not in taken):
        return None
    if placement is not None and placement.passthrough:
        raise ValueError("CPUs %s are not all free on the destination, and a VM with guest NUMA passthrough "
                         "keeps its host CPUs and cells (held there: %s)"
                         % (format_cpuset(sorted(wanted)), _holders(wanted, taken) or "outside the pool"))
    count = len(vcpus) + (1 if isolated else 0)
    by_cell = cpu_pinning.free_by_cell(host, taken)
    for cell in sorted(by_cell):
        got = cpu_pinning.pick(host, by_cell[cell], count, policy)
        if got is not None:
            chosen, held = got
            break
    else:
        raise ValueError("the destination has no NUMA cell with %d free dedicated CPU(s) for this VM: %s"
                         % (count, cpu_pinning.describe_free(host, by_cell, policy, taken)))
    new = {"vcpus": dict((vcpu, chosen[i]) for i, vcpu in enumerate(sorted(vcpus))), "held": held, "cell": cell}
    if isolated:
        new["emulator"] = [chosen[len(vcpus)]]
    else:
        new["emulator"] = sorted(set(new["vcpus"].values())) if pins["emulator"] else None
    return new


def apply_pins(root, new):
    """Rewrite <cputune>'s vcpupin/emulatorpin, our placement record and the memory binding (an lxml root)."""
    for el in root.iterfind("cputune/vcpupin"):
        el.set("cpuset", str(new["vcpus"][int(el.get("vcpu"))]))
    emulator = root.find("cputune/emulatorpin")
    if emulator is not None and new.get("emulator"):
        emulator.set("cpuset", _format(new["emulator"]))
    record = root.find("metadata/%s/%s" % (pinning.VM_TAG, pinning.TAG))
    if record is not None:
        record.set("vcpus", ",".join(str(new["vcpus"][v]) for v in sorted(new["vcpus"])))
        if record.get("emulator") is not None and new.get("emulator"):
            record.set("emulator", str(new["emulator"][0]))
        if new.get("held"):
            record.set("held", format_cpuset(new["held"]))
        elif "held" in record.attrib:
            del record.attrib["held"]
    memory = root.find("numatune/memory")
    if new.get("cell") is not None and memory is not None and len(parse_cpuset(memory.get("nodeset"))) == 1:
        memory.set("nodeset", str(new["cell"]))  # strict binding follows the vCPUs to their new cell


def _holders(cpus, taken):
    return ", ".join("CPU %d by %s" % (c, taken[c]) for c in sorted(cpus) if c in taken)
