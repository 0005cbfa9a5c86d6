# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of the migration tests: start the counting guest on the first host, read its ticks."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.guest import GuestConsole, GuestConsoleTimeout
from tests.support.two_hosts import guest_xml

# A whole tick line only: the serial bytes in flight at the switch-over can be lost mid-line.
TICK_RE = re.compile(r"KVGUEST tick=(\d+) boot=([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")


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


# What a guest kernel prints when its memory was corrupted.
CORRUPTION_RE = re.compile(r"BUG: |Oops|general protection fault|Kernel panic|list_(add|del) corruption")


def assert_kept_counting(console, before, timeout=150):
    """The guest goes on counting with the same boot id past ``before`` ticks: it did not reboot.

    A guest kernel that dies of corrupted memory after a move is QEMU's TCG bug (docs/migration.md:
    before QEMU 9.0 TCG loses dirty pages during live migration; KVM is not affected): that is
    reported as an expected failure, after the caller checked the host side.
    """
    last = ticks(console)[-1][0] if ticks(console) else 0
    deadline_tick = max(last, before) + 3
    try:
        console.wait_for(re.compile(r"KVGUEST tick=%d boot=" % deadline_tick), timeout=timeout)
    except GuestConsoleTimeout:
        if CORRUPTION_RE.search(console.text()):
            pytest.xfail("the guest kernel died of corrupted memory after a TCG live migration: QEMU < 9.0 "
                         "loses dirty pages under TCG (docs/migration.md); the host side was checked")
        raise
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
            code = dom.state()[0]
            persistent = dom.isPersistent()
        except Exception:  # libvirtError: no domain, or it left while we looked
            out.append("absent")
            continue
        state = {1: "running", 3: "paused", 5: "shutoff"}.get(code, str(code))
        out.append("%s%s" % (state, "" if persistent else "/transient"))
    return tuple(out)


class Background:
    """kv_migrate in an ansible-playbook run of its own process group (the "controller"), to kill or await."""

    def __init__(self, runner, args, tag):
        play = [{"hosts": "localhost", "gather_facts": False,
                 "tasks": [{"name": "under test", "kvcompute.libvirt.kv_migrate": args, "register": "r",
                            "ignore_errors": True}]}]
        path = runner.tmp / ("bg-%s.yml" % tag)
        path.write_text(yaml.safe_dump(play, sort_keys=False))
        self.proc = subprocess.Popen([str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(path)],
                                     cwd=str(runner.tmp), env=runner.env(), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, start_new_session=True)

    def kill(self):
        """SIGKILL the controller and everything it started (the module process too)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()

    def result(self, timeout=600):
        out, err = self.proc.communicate(timeout=timeout)
        try:
            doc = json.loads(out[out.index("{"):])
        except ValueError:
            raise AssertionError("no JSON from ansible-playbook:\n%s\n%s" % (out, err)) from None
        return doc["plays"][0]["tasks"][0]["hosts"]["localhost"]


def job_running(conn, name, min_bytes=0):
    """The source's migration job has started and moved at least min_bytes."""
    try:
        stats = conn.lookupByName(name).jobStats()
    except Exception:  # libvirtError: gone or no job
        return False
    return stats.get("type", 0) != 0 and stats.get("data_processed", 0) >= min_bytes
