# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of the migration tests: start the counting guest on the first host, read its ticks."""

from __future__ import annotations

import re

from tests.support.guest import GuestConsole
from tests.support.two_hosts import guest_xml

TICK_RE = re.compile(r"KVGUEST tick=(\d+) boot=(\S+)")


def ticks(console, since=0):
    return [(int(n), boot) for n, boot in TICK_RE.findall(console.text()[since:])]


def start_counting_guest(conn, name, guest, folder, ready_timeout=180, **kw):
    """Define + start the test guest with kv.counter=1 on ``conn``; wait for its first ticks."""
    console = GuestConsole(folder / ("%s.log" % name))
    extra = kw.pop("cmdline_extra", "")
    cmdline = guest.cmdline(counter=1) + (" " + extra if extra else "")
    xml = guest_xml(name, guest.kernel, guest.initrd, console.path, cmdline, **kw)
    conn.defineXML(xml).create()
    console.wait_for(lambda s: True, timeout=ready_timeout)
    console.wait_for(TICK_RE, timeout=ready_timeout)
    return console


def assert_kept_counting(console, before, timeout=60):
    """The guest goes on counting with the same boot id past ``before`` ticks: it did not reboot."""
    last = ticks(console)[-1][0] if ticks(console) else 0
    deadline_tick = max(last, before) + 3
    console.wait_for(re.compile(r"KVGUEST tick=%d boot=" % deadline_tick), timeout=timeout)
    seen = ticks(console)
    boots = set(b for _n, b in seen)
    numbers = [n for n, _b in seen]
    assert len(boots) == 1, "the guest rebooted: boot ids %s" % boots
    assert all(b > a for a, b in zip(numbers, numbers[1:])), "the counter restarted: %s" % numbers
    return seen[-1][0]


def where(conn1, conn2, name):
    """(state on host 1, state on host 2): 'running', 'shutoff', 'absent', ... and persistence."""
    out = []
    for conn in (conn1, conn2):
        try:
            dom = conn.lookupByName(name)
        except Exception:  # libvirtError: no domain
            out.append("absent")
            continue
        state = {1: "running", 3: "paused", 5: "shutoff"}.get(dom.state()[0], str(dom.state()[0]))
        out.append("%s%s" % (state, "" if dom.isPersistent() else "/transient"))
    return tuple(out)
