# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared libvirtd of the test bed (no systemd: started as ``libvirtd -d``), and waiting on conditions.

  wait_until(what, condition, timeout)   poll condition() until true, else AssertionError naming `what`
  answers(uri)                           does ``virsh uri`` answer
  restart_libvirtd(uri, timeout)         SIGTERM to /run/libvirtd.pid, ``libvirtd -d``, wait until it answers;
                                         running QEMU processes survive it (libvirtd reconnects to them)
  ensure_libvirtd(uri)                   start it if it does not answer (a failed test must not leave it down)
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

LIBVIRTD_PID = Path("/run/libvirtd.pid")


def wait_until(what, condition, timeout=60, interval=0.1):
    """Poll until condition() returns something true; return it."""
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))
        time.sleep(interval)


def libvirtd_pid():
    try:
        return int(LIBVIRTD_PID.read_text().strip())
    except (OSError, ValueError):
        return None


def answers(uri="qemu:///system"):
    return subprocess.run(["virsh", "-c", uri, "uri"], capture_output=True, check=False).returncode == 0


def restart_libvirtd(uri="qemu:///system", timeout=60):
    """Restart the libvirtd the test bed started by hand; return (old pid, new pid)."""
    if Path("/run/systemd/system").is_dir():
        raise AssertionError("restart_libvirtd restarts a libvirtd started without systemd (TESTBED)")
    pid = libvirtd_pid()
    assert pid, "no libvirtd pid in %s" % LIBVIRTD_PID
    os.kill(pid, 15)
    wait_until("libvirtd (pid %d) to exit" % pid, lambda: not Path("/proc/%d" % pid).exists(), timeout)
    if subprocess.run(["pgrep", "-x", "virtlogd"], capture_output=True, check=False).returncode != 0:
        subprocess.run(["virtlogd", "-d"], check=True)
    subprocess.run(["libvirtd", "-d"], check=True)
    wait_until("libvirtd to answer", lambda: answers(uri), timeout)
    new = libvirtd_pid()
    assert new and new != pid
    return pid, new


def ensure_libvirtd(uri="qemu:///system", timeout=60):
    if not answers(uri):
        subprocess.run(["libvirtd", "-d"], check=False)
        wait_until("libvirtd to answer", lambda: answers(uri), timeout)
