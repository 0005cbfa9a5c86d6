# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CPU hotplug by sockets and virtio-mem memory hotplug: defaults, what a running VM allows, and the XML."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain import memory
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.parse import parse_options as parse_domain
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.render import render_xml
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import parse
from ansible_collections.kvcompute.libvirt.plugins.module_utils.plan.hardware import Existing, resolve
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.errors import SpecError
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.export import to_options
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.options import parse_options

MIB = 2 ** 20
HOST = {"arch": "x86_64", "kvm_usable": False, "machines": {}, "max_vcpus": {"qemu": 12}}


def plan_for(options, existing=None, host=None):
    return resolve(parse_options(dict({"name": "h", "domain_type": "qemu"}, **options)), host or HOST,
                   {}, existing)


def test_defaults_are_four_times_and_capped_by_the_host():
    spec, _plan = plan_for({"cpu": {"sockets": 2, "cores": 2}, "memory": {"guest": "256Mi"}})
    assert spec.cpu.max_sockets == 6  # 12 host vCPUs / 2 per socket caps 4 × 2 = 8
    assert spec.memory.max_guest == 1024 * MIB
    spec, _plan = plan_for({"cpu": {"sockets": 1}, "memory": {"guest": "257Mi"}})
    assert spec.cpu.max_sockets == 4
    assert (spec.memory.max_guest - spec.memory.guest) % (2 * MIB) == 0, "virtio-mem size is whole 2Mi blocks"


def test_existing_maximum_is_kept_when_not_given():
    spec, _plan = plan_for({"cpu": {"sockets": 3}, "memory": {"guest": "512Mi"}},
                           Existing(max_sockets=4, max_guest=1024 * MIB))
    assert (spec.cpu.max_sockets, spec.memory.max_guest) == (4, 1024 * MIB)


def test_explicit_max_above_host_is_refused():
    with pytest.raises(SpecError) as err:
        plan_for({"cpu": {"sockets": 1, "max_sockets": 20}})
    assert err.value.fields == ["cpu.max_sockets"]


def test_running_vm_moves_only_the_request():
    running = Existing(running=True, boot_memory=256 * MIB, live_max_guest=1024 * MIB, live_max_sockets=4,
                       max_sockets=4, max_guest=1024 * MIB)
    spec, plan = plan_for({"memory": {"guest": "768Mi"}}, running)
    assert (plan.boot_memory, plan.requested) == (256 * MIB, 512 * MIB)
    root = parse(render_xml(spec, plan))
    assert memory.plugged(root) == (512 * MIB, 0)
    assert root.find("maxMemory").get("slots") == "1"
    assert root.find("cpu/numa/cell").get("memory") == str(256 * 1024)
    assert parse_domain(render_xml(spec, plan))["memory"] == {"guest": 768 * MIB, "max_guest": 1024 * MIB}


@pytest.mark.parametrize("options, field, words", [
    ({"memory": {"guest": "128Mi"}}, "memory.guest", "below the boot memory"),
    ({"memory": {"guest": "259Mi"}}, "memory.guest", "multiple of 2Mi"),
    ({"memory": {"guest": "2Gi", "max_guest": "4Gi"}}, "memory.guest", "raise max_guest and restart"),
    ({"cpu": {"sockets": 5, "max_sockets": 8}}, "cpu.sockets", "raise max_sockets and restart"),
])
def test_running_vm_limits_name_the_field(options, field, words):
    running = Existing(running=True, boot_memory=256 * MIB, live_max_guest=1024 * MIB, live_max_sockets=4)
    with pytest.raises(SpecError) as err:
        plan_for(options, running)
    assert err.value.fields == [field] and words in str(err.value)


def test_no_hotplug_when_max_equals_current():
    spec, plan = plan_for({"cpu": {"sockets": 2, "max_sockets": 2}, "memory": {"guest": "256Mi", "max_guest": "256Mi"}})
    root = parse(render_xml(spec, plan))
    assert root.find("vcpus") is None and root.find("vcpu").get("current") is None
    assert root.find("maxMemory") is None and memory.virtio_mem(root) is None
    assert to_options(parse_options(parse_domain(render_xml(spec, plan)))) == to_options(spec)


@pytest.mark.parametrize("cpu", [{"sockets": 1}, {"sockets": 3, "cores": 2, "threads": 2}, {"sockets": 2, "max_sockets": 3}])
def test_vcpu_layout_round_trip(cpu):
    spec, plan = plan_for({"cpu": cpu})
    root = parse(render_xml(spec, plan))
    layout = root.findall("vcpus/vcpu")
    if spec.cpu.max_vcpus > spec.cpu.vcpus:
        assert len(layout) == spec.cpu.max_vcpus
        assert sum(v.get("enabled") == "yes" for v in layout) == spec.cpu.vcpus
    else:  # the host's 12 vCPUs leave no room to grow: a plain <vcpu>
        assert layout == [] and root.find("vcpu").text == str(spec.cpu.vcpus)
    assert to_options(parse_options(parse_domain(render_xml(spec, plan))))["cpu"] == to_options(spec)["cpu"]


@pytest.mark.parametrize("options, field", [
    ({"cpu": {"sockets": 2, "max_sockets": 1}}, "cpu.max_sockets"),
    ({"memory": {"guest": "1Gi", "max_guest": "512Mi"}}, "memory.max_guest"),
    ({"memory": {"guest": "1Gi", "max_guest": "1025Mi"}}, "memory.max_guest"),
])
def test_max_below_current_is_refused(options, field):
    with pytest.raises(SpecError) as err:
        parse_options(dict({"name": "h"}, **options))
    assert err.value.fields == [field]
