# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tiny Linux test guest and its serial console, shared by the integration tests and bench/.

  build_guest()   builds (scripts/guest/build.sh, cached in $REPO/.cache/guest) and returns a
                  LinuxGuest: kernel and initrd paths QEMU (libvirt-qemu) can read, and
                  ``.cmdline(**kv)`` / ``.kernel_boot(**kv)`` for kv_vm's kernel_boot option
  GuestConsole    polls a ``serial: {type: file}`` log; ``wait_for(cpus=2)`` and friends

The guest and its console protocol are described in docs/test-guest.md; the pytest
fixtures over these are in tests/integration/conftest.py.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import re
import shutil
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GUEST_BUILD = REPO / "scripts" / "guest" / "build.sh"
def _recipe():
    """build.sh's own recipe hash: each recipe gets its own cache dir, so checkouts of different
    guest recipes can share one .cache/guest without rebuilding over each other."""
    digest = hashlib.sha256()
    for name in ("build.sh", "init.sh"):
        digest.update((REPO / "scripts" / "guest" / name).read_bytes())
    return digest.hexdigest()[:16]


GUEST_CACHE = Path(os.environ.get("KV_TEST_GUEST_DIR", str(REPO / ".cache" / "guest" / ("r-" + _recipe()))))
# Where the guest files go when QEMU cannot reach GUEST_CACHE (a parent not traversable).
GUEST_SHARED = Path(os.environ.get("KV_TEST_VM_DIR", "/var/lib/libvirt/images")) / "kvt-guest"

# Always on the guest's command line (see docs/test-guest.md).
GUEST_BASE_CMDLINE = ("console=ttyS0", "memhp_default_state=online")

# Not anchored at the line start: a kernel message may still land before a line.
STATE_RE = re.compile(r"KVGUEST cpus=(\d+) memtotal_kb=(\d+) cmdline_marker=(\S+)")
READY_RE = re.compile(r"KVGUEST READY\b")


# --------------------------------------------------------------------------- guest files


def qemu_user():
    try:
        text = Path("/etc/libvirt/qemu.conf").read_text()
    except OSError:
        return "libvirt-qemu"
    found = re.findall(r'^\s*user\s*=\s*"([^"]+)"', text, re.M)
    return found[-1] if found else "libvirt-qemu"


def _reachable_by(path, user):
    """Can ``user`` read ``path`` (every parent traversable, the file readable)? By mode bits."""
    try:
        pw = pwd.getpwnam(user)
    except KeyError:
        return False
    if pw.pw_uid == 0:
        return True
    groups = set(os.getgrouplist(pw.pw_name, pw.pw_gid))

    def allowed(st, bits):  # bits: 4 read, 1 exec
        if st.st_uid == pw.pw_uid:
            return st.st_mode & (bits << 6)
        if st.st_gid in groups:
            return st.st_mode & (bits << 3)
        return st.st_mode & bits

    path = Path(path).resolve()
    try:
        for parent in reversed(path.parents):
            if not allowed(os.stat(parent), 1):
                return False
        return bool(allowed(os.stat(path), 4))
    except OSError:
        return False


def _copy_if_changed(src, dst):
    if dst.exists() and dst.read_bytes() == src.read_bytes():
        return
    tmp = dst.with_name(".%s.%d.tmp" % (dst.name, os.getpid()))
    shutil.copyfile(src, tmp)
    os.chmod(tmp, 0o644)
    os.replace(tmp, dst)  # atomic: xdist workers may race here


class LinuxGuest:
    """The test guest's files: ``kernel``, ``initrd`` (host paths QEMU can read), ``stamp``."""

    def __init__(self, kernel, initrd, stamp):
        self.kernel = Path(kernel)
        self.initrd = Path(initrd)
        self.stamp = dict(line.split("=", 1) for line in Path(stamp).read_text().splitlines() if "=" in line)

    @staticmethod
    def cmdline(*extra, **kv):
        """Kernel command line: the base options, then ``kv.KEY=VALUE`` for each keyword.

        ``cmdline(marker="abc", poweroff_after=3)`` ->
        'console=ttyS0 memhp_default_state=online kv.marker=abc kv.poweroff_after=3'.
        Positional ``extra`` words (e.g. 'quiet') are appended as they are.
        """
        words = list(GUEST_BASE_CMDLINE)
        for key, value in kv.items():
            value = str(value)
            if not value or re.search(r"\s", value):
                raise ValueError("kv.%s: a kernel command line value needs no spaces: %r" % (key, value))
            words.append("kv.%s=%s" % (key, value))
        words.extend(extra)
        return " ".join(words)

    def kernel_boot(self, *extra, **kv):
        """The kv_vm ``kernel_boot`` option for this guest."""
        return {"kernel": str(self.kernel), "initrd": str(self.initrd), "cmdline": self.cmdline(*extra, **kv)}


# --------------------------------------------------------------------------- serial console


def _parse_states(text):
    return [
        {"cpus": int(m.group(1)), "memtotal_kb": int(m.group(2)), "marker": m.group(3)}
        for m in STATE_RE.finditer(text)
    ]


class GuestConsoleTimeout(AssertionError):
    """wait_for() gave up; the message carries the condition and the log's tail."""


class GuestConsole:
    """The test guest's serial log (a libvirt ``<serial type='file'>``), read by polling.

    State lines ``KVGUEST cpus=N memtotal_kb=N cmdline_marker=X`` become dicts
    ``{'cpus': int, 'memtotal_kb': int, 'marker': str}``.
    """

    def __init__(self, path, poll_interval=0.2):
        self.path = Path(path)
        self.poll_interval = poll_interval

    def __str__(self):
        return str(self.path)

    def text(self):
        try:
            return self.path.read_bytes().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def mark(self):
        """Offset of the log's end now: ``wait_for(..., since=mark)`` ignores what came before."""
        return len(self.text())

    def ready(self, since=0):
        return READY_RE.search(self.text()[since:]) is not None

    def states(self, since=0):
        return _parse_states(self.text()[since:])

    def last_state(self, since=0):
        found = self.states(since)
        return found[-1] if found else None

    def tail(self, lines=40):
        return "\n".join(self.text().splitlines()[-lines:])

    def wait_for(self, condition=None, timeout=90, since=0, **expected):
        """Poll the log until ``condition`` holds; return the last matching state dict.

        ``condition``: a callable taking a state dict, or a regex (str or compiled)
        searched in the log text; keywords (``cpus=2``, ``marker='x'``) must equal the
        state's values. With neither, any state line will do. For a regex alone the
        log's last state dict (or None if there is none yet) is returned.
        Raises GuestConsoleTimeout with the log's tail after ``timeout`` seconds.
        """
        regex = None
        predicate = None
        if isinstance(condition, (str, re.Pattern)):
            regex = re.compile(condition, re.M) if isinstance(condition, str) else condition
        elif condition is not None:
            predicate = condition

        def matches(state):
            if any(state.get(k) != v for k, v in expected.items()):
                return False
            return predicate is None or predicate(state)

        deadline = time.monotonic() + timeout
        while True:
            text = self.text()[since:]
            if regex is None or regex.search(text):
                states = _parse_states(text)
                if regex is not None and predicate is None and not expected:
                    return states[-1] if states else None
                hits = [s for s in states if matches(s)]
                if hits:
                    return hits[-1]
            if time.monotonic() >= deadline:
                what = []
                if regex is not None:
                    what.append("regex %r" % regex.pattern)
                if predicate is not None:
                    what.append("predicate %s" % getattr(predicate, "__name__", predicate))
                if expected:
                    what.append("state %r" % expected)
                raise GuestConsoleTimeout(
                    "guest console %s: no %s within %ss; last state %r\n--- log tail\n%s"
                    % (self.path, " and ".join(what) or "state line", timeout, self.last_state(since), self.tail())
                )
            time.sleep(self.poll_interval)


def build_guest():
    """The tiny Linux test guest (kernel + busybox initramfs), built once and cached."""
    proc = subprocess.run([str(GUEST_BUILD), str(GUEST_CACHE)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError("scripts/guest/build.sh failed (rc=%d):\n%s%s" % (proc.returncode, proc.stdout, proc.stderr))
    files = {name: GUEST_CACHE / name for name in ("vmlinuz", "initrd.img", "stamp")}
    user = qemu_user()
    if not all(_reachable_by(files[n], user) for n in ("vmlinuz", "initrd.img")):
        # e.g. a checkout under a 0700 home: hand out copies in libvirt's images dir.
        GUEST_SHARED.mkdir(parents=True, exist_ok=True)
        os.chmod(GUEST_SHARED, 0o755)
        for name in ("vmlinuz", "initrd.img", "stamp"):
            _copy_if_changed(files[name], GUEST_SHARED / name)
            files[name] = GUEST_SHARED / name
        assert _reachable_by(files["vmlinuz"], user), "%s not readable by %s" % (files["vmlinuz"], user)
    return LinuxGuest(files["vmlinuz"], files["initrd.img"], files["stamp"])
