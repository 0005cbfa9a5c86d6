# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Changes applied to a running VM: CPU/memory tuning, vCPUs by sockets, the virtio-mem request.

What is live is found by comparing the desired spec with the live XML, so a
value changed by hand with `virsh ... --live` is set right too.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain import cpu, memory, resources
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import parse, tostring
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.quantity import format_bytes
from ansible_collections.kvcompute.libvirt.plugins.module_utils.virt import VirtError

GROUPS = ("resources", "cpu.sockets", "memory.guest")
MIB = 2 ** 20


def live_differences(live_root, spec, plan):
    """[(field, running value, desired value)] for what a live change would set right.

    Compared in libvirt's own terms (shares, quota, vCPU count, virtio-mem
    request), so libvirt's defaults on a running domain are not differences.
    """
    found = []
    running, wanted = resources.live_params(live_root), resources.wanted_params(spec.resources)
    if running != wanted:
        found.append(("resources", running, wanted))
    cpus = {}
    cpu.parse(live_root, cpus)
    if cpus["cpu"]["sockets"] != spec.cpu.sockets:
        found.append(("cpu.sockets", cpus["cpu"]["sockets"], spec.cpu.sockets))
    plugged = memory.plugged(live_root)
    if plugged is not None and plugged[0] != plan.requested:
        boot = memory.boot_memory(live_root)
        found.append(("memory.guest", format_bytes(boot + plugged[0]), format_bytes(spec.memory.guest)))
    return found


def groups(fields):
    """The live groups (GROUPS) that some of these fields belong to."""
    fields = list(fields)
    return [g for g in GROUPS if any(f == g or f.startswith(g + ".") for f in fields)]


def apply(conn, name, spec, plan, which, wait_timeout, done):
    if "resources" in which:
        conn.set_scheduler(name, resources.scheduler_params(spec.resources), live=True)
        conn.set_memory_parameters(name, resources.memory_params(spec.resources), live=True)
        done.append("applied resources live")
    if "cpu.sockets" in which:
        if not conn.set_vcpus(name, spec.cpu.vcpus, live=True):
            _wait(conn, name, lambda root: _vcpus(root) == spec.cpu.vcpus, wait_timeout,
                  lambda root: "cpu.sockets: %s still has %d vCPUs %ss after asking for %d: the guest did not release "
                               "them (does it support CPU hot-unplug?)" % (name, _vcpus(root), wait_timeout,
                                                                           spec.cpu.vcpus))
        done.append("set %d vCPUs live" % spec.cpu.vcpus)
    if "memory.guest" in which:
        _plug_memory(conn, name, plan.requested, wait_timeout)
        done.append("guest plugged memory to %d MiB" % (spec.memory.guest // MIB))


def _plug_memory(conn, name, requested, timeout):
    """Ask virtio-mem for `requested` bytes and wait until the guest has plugged them."""
    dev = memory.virtio_mem(parse(conn.domain_xml(name)))
    if dev is None:
        raise VirtError("memory.guest: %s has no virtio-mem device; restart it to get one" % name)
    target = dev.find("target")
    for child in target.findall("current"):
        target.remove(child)
    target.find("requested").text = str(requested // 1024)
    target.find("requested").set("unit", "KiB")
    conn.update_device(name, tostring(dev), live=True)

    def current(root):
        return (memory.plugged(root) or (0, 0))[1]

    _wait(conn, name, lambda root: current(root) == requested, timeout,
          lambda root: "memory.guest: %s has plugged %d of the %d MiB asked after %ss: the guest did not respond "
                       "(does it run the virtio_mem driver?)" % (name, current(root) // MIB, requested // MIB, timeout))


def _vcpus(root):
    found = {}
    cpu.parse(root, found)
    return found["cpu"]["sockets"] * found["cpu"].get("cores", 1) * found["cpu"].get("threads", 1)


def _wait(conn, name, condition, timeout, message):
    """Poll the live XML until condition(root) holds; VirtError(message(root)) after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        root = parse(conn.domain_xml(name))
        if condition(root):
            return
        if time.monotonic() >= deadline:
            raise VirtError(message(root))
        time.sleep(0.2)
