# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Dedicated CPUs, NUMA cells and hugepages: valid options read as meant, invalid ones name their field."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.errors import SpecError
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.export import to_options
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.options import parse_options


def vm(**kw):
    out = {"name": "vm1"}
    out.update(kw)
    return out


DED = {"dedicated_cpu_placement": True}
CELLS = [{"id": 0, "cpus": [0], "memory": "256Mi"}, {"id": 1, "cpus": [1], "memory": "256Mi"}]

PINNING_INVALID = [
    (vm(cpu={"dedicated_cpu_placement": "sometimes"}), "cpu.dedicated_cpu_placement"),
    (vm(cpu={"isolate_emulator_thread": True}), "cpu.isolate_emulator_thread"),
    (vm(cpu={"thread_policy": "isolate"}), "cpu.thread_policy"),
    (vm(cpu=dict(DED, thread_policy="mixed")), "cpu.thread_policy"),
    (vm(cpu=dict(DED, sockets=1, max_sockets=4)), "cpu.max_sockets"),
    (vm(cpu={"numa": {"guest_mapping_passthrough": True}}), "cpu.numa.guest_mapping_passthrough"),
    (vm(cpu=dict(DED, numa={})), "cpu.numa"),
    (vm(cpu=dict(DED, numa={"guest_mapping_passthrough": True, "cells": CELLS}), memory={"guest": "512Mi"}),
     "cpu.numa.cells"),
    (vm(cpu={"cores": 2, "numa": {"cells": CELLS}}, memory={"guest": "1Gi"}), "cpu.numa.cells"),
    (vm(cpu={"cores": 3, "numa": {"cells": CELLS}}, memory={"guest": "512Mi"}), "cpu.numa.cells"),
    (vm(cpu={"cores": 2, "numa": {"cells": [{"id": 0, "cpus": [0, 1], "memory": "512Mi"},
                                            {"id": 2, "cpus": [], "memory": "1Mi"}]}}), "cpu.numa.cells[1].cpus"),
    (vm(cpu={"numa": {"cells": [{"cpus": [0], "memory": "512Mi"}]}}), "cpu.numa.cells[0].id"),
    (vm(cpu={"numa": {"cells": [{"id": 0, "cpus": "0-1", "memory": "512Mi"}]}}), "cpu.numa.cells[0].cpus"),
    (vm(cpu={"numa": {"cells": [{"id": 0, "cpus": [0], "memory": "512Mi", "node": 1}]}}), "cpu.numa.cells[0].node"),
    (vm(cpu={"numa": {"passthrough": True}}), "cpu.numa.passthrough"),
    (vm(memory={"guest": "513Mi", "hugepages": {"page_size": "2Mi"}}), "memory.guest"),
    (vm(memory={"guest": "1536Mi", "hugepages": {"page_size": "1Gi"}}), "memory.guest"),
    (vm(memory={"guest": "512Mi", "hugepages": {"page_size": "4Ki"}}), "memory.hugepages.page_size"),
    (vm(memory={"guest": "512Mi", "hugepages": {}}), "memory.hugepages.page_size"),
    (vm(memory={"guest": "512Mi", "max_guest": "2Gi", "hugepages": {"page_size": "2Mi"}}), "memory.max_guest"),
    (vm(cpu={"cores": 2, "numa": {"cells": [{"id": 0, "cpus": [0], "memory": "257Mi"},
                                            {"id": 1, "cpus": [1], "memory": "255Mi"}]}},
        memory={"guest": "512Mi", "hugepages": {"page_size": "2Mi"}}), "cpu.numa.cells[0].memory"),
]


@pytest.mark.parametrize("options, field", PINNING_INVALID, ids=[f for _o, f in PINNING_INVALID])
def test_invalid_placement_option_is_named(options, field):
    with pytest.raises(SpecError) as info:
        parse_options(copy.deepcopy(options))
    assert field in info.value.fields, str(info.value)


def test_messages_say_what_is_allowed():
    with pytest.raises(SpecError) as info:
        parse_options(vm(cpu={"isolate_emulator_thread": True},
                         memory={"guest": "513Mi", "hugepages": {"page_size": "2Mi"}}))
    text = str(info.value)
    assert "cpu.isolate_emulator_thread: needs cpu.dedicated_cpu_placement: true" in text
    assert "memory.guest: must be a multiple of the hugepage size 2Mi, got 513Mi" in text


def test_vmi_fedora_isolated_as_options():
    """KubeVirt's examples/vmi-fedora-isolated.yaml: dedicatedCpuPlacement + isolateEmulatorThread."""
    spec = parse_options(vm(cpu={"dedicated_cpu_placement": True, "isolate_emulator_thread": True},
                            memory={"guest": "1Gi"}))
    assert spec.cpu.dedicated_cpu_placement and spec.cpu.isolate_emulator_thread
    assert to_options(spec)["cpu"]["thread_policy"] == "prefer"


def test_defaults_stay_out_of_the_export():
    out = to_options(parse_options(vm()))
    assert not set(out["cpu"]) & {"dedicated_cpu_placement", "isolate_emulator_thread", "thread_policy", "numa"}
    assert "hugepages" not in out["memory"]


def test_export_reads_back_the_same():
    opts = vm(cpu={"cores": 2, "dedicated_cpu_placement": True, "thread_policy": "require",
                   "numa": {"cells": CELLS}}, memory={"guest": "512Mi", "hugepages": {"page_size": "2Mi"}})
    first = to_options(parse_options(opts))
    assert first["cpu"]["numa"] == {"cells": CELLS}
    assert to_options(parse_options(first)) == first
