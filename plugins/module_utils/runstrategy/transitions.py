# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a run strategy and kv_vm's `state` combine, as virtctl start/stop and KubeVirt's VM controller do.

  state stopped on Always or Once  -> Halted     (virtctl stop patches runStrategy: Halted)
  state running on Halted          -> Always     (virtctl start patches runStrategy: Always)
  state present                    -> what the strategy keeps: Always running, Halted stopped,
                                      RerunOnFailure and Once started when first defined
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.runstrategy.policy import RESTART_AFTER, STOPPED

HALTED_BY_STOP = ("Always", "Once")
STARTED_ON_DEFINE = ("Always", "RerunOnFailure", "Once")


def after_request(strategy, state):
    """(the strategy a request leaves, why it moved or None)."""
    if strategy in HALTED_BY_STOP and state == "stopped":
        return "Halted", "state stopped moves run_strategy %s to Halted, as virtctl stop does" % strategy
    if strategy == "Halted" and state in ("running", "restarted"):
        return "Always", "state %s moves run_strategy Halted to Always, as virtctl start does" % state
    return strategy, None


def implied_state(strategy, state, current):
    """The state kv_vm drives to: `present` means what the strategy keeps."""
    if state != "present" or strategy is None:
        return state
    if strategy == "Always":
        return "running"
    if strategy == "Halted":
        return "stopped"
    if strategy in STARTED_ON_DEFINE and current == "absent":
        return "running"
    return state


def restarts_after_host_stop(strategy):
    """Would the service start this VM again after kv_vm stops it (so kv_vm must hold it off first)?"""
    return STOPPED in RESTART_AFTER.get(strategy, ())


def autostart(strategy):
    """libvirt autostart (started when the host boots): Always only. None: not ours to set."""
    return None if strategy is None else strategy == "Always"
