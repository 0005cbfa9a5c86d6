# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run strategy in the domain: its <metadata> element and the lifecycle actions libvirt carries out.

libvirt restarts a crashed guest in place (<on_crash>restart</on_crash>, seen through a pvpanic
device) for Always and RerunOnFailure. A guest poweroff stays <on_poweroff>destroy</on_poweroff>
for every strategy: the service starts Always VMs again with a fresh QEMU from the current
definition, as KubeVirt creates a new VMI, so restart-required changes take effect then.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import etree
from ansible_collections.kvcompute.libvirt.plugins.module_utils.runstrategy.policy import (
    ELEMENT,
    NS,
    PREFIX,
    RESTART_ON_GUEST_CRASH,
    parse_element,
)

TAG = "{%s}%s" % (NS, ELEMENT)


def crash_action(spec):
    """<on_crash>: restart for Always/RerunOnFailure, destroy for the others; coredump-* with memory_dump.on_crash.

    Without a run strategy memory_dump.on_crash keeps its own meaning (dump, then restart).
    """
    if spec.run_strategy is None:
        restart = spec.memory_dump.on_crash
    else:
        restart = spec.run_strategy in RESTART_ON_GUEST_CRASH
    return ("coredump-" if spec.memory_dump.on_crash else "") + ("restart" if restart else "destroy")


def wants_panic_device(spec):
    """QEMU sees a guest crash only when the guest reports it (pvpanic)."""
    return spec.memory_dump.on_crash or spec.run_strategy in RESTART_ON_GUEST_CRASH


def render(root, spec):
    """Our element in <metadata> (after metadata.render made it)."""
    if spec.run_strategy is None:
        return
    el = etree.SubElement(root.find("metadata"), TAG, nsmap={PREFIX: NS})
    el.text = spec.run_strategy


def read(root):
    """(strategy, hold_until) kept in a domain's XML (an lxml root)."""
    el = root.find("metadata/%s" % TAG)
    if el is None:
        return None, None
    return parse_element(etree.tostring(el, encoding="unicode"))


def parse(root, out):
    strategy = read(root)[0]
    if strategy is not None:
        out["run_strategy"] = strategy
