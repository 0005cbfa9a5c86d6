# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The service's decisions on every (strategy, event, detail) and (strategy, shut-off reason) pair."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import itertools

import pytest

from ansible_collections.kvcompute.libvirt.plugins.module_utils.runstrategy import policy

libvirt = pytest.importorskip("libvirt")

# KubeVirt: Always restarts after Succeeded and Failed (and a deleted VMI), RerunOnFailure after Failed.
RESTARTS = {
    "Always": {"SHUTDOWN", "DESTROYED", "CRASHED", "FAILED"},
    "RerunOnFailure": {"CRASHED", "FAILED"},
    "Once": set(),
    "Manual": set(),
    "Halted": set(),
}
STOPPED_DETAILS = {"SHUTDOWN": 0, "DESTROYED": 1, "CRASHED": 2, "MIGRATED": 3, "SAVED": 4, "FAILED": 5,
                   "FROM_SNAPSHOT": 6}
# Every lifecycle event and its details, as libvirt numbers them (checked against libvirt-python below).
EVENTS = {
    "DEFINED": (0, range(5)), "UNDEFINED": (1, range(2)), "STARTED": (2, range(5)), "SUSPENDED": (3, range(10)),
    "RESUMED": (4, range(5)), "STOPPED": (5, range(7)), "SHUTDOWN": (6, range(3)), "PMSUSPENDED": (7, range(2)),
    "CRASHED": (8, range(2)),
}
RESTARTS_FROM_STATE = {
    "Always": {"UNKNOWN", "SHUTDOWN", "DESTROYED", "CRASHED", "FAILED", "DAEMON"},
    "RerunOnFailure": {"CRASHED", "FAILED", "DAEMON"},
    "Once": set(), "Manual": set(), "Halted": set(),
}
SHUTOFF_REASONS = {"UNKNOWN": 0, "SHUTDOWN": 1, "DESTROYED": 2, "CRASHED": 3, "MIGRATED": 4, "SAVED": 5,
                   "FAILED": 6, "FROM_SNAPSHOT": 7, "DAEMON": 8}


def test_numbers_are_libvirts():
    for name, (number, _details) in EVENTS.items():
        assert getattr(libvirt, "VIR_DOMAIN_EVENT_" + name) == number
    for name, number in STOPPED_DETAILS.items():
        assert getattr(libvirt, "VIR_DOMAIN_EVENT_STOPPED_" + name) == number
        assert policy.STOPPED_DETAILS[number][0] == name
    for name, number in SHUTOFF_REASONS.items():
        assert getattr(libvirt, "VIR_DOMAIN_SHUTOFF_" + name) == number
        assert policy.SHUTOFF_REASONS[number][0] == name
    assert libvirt.VIR_DOMAIN_SHUTOFF == policy.STATE_SHUTOFF


EVENT_PAIRS = [(s, e, d) for s in policy.STRATEGIES for e, (num, details) in EVENTS.items() for d in details]


@pytest.mark.parametrize("strategy, event, detail", EVENT_PAIRS)
def test_every_event(strategy, event, detail):
    number = EVENTS[event][0]
    decision = policy.on_event(strategy, number, detail)
    detail_name = policy.STOPPED_DETAILS[detail][0] if event == "STOPPED" else None
    expected = event == "STOPPED" and detail_name in RESTARTS[strategy]
    assert decision.restart is expected, decision
    assert event in decision.why


@pytest.mark.parametrize("strategy, reason", list(itertools.product(policy.STRATEGIES, SHUTOFF_REASONS)))
def test_every_shutoff_reason(strategy, reason):
    decision = policy.on_reconcile(strategy, policy.STATE_SHUTOFF, SHUTOFF_REASONS[reason])
    assert decision.restart is (reason in RESTARTS_FROM_STATE[strategy]), decision
    assert reason in decision.why


@pytest.mark.parametrize("strategy, state", list(itertools.product(policy.STRATEGIES, [0, 1, 2, 3, 4, 6, 7])))
def test_active_domains_are_left_alone(strategy, state):
    assert policy.on_reconcile(strategy, state, 1).restart is False


@pytest.mark.parametrize("strategy", [None, "always", "Paused", ""])
def test_domains_without_our_strategy_are_never_touched(strategy):
    assert policy.on_event(strategy, 5, 5).restart is False
    assert "not ours" in policy.on_event(strategy, 5, 5).why
    assert policy.on_reconcile(strategy, 5, 3).restart is False


def test_unknown_detail_and_reason_do_nothing():
    assert policy.on_event("Always", 5, 99).restart is False
    assert policy.on_reconcile("Always", 5, 99).restart is False


def test_a_hold_defers_until_it_expires():
    assert policy.on_event("Always", 5, 0, hold_until=1000, now=999).restart is False
    assert "held" in policy.on_event("Always", 5, 0, hold_until=1000, now=999).why
    assert policy.on_event("Always", 5, 0, hold_until=1000, now=1000).restart is True
    assert policy.on_reconcile("Always", 5, 1, hold_until=1000, now=1001).restart is True


def test_why_names_event_outcome_and_strategy():
    why = policy.on_event("Always", 5, 5).why
    assert why == "event STOPPED/FAILED (failed): Always restarts it"
    assert policy.on_event("RerunOnFailure", 5, 0).why == "event STOPPED/SHUTDOWN (succeeded): RerunOnFailure leaves it off"


@pytest.mark.parametrize("failures, jitter, delay", [
    (0, 0.0, 0), (-1, 0.9, 0), (1, 0.0, 10), (1, 0.99, 15), (2, 0.0, 40), (3, 0.0, 90), (5, 0.0, 250),
    (6, 0.0, 300), (50, 0.5, 300),
])
def test_backoff_is_kubevirts(failures, jitter, delay):
    assert policy.backoff(failures, jitter) == delay


@pytest.mark.parametrize("strategy", policy.STRATEGIES)
def test_element_round_trip(strategy):
    assert policy.parse_element(policy.element_xml(strategy)) == (strategy, None)
    assert policy.parse_element(policy.element_xml(strategy, 1234.7)) == (strategy, 1234)
    namespaced = '<kvrun:runStrategy xmlns:kvrun="%s" holdUntil="9">%s</kvrun:runStrategy>' % (policy.NS, strategy)
    assert policy.parse_element(namespaced) == (strategy, 9)


@pytest.mark.parametrize("text", [None, "", "<runStrategy>Sometimes</runStrategy>", "<runStrategy", "<x/>"])
def test_bad_elements_are_not_ours(text):
    assert policy.parse_element(text) == (None, None)
