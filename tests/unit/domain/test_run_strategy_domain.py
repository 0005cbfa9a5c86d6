# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""run_strategy in kv_vm: options -> metadata element + <on_crash> + pvpanic -> parse-back; state transitions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import itertools

import pytest

from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain import run_strategy
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.merge import merge
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.parse import parse_options as parse_domain
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.render import render_tree
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import parse, text, tostring
from ansible_collections.kvcompute.libvirt.plugins.module_utils.reconcile.classify import classify
from ansible_collections.kvcompute.libvirt.plugins.module_utils.runstrategy import policy, transitions
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.errors import SpecError
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.export import to_options
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.options import parse_options

from test_roundtrip import resolved as resolve_options  # noqa: E402 pylint: disable=wrong-import-position

STRATEGIES = (None,) + policy.STRATEGIES
# (strategy, memory_dump.on_crash) -> <on_crash>
CRASH = {
    (None, False): "destroy", (None, True): "coredump-restart",
    ("Always", False): "restart", ("Always", True): "coredump-restart",
    ("RerunOnFailure", False): "restart", ("RerunOnFailure", True): "coredump-restart",
    ("Once", False): "destroy", ("Once", True): "coredump-destroy",
    ("Manual", False): "destroy", ("Manual", True): "coredump-destroy",
    ("Halted", False): "destroy", ("Halted", True): "coredump-destroy",
}


def _options(strategy, dump=False):
    opts = {"name": "vm1", "memory_dump": {"on_crash": dump}}
    if strategy:
        opts["run_strategy"] = strategy
    return opts


@pytest.mark.parametrize("strategy, dump", sorted(CRASH, key=str))
def test_render_and_parse_back(strategy, dump):
    spec, plan = resolve_options(_options(strategy, dump))
    root = render_tree(spec, plan)
    assert text(root, "on_crash") == CRASH[(strategy, dump)]
    assert text(root, "on_poweroff") == "destroy" and text(root, "on_reboot") == "restart"
    panic = root.find("devices/panic[@model='isa']") is not None
    assert panic is (dump or strategy in ("Always", "RerunOnFailure"))
    assert run_strategy.read(root) == (strategy, None)
    back = parse_domain(tostring(root))
    assert back.get("run_strategy") == strategy
    assert back.get("memory_dump") == ({"on_crash": True} if dump else None)
    desired = to_options(spec)
    assert classify(desired, to_options(parse_options(back)), running=False)[0] == []


def test_bad_strategy_is_named():
    with pytest.raises(SpecError) as err:
        parse_options({"name": "vm1", "run_strategy": "always"})
    assert err.value.problems == [("run_strategy", "'always' is not allowed; allowed: Always, RerunOnFailure, "
                                                   "Once, Manual, Halted (did you mean 'Always'?)")]


def test_a_change_is_live_on_a_running_vm():
    before = to_options(parse_options(_options("Always")))
    after = to_options(parse_options(_options("Halted")))
    changes, pending = classify(after, before, running=True, booted=before)
    assert changes == [{"field": "run_strategy", "before": "Always", "after": "Halted", "apply": "live"}]
    assert pending == []


def test_redefine_replaces_the_element_and_keeps_others():
    spec, plan = resolve_options(_options("Always"))
    old = render_tree(spec, plan)
    meta = old.find("metadata")
    meta.append(parse('<other xmlns="urn:x">kept</other>'))
    held = parse(policy.element_xml("Always", 99).replace("<runStrategy", '<runStrategy xmlns="%s"' % policy.NS))
    meta.replace(meta.find(run_strategy.TAG), held)
    spec2, plan2 = resolve_options(_options("Halted"))
    new = merge(render_tree(spec2, plan2), old)
    assert len(new.findall("metadata/%s" % run_strategy.TAG)) == 1
    assert run_strategy.read(new) == ("Halted", None)  # a redefine also ends a hold
    assert new.find("metadata/{urn:x}other") is not None


# (strategy, state) -> strategy after the request (virtctl start/stop)
MOVES = {("Always", "stopped"): "Halted", ("Once", "stopped"): "Halted", ("Halted", "running"): "Always",
         ("Halted", "restarted"): "Always"}
STATES = ("present", "running", "stopped", "restarted", "absent")


@pytest.mark.parametrize("strategy, state", list(itertools.product(STRATEGIES, STATES)))
def test_after_request(strategy, state):
    moved, why = transitions.after_request(strategy, state)
    assert moved == MOVES.get((strategy, state), strategy)
    assert (why is not None) is ((strategy, state) in MOVES)
    if why:
        assert "virtctl" in why and strategy in why


@pytest.mark.parametrize("strategy, current", list(itertools.product(STRATEGIES, ("absent", "shutoff", "running"))))
def test_present_means_what_the_strategy_keeps(strategy, current):
    expected = {"Always": "running", "Halted": "stopped"}.get(strategy, "present")
    if strategy in ("RerunOnFailure", "Once") and current == "absent":
        expected = "running"
    assert transitions.implied_state(strategy, "present", current) == expected
    for state in ("running", "stopped", "restarted", "absent"):
        assert transitions.implied_state(strategy, state, current) == state


def test_autostart_and_hold():
    assert [transitions.autostart(s) for s in STRATEGIES] == [None, True, False, False, False, False]
    assert [transitions.restarts_after_host_stop(s) for s in STRATEGIES] == [False, True, False, False, False, False]
