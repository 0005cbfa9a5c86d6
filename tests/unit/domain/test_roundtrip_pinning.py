# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Dedicated CPUs, NUMA cells and hugepages survive spec -> placement -> domain XML -> parse back -> spec."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain import pinning
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.parse import parse_options as parse_domain
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.render import render_tree, render_xml
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import parse as parse_xml
from ansible_collections.kvcompute.libvirt.plugins.module_utils.plan.numa_fit import place
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.export import to_options
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.options import parse_options

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "spec"))
sys.path.insert(0, os.path.join(HERE, "..", "plan"))
import vm_strategies  # noqa: E402
from synthetic_hosts import make_host  # noqa: E402
from test_roundtrip import resolved  # noqa: E402

MIB = 2 ** 20
# A big host (4 cells × 8 cores × 2 threads, pages everywhere) so every generated VM fits.
CAPS, HOST = make_host((2, 2, 8, 2), reserved=[0], pages_2m=[4096] * 4, free_memory=[64 * 2 ** 30] * 4)


@st.composite
def placement_options(draw):
    """valid_options plus dedicated CPUs, a thread policy, guest NUMA cells or passthrough, hugepages."""
    opts = draw(vm_strategies.valid_options())
    cpu = dict(opts.get("cpu", {}))
    cpu.pop("threads", None)
    cpu["sockets"], cpu["cores"] = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    vcpus = cpu["sockets"] * cpu["cores"]
    dedicated = draw(st.booleans())
    if dedicated:
        cpu["dedicated_cpu_placement"] = True
        cpu["thread_policy"] = draw(st.sampled_from(["prefer", "isolate", "require"]))
        cpu["isolate_emulator_thread"] = draw(st.booleans())
    page = draw(st.sampled_from([None, "2Mi"]))
    guest = draw(st.integers(1, 8)) * 64 * MIB
    opts["memory"] = {"guest": "%dMi" % (guest // MIB)}
    if page:
        opts["memory"]["hugepages"] = {"page_size": page}
    numa = draw(st.sampled_from([None, "cells"] + (["passthrough"] if dedicated else [])))
    if numa == "passthrough":
        cpu["numa"] = {"guest_mapping_passthrough": True}
    elif numa == "cells" and vcpus >= 2:
        split = draw(st.integers(1, vcpus - 1))
        half = guest // 2 // (2 * MIB) * 2 * MIB
        cpu["numa"] = {"cells": [{"id": 0, "cpus": list(range(split)), "memory": "%dMi" % (half // MIB)},
                                 {"id": 1, "cpus": list(range(split, vcpus)),
                                  "memory": "%dMi" % ((guest - half) // MIB)}]}
    opts["cpu"] = cpu
    limits = opts.get("resources", {}).get("limits", {})
    limits.pop("memory", None)  # generated for another guest size
    return opts


def placed(opts, taken=None):
    spec, plan = resolved(opts)
    plan.placement = place(spec, HOST, taken or {})
    return spec, plan


@settings(max_examples=200, deadline=None)
@given(placement_options())
def test_round_trip_with_placement(opts):
    spec, plan = placed(opts)
    xml = render_xml(spec, plan)
    assert to_options(parse_options(parse_domain(xml))) == to_options(spec)
    # What later runs read back from the domain is what was planned.
    kept = pinning.read(parse_xml(xml))
    assert kept.vcpus == plan.placement.vcpus and kept.emulator == plan.placement.emulator
    assert kept.exclusive == plan.placement.exclusive
    assert kept.memory_cells == plan.placement.memory_cells


@settings(max_examples=100, deadline=None)
@given(placement_options())
def test_rerun_keeps_the_placement(opts):
    spec, plan = placed(opts)
    kept = pinning.read(render_tree(spec, plan))
    again = place(spec, HOST, {}, keep=kept)
    assert again.vcpus == plan.placement.vcpus and again.memory_cells == plan.placement.memory_cells
    assert pinning.pins(render_tree(spec, plan)) == pinning.pins(render_tree(spec, _with(plan, again)))


def _with(plan, placement):
    plan.placement = placement
    return plan


def one(root, path):
    found = root.findall(path)
    assert len(found) == 1, path
    return found[0]


def test_xml_of_an_isolated_kvm_vm():
    spec, plan = placed({"name": "iso", "domain_type": "kvm", "cpu": {
        "cores": 2, "dedicated_cpu_placement": True, "isolate_emulator_thread": True, "thread_policy": "isolate"},
        "memory": {"guest": "1Gi", "hugepages": {"page_size": "2Mi"}}})
    root = render_tree(spec, plan)
    pins = [(p.get("vcpu"), p.get("cpuset")) for p in root.findall("cputune/vcpupin")]
    assert [v for v, _c in pins] == ["0", "1"]
    cpus = [int(c) for _v, c in pins] + [int(one(root, "cputune/emulatorpin").get("cpuset"))]
    assert len(set(cpus)) == 3 and 0 not in cpus
    assert one(root, "features/kvm/hint-dedicated").get("state") == "on"
    assert one(root, "numatune/memory").attrib == {"mode": "strict", "nodeset": str(HOST.cell_of(cpus[0]))}
    page = one(root, "memoryBacking/hugepages/page")
    assert (page.get("size"), page.get("unit")) == ("2048", "KiB")
    assert one(root, "memoryBacking/allocation").get("mode") == "immediate"
    assert root.find("devices/memory") is None  # no virtio-mem beside hugepages
    held = one(root, "metadata/{%s}vm/{%s}placement" % ((pinning.KV_NS,) * 2)).get("held")
    assert held  # the siblings of the isolated cores


def test_no_hint_dedicated_under_tcg_and_cpuset_for_shared():
    spec, plan = placed({"name": "t", "domain_type": "qemu", "cpu": {"dedicated_cpu_placement": True}})
    assert render_tree(spec, plan).find("features/kvm") is None
    spec, plan = placed({"name": "s", "domain_type": "qemu"}, taken={5: "x"})
    vcpu = render_tree(spec, plan).find("vcpu")
    assert vcpu.get("cpuset") == "1-4,6-63"  # the pool minus CPU 5; reserved CPU 0 not in it


def test_guest_cells_and_memnodes():
    spec, plan = placed({"name": "n", "cpu": {"cores": 4, "numa": {"cells": [
        {"id": 0, "cpus": [0, 1], "memory": "512Mi"}, {"id": 1, "cpus": [2, 3], "memory": "512Mi"}]}},
        "memory": {"guest": "1Gi", "hugepages": {"page_size": "2Mi"}}})
    root = render_tree(spec, plan)
    cells = [(c.get("id"), c.get("cpus"), c.get("memory")) for c in root.findall("cpu/numa/cell")]
    assert cells == [("0", "0-1", "524288"), ("1", "2-3", "524288")]
    memnodes = [(m.get("cellid"), m.get("mode")) for m in root.findall("numatune/memnode")]
    assert memnodes == [("0", "strict"), ("1", "strict")]
    nodes = [m.get("nodeset") for m in root.findall("numatune/memnode")]
    assert len(set(nodes)) == 2
    assert one(root, "memoryBacking/hugepages/page").get("nodeset") == "0-1"
