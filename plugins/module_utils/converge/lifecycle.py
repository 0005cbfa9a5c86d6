# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""State transitions, each waited for with a timeout.

Stopping is graceful first (ACPI shutdown) and forced (destroy) only after
shutdown_timeout, as `virsh shutdown` followed by `virsh destroy` would be.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.virt import VirtError

UP = ("running", "blocked")
DOWN = ("shutoff", "crashed")


def stop(conn, name, shutdown_timeout, wait_timeout, actions):
    if conn.state(name) in DOWN:
        return
    if conn.state(name) in ("paused", "pmsuspended") or shutdown_timeout == 0:
        conn.destroy(name)
        actions.append("forced off")
    else:
        conn.shutdown(name)
        try:
            conn.wait_for_state(name, DOWN, shutdown_timeout)
            actions.append("shut down")
            return
        except VirtError:
            conn.destroy(name)
            actions.append("forced off after shutdown_timeout (%ss)" % shutdown_timeout)
    conn.wait_for_state(name, DOWN, wait_timeout)


def start(conn, name, wait_timeout, actions):
    conn.start(name)
    conn.wait_for_state(name, UP, wait_timeout)
    actions.append("started")


def predict(current, state):
    """The actions a state needs from the current one (for check mode and for the real run)."""
    up = current in UP or current in ("paused", "pmsuspended")
    if state == "running" and not up:
        return ["start"]
    if state == "stopped" and up:
        return ["stop"]
    if state == "restarted":
        return ["stop", "start"] if up else ["start"]
    return []
