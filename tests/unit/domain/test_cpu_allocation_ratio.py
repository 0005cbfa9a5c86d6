# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""cpu_allocation_ratio: a shared VM without a CPU request gets shares for vCPUs ÷ ratio, and reads back."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.parse import parse_options as parse_domain
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.render import render_xml
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import parse as parse_xml
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import text
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec import overcommit
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.errors import SpecError
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.export import to_options
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.model import Cpu, Resources
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.options import parse_options

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_roundtrip import check_round_trip, resolved  # noqa: E402


def _vm(**kw):
    return dict({"name": "r", "cpu": {"sockets": 4}}, **kw)


@pytest.mark.parametrize("opts, milli", [
    (_vm(cpu_allocation_ratio=10), 400),  # KubeVirt's default ratio: 4 vCPUs request 400m
    (_vm(cpu_allocation_ratio=1), 4000),
    (_vm(cpu={"sockets": 1}, cpu_allocation_ratio=3), 334),  # rounded up to a millicore
    (_vm(cpu={"sockets": 1}, cpu_allocation_ratio=256000), 2),  # never below the smallest share
    (_vm(cpu_allocation_ratio=10, resources={"requests": {"cpu": "1500m"}}), 1500),  # an explicit request wins
    (_vm(cpu_allocation_ratio=1, resources={"limits": {"cpu": "2"}}), 2000),  # a request never passes its limit
    (_vm(), None),  # no ratio, no request: libvirt's default shares
])
def test_ratio_becomes_the_cpu_request(opts, milli):
    assert parse_options(opts).resources.requests_cpu == milli


def test_shares_in_the_xml_and_read_back():
    spec, plan = resolved(_vm(cpu_allocation_ratio=10))
    xml = render_xml(spec, plan)
    assert text(parse_xml(xml), "cputune/shares") == "410"  # 400m × 1024 / 1000
    back = parse_domain(xml)
    assert back["resources"]["requests"]["cpu"] == "400m"
    assert to_options(parse_options(back)) == to_options(spec)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 64), st.integers(1, overcommit.MAX_RATIO))
def test_round_trip_any_ratio(sockets, ratio):
    check_round_trip(_vm(cpu={"sockets": sockets, "max_sockets": sockets}, cpu_allocation_ratio=ratio))


def test_dedicated_cpus_take_no_ratio():
    dedicated = parse_options(_vm(cpu={"sockets": 4, "dedicated_cpu_placement": True}, cpu_allocation_ratio=10))
    assert dedicated.resources.requests_cpu is None
    shared = SimpleNamespace(cpu=Cpu(sockets=4), resources=Resources())
    overcommit.apply_ratio(shared, 10)
    assert shared.resources.requests_cpu == 400


@pytest.mark.parametrize("ratio", [0, -1, "ten", 256001])
def test_bad_ratio_names_the_field(ratio):
    with pytest.raises(SpecError) as err:
        parse_options(_vm(cpu_allocation_ratio=ratio))
    assert err.value.fields == ["cpu_allocation_ratio"]
