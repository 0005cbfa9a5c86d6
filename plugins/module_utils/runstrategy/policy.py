# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run strategies: when a stopped VM is started again, with KubeVirt's meaning.

Pure and standard-library only: kv_vm imports it, and the per-host service
(roles/libvirt_host/files/kv-runstrategy) loads this very file by path, so the
two can never disagree on names, the metadata element or a decision.

KubeVirt turns a stopped domain into a VMI phase (virt-handler): a guest
shutdown is Succeeded, a guest crash or a dead QEMU is Failed. The VM
controller then restarts Always after either, RerunOnFailure after Failed only,
and never Once, Manual or Halted. libvirt tells the same story in the detail of
its STOPPED event and in the reason of a shut-off domain; the numbers below are
libvirt's stable ABI (virDomainEventStoppedDetailType, virDomainShutoffReason).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time
import xml.etree.ElementTree as ET

STRATEGIES = ("Always", "RerunOnFailure", "Once", "Manual", "Halted")

# The metadata element kv_vm writes and the service reads:
#   <kvrun:runStrategy xmlns:kvrun="NS" holdUntil="EPOCH">Always</kvrun:runStrategy>
# In a namespace of its own: virDomainSetMetadata replaces one element per
# namespace, so kv_vm can hold the service off without rewriting the spec.
NS = "https://kvcompute.dev/xmlns/libvirt/1/run-strategy"
PREFIX = "kvrun"
ELEMENT = "runStrategy"
HOLD_ATTR = "holdUntil"

# What ended a run, in KubeVirt's words.
SUCCEEDED = "succeeded"  # the guest shut itself down (phase Succeeded)
FAILED = "failed"  # the guest crashed or QEMU died (phase Failed)
STOPPED = "stopped"  # the host stopped it (virsh destroy, a forced stop): deleting the VMI
MOVED = "moved"  # migrated, saved, reverted: the VM lives on elsewhere; never start it here
NEVER_RAN = "never-ran"  # shut off since it was defined or the host booted

# virDomainEventType
EVENT_NAMES = {0: "DEFINED", 1: "UNDEFINED", 2: "STARTED", 3: "SUSPENDED", 4: "RESUMED", 5: "STOPPED",
               6: "SHUTDOWN", 7: "PMSUSPENDED", 8: "CRASHED"}
EVENT_STOPPED = 5
# virDomainEventStoppedDetailType -> (name, outcome)
STOPPED_DETAILS = {
    0: ("SHUTDOWN", SUCCEEDED),
    1: ("DESTROYED", STOPPED),
    2: ("CRASHED", FAILED),
    3: ("MIGRATED", MOVED),
    4: ("SAVED", MOVED),
    5: ("FAILED", FAILED),  # the QEMU process died (kill -9, OOM killer, QEMU crash)
    6: ("FROM_SNAPSHOT", MOVED),
}
# virDomainState
STATE_SHUTOFF = 5
# virDomainShutoffReason -> (name, outcome)
SHUTOFF_REASONS = {
    0: ("UNKNOWN", NEVER_RAN),
    1: ("SHUTDOWN", SUCCEEDED),
    2: ("DESTROYED", STOPPED),
    3: ("CRASHED", FAILED),  # also QEMU found dead when libvirtd reconnects after its own restart
    4: ("MIGRATED", MOVED),
    5: ("SAVED", MOVED),
    6: ("FAILED", FAILED),  # failed to start
    7: ("FROM_SNAPSHOT", MOVED),
    8: ("DAEMON", FAILED),  # libvirtd killed it while reconnecting
}

# Which outcomes each strategy restarts after.
RESTART_AFTER = {
    "Always": (SUCCEEDED, FAILED, STOPPED, NEVER_RAN),
    "RerunOnFailure": (FAILED,),
    "Once": (),
    "Manual": (),
    "Halted": (),
}
# Strategies for which libvirt restarts a crashed guest in place (<on_crash>restart).
RESTART_ON_GUEST_CRASH = ("Always", "RerunOnFailure")

# KubeVirt's crash-loop back-off (virt-controller calculateStartBackoffTime): 10 s × n², at most 300 s.
BACKOFF_STEP = 10
BACKOFF_MAX = 300
# A failure this soon after our own restart counts as the next of a loop.
EARLY_FAILURE_WINDOW = 60


class Decision:
    """Whether to start a VM again, and why (for the log)."""

    def __init__(self, restart, why):
        self.restart = restart
        self.why = why

    def __repr__(self):
        return "Decision(%r, %r)" % (self.restart, self.why)


def _decide(strategy, outcome, what, hold_until=None, now=None):
    if strategy not in RESTART_AFTER:
        return Decision(False, "%s; not ours (no run strategy)" % what)
    if outcome is None:
        return Decision(False, "%s; nothing to do" % what)
    if hold_until is not None and (now if now is not None else time.time()) < hold_until:
        return Decision(False, "%s; held by kv_vm" % what)
    if outcome in RESTART_AFTER[strategy]:
        return Decision(True, "%s (%s): %s restarts it" % (what, outcome, strategy))
    return Decision(False, "%s (%s): %s leaves it off" % (what, outcome, strategy))


def event_outcome(event, detail):
    """The outcome a lifecycle event reports, or None when it is not the end of a run."""
    if event != EVENT_STOPPED:
        return None
    return STOPPED_DETAILS.get(detail, ("?", None))[1]


def event_name(event, detail):
    name = EVENT_NAMES.get(event, str(event))
    if event == EVENT_STOPPED:
        return "%s/%s" % (name, STOPPED_DETAILS.get(detail, (str(detail),))[0])
    return "%s/%s" % (name, detail)


def on_event(strategy, event, detail, hold_until=None, now=None):
    """Decision for a lifecycle event of a domain with this run strategy."""
    return _decide(strategy, event_outcome(event, detail), "event %s" % event_name(event, detail), hold_until, now)


def state_outcome(state, reason):
    """The outcome a shut-off domain's reason tells, or None when it is not shut off."""
    if state != STATE_SHUTOFF:
        return None
    return SHUTOFF_REASONS.get(reason, ("?", None))[1]


def on_reconcile(strategy, state, reason, hold_until=None, now=None):
    """Decision for a domain found in (state, reason) when the service (re)connects or resyncs.

    Covers what happened while nobody listened (the service or libvirtd was down, the host booted).
    """
    name = SHUTOFF_REASONS.get(reason, (str(reason),))[0] if state == STATE_SHUTOFF else "active"
    return _decide(strategy, state_outcome(state, reason), "found shut off (%s)" % name
                   if state == STATE_SHUTOFF else "found %s" % name, hold_until, now)


def backoff(failures, jitter=0.0):
    """Seconds to wait before the next start after `failures` consecutive early failures (0: at once).

    jitter in [0, 1) adds up to half the delay, so VMs failing together spread out.
    """
    if failures <= 0:
        return 0
    delay = BACKOFF_STEP * failures * failures
    delay += int(jitter * (delay // 2 + 1))
    return min(delay, BACKOFF_MAX)


def element_xml(strategy, hold_until=None):
    """The element for virDomainSetMetadata, without a namespace (libvirt adds NS under PREFIX)."""
    el = ET.Element(ELEMENT)
    el.text = strategy
    if hold_until is not None:
        el.set(HOLD_ATTR, str(int(hold_until)))
    return ET.tostring(el, encoding="unicode")


def parse_element(text):
    """(strategy, hold_until) from the element's XML text; (None, None) when absent or not one of ours."""
    if not text:
        return None, None
    try:
        el = ET.fromstring(text)
    except ET.ParseError:
        return None, None
    strategy = (el.text or "").strip()
    if strategy not in STRATEGIES:
        return None, None
    hold = el.get(HOLD_ATTR)
    return strategy, int(hold) if hold and hold.isdigit() else None
