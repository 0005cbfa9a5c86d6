"""The main libvirtd as the testbed runs it (no systemd): its pid, whether it answers, restart it."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

LIBVIRTD_PID = Path("/run/libvirtd.pid")
URI = "qemu:///system"


def wait_until(what, condition, timeout=60, interval=0.2):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))
        time.sleep(interval)


def libvirtd_pid():
    try:
        return int(LIBVIRTD_PID.read_text().strip())
    except (OSError, ValueError):
        return None


def answers():
    return subprocess.run(["virsh", "-c", URI, "uri"], capture_output=True, check=False).returncode == 0


def start(timeout=60):
    if subprocess.run(["pgrep", "-x", "virtlogd"], capture_output=True, check=False).returncode != 0:
        subprocess.run(["virtlogd", "-d"], check=True)
    subprocess.run(["libvirtd", "-d"], check=True)
    wait_until("libvirtd to answer", answers, timeout)


def restart(sig=15, timeout=60):
    """Stop libvirtd with `sig` (15: clean, 9: killed), start it again, wait until it answers.
    Running guests keep running: QEMU processes do not depend on libvirtd."""
    pid = libvirtd_pid()
    assert pid, "no libvirtd pid in %s" % LIBVIRTD_PID
    os.kill(pid, sig)
    wait_until("libvirtd (pid %d) to exit" % pid, lambda: not Path("/proc/%d" % pid).exists(), timeout)
    if sig == 9:
        LIBVIRTD_PID.unlink(missing_ok=True)  # a killed daemon leaves its pidfile behind
    start(timeout)
    new = libvirtd_pid()
    assert new and new != pid
    return new
