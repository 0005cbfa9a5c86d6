# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Desired vs observed -> the changes and how each is applied.

One classification feeds the real run, check mode and --diff, so they agree:
  define   the domain is not running: the new definition is all it takes;
  live     applied to the running domain now and to its definition;
  restart  written to the definition; takes effect at the next boot
           (KubeVirt's RestartRequired condition).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.reconcile.diff import differences

# Fields libvirt changes on a running domain without a reboot: CPU and memory
# tuning, vCPUs by sockets (up to max_sockets) and the virtio-mem request; the run
# strategy (the service reads the definition, <on_crash> is set live).
LIVE_FIELDS = ("resources.", "cpu.sockets", "memory.guest", "run_strategy")


def is_live(field):
    return any(field == prefix.rstrip(".") or field.startswith(prefix) for prefix in LIVE_FIELDS)


def classify(desired, observed, running, booted=None):
    """Return (changes, pending_restart).

    desired, observed: option trees (observed from the inactive XML; None when
    the domain does not exist yet).  booted: the option tree the running domain
    started with (from the live XML's metadata), or None when unknown.
    changes: [{'field', 'before', 'after', 'apply'}]; pending_restart: restart-only
    fields whose running value still differs from the desired one.
    """
    changes = []
    if observed is not None:
        for field, before, after in differences(observed, desired):
            apply = "define"
            if running:
                apply = "live" if is_live(field) else "restart"
            changes.append({"field": field, "before": before, "after": after, "apply": apply})
    pending = []
    if running and booted is not None:
        pending = [field for field, _b, _a in differences(booted, desired) if not is_live(field)]
    return changes, pending
