# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kv_vm's part of run strategies: the strategy a request leaves, autostart, <on_crash> live,
and holding the service off while kv_vm itself stops a VM the service would start again.

The service (roles/libvirt_host/files/kv-runstrategy) reads the strategy from the domain's
persistent definition at each event, so kv_vm writes it (define, or virDomainSetMetadata)
before it stops anything.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import dataclasses
import time

from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain import run_strategy as domain_rs
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import text
from ansible_collections.kvcompute.libvirt.plugins.module_utils.runstrategy import policy, transitions

HOLD_MARGIN = 30  # seconds a hold outlives the stop and start it covers, should kv_vm die meanwhile


def adjust(request, current, old_root):
    """(request with the strategy and state this run drives to, why the strategy moved or None).

    An omitted run_strategy keeps the domain's: it moves with start and stop, like `state`.
    """
    declared = request.spec.run_strategy
    if declared is None and old_root is not None:
        declared = domain_rs.read(old_root)[0]
    strategy, why = transitions.after_request(declared, request.state)
    state = transitions.implied_state(strategy, request.state, current)
    spec = dataclasses.replace(request.spec, run_strategy=strategy)
    return dataclasses.replace(request, spec=spec, state=state), why


def plan(conn, prepared, live_root, why):
    """Add the actions of the strategy (autostart, <on_crash> live) to prepared; note a move."""
    strategy = prepared.spec.run_strategy
    prepared.run_strategy_moved = why
    if why:
        for change in prepared.changes:
            if change["field"] == "run_strategy":
                change["reason"] = why
    want = transitions.autostart(strategy)
    have = conn.autostart(prepared.request.name) if prepared.current != "absent" else False
    if want is not None and want != have:
        prepared.actions.append("autostart on" if want else "autostart off")
    if strategy is not None and live_root is not None and text(live_root, "on_crash") != domain_rs.crash_action(prepared.spec):
        prepared.actions.append("set on_crash live")


def apply(conn, prepared, done):
    """After define: autostart and the live <on_crash>."""
    name = prepared.request.name
    if "autostart on" in prepared.actions or "autostart off" in prepared.actions:
        conn.set_autostart(name, "autostart on" in prepared.actions)
        done.append("autostart %s" % ("on" if "autostart on" in prepared.actions else "off"))
    if "set on_crash live" in prepared.actions:
        action = domain_rs.crash_action(prepared.spec)
        conn.set_crash_action(name, action)
        done.append("set on_crash %s live" % action)


def hold(conn, name, strategy, request):
    """Before kv_vm stops a VM the service would start again: hold the service off until it is done.

    The hold expires by itself, so a kv_vm that dies midway does not leave the VM unwatched.
    Returns whether it held.
    """
    if not transitions.restarts_after_host_stop(strategy):
        return False
    until = time.time() + request.shutdown_timeout + 2 * request.wait_timeout + HOLD_MARGIN
    conn.set_metadata(name, policy.element_xml(strategy, until), policy.PREFIX, policy.NS)
    return True


def release(conn, name, strategy):
    conn.set_metadata(name, policy.element_xml(strategy), policy.PREFIX, policy.NS)


def stored(conn, name):
    """The strategy in a domain's persistent definition, or None."""
    return policy.parse_element(conn.metadata(name, policy.NS, inactive=True))[0]


def result_keys(prepared):
    out = {}
    if prepared.spec is not None and prepared.spec.run_strategy is not None:
        out["run_strategy"] = prepared.spec.run_strategy
    if prepared.run_strategy_moved:
        out["run_strategy_moved"] = prepared.run_strategy_moved
    return out
