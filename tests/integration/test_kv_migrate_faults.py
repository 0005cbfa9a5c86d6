# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kv_migrate when things go wrong: a destination that dies, a controller that dies, a guest too busy."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

from migration_support import Background, assert_kept_counting, job_running, start_counting_guest, ticks, where
from tests.support.libvirtd import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.libvirt, pytest.mark.migration, pytest.mark.guest,
              pytest.mark.tcg, pytest.mark.slow]

# A guest that rewrites 64 MiB of non-zero memory in a loop, and the cap that cannot keep up with it.
DIRTY = "kv.dirty_mb=32"
TIGHT = "4Mi"


@pytest.fixture
def conn2(second_libvirt_uri):
    import libvirt

    conn = libvirt.open(second_libvirt_uri)
    yield conn
    conn.close()


def args(name, second, **kw):
    out = {"name": name, "dest_uri": second.uri, "shared_paths": [str(second.shared)]}
    out.update(kw)
    return out


def test_destination_dies_mid_migration(_playbook_runner, libvirt_conn, conn2, vm_names, two_hosts, shared_guest):
    """The VM stays running on the source, and is defined exactly once across both hosts."""
    name = vm_names()
    second = two_hosts.second
    console = start_counting_guest(libvirt_conn, name, shared_guest, two_hosts.shared_dir, cmdline_extra=DIRTY)
    console.wait_for("KVGUEST DIRTY", timeout=120)
    before = ticks(console)[-1][0]
    move = Background(_playbook_runner, args(name, second, bandwidth_per_migration=TIGHT), "dest-dies")
    try:
        wait_until("migration job on the source", lambda: job_running(libvirt_conn, name, 2 ** 20), 120)
        os.kill(second.libvirtd_pid(), signal.SIGKILL)
        out = move.result()
    finally:
        move.kill()
        subprocess.run(["bash", "scripts/second_libvirtd.sh", "start"], check=True, capture_output=True)
    assert out.get("failed") and "keeps running on qemu:///system" in out["msg"], out.get("msg")
    assert out["migration"]["phase"] == "Failed"
    # The restarted destination drops the half-received VM; nothing is left over there.
    wait_until("one running copy", lambda: where(libvirt_conn, conn2, name) == ("running", "absent"), 60)
    assert_kept_counting(console, before)


@pytest.mark.parametrize("mode, moved, bandwidth", [("peer2peer", True, "16Mi"), ("managed", False, "2Mi")])
def test_controller_killed(mode, moved, bandwidth, _playbook_runner, libvirt_conn, conn2, vm_names, two_hosts,
                           shared_guest):
    """peer2peer: libvirt finishes without the controller; managed: the migration is undone.

    The peer2peer cap leaves room to converge under the 500 ms limit libvirt keeps without its watcher."""
    name = vm_names()
    second = two_hosts.second
    console = start_counting_guest(libvirt_conn, name, shared_guest, two_hosts.shared_dir)
    before = ticks(console)[-1][0]
    # Slow enough to kill the controller in the middle (the guest holds ~40 MiB of non-zero memory).
    move = Background(_playbook_runner, args(name, second, mode=mode, bandwidth_per_migration=bandwidth), mode)
    try:
        wait_until("migration job on the source", lambda: job_running(libvirt_conn, name, 2 ** 20), 120)
    finally:
        move.kill()
    expected = ("absent", "running") if moved else ("running", "absent")
    wait_until("VM %s after the controller died" % ("moved" if moved else "kept"),
               lambda: where(libvirt_conn, conn2, name) == expected, 240)
    assert_kept_counting(console, before)


@pytest.fixture
def userfaultfd():
    """Post-copy needs userfaultfd for QEMU (not root here): vm.unprivileged_userfaultfd=1, restored after."""
    path = "/proc/sys/vm/unprivileged_userfaultfd"
    with open(path) as handle:
        old = handle.read().strip()
    with open(path, "w") as handle:
        handle.write("1")
    yield
    with open(path, "w") as handle:
        handle.write(old)


@pytest.mark.parametrize("policy, completes", [
    ({"completion_timeout_per_gib": 120}, False),
    # Throttled hard from the start: the guest slows to what the cap carries, without a long ramp.
    ({"completion_timeout_per_gib": 600, "allow_auto_converge": True, "auto_converge_initial": 90,
      "auto_converge_increment": 9}, True),
    ({"completion_timeout_per_gib": 120, "allow_post_copy": True}, True),
], ids=["defaults", "auto_converge", "post_copy"])
def test_busy_guest(policy, completes, run_module, libvirt_conn, conn2, vm_names, two_hosts, shared_guest,
                    userfaultfd):
    name = vm_names()
    second = two_hosts.second
    console = start_counting_guest(libvirt_conn, name, shared_guest, two_hosts.shared_dir, cmdline_extra=DIRTY)
    console.wait_for("KVGUEST DIRTY", timeout=120)
    before = ticks(console)[-1][0]
    # 0.25 GiB × 120 s/GiB: 30 s to finish (the defaults but for the timeout and a tight bandwidth).
    out = run_module("kv_migrate", args(name, second, bandwidth_per_migration=TIGHT, **policy))
    if completes:
        assert not out.get("failed"), out.get("msg")
        assert where(libvirt_conn, conn2, name) == ("absent", "running")
        if policy.get("allow_post_copy"):
            assert out["migration"]["post_copy"] is True
    else:
        assert out.get("failed") and "completion timeout" in out["msg"], out.get("msg")
        assert where(libvirt_conn, conn2, name) == ("running", "absent")
    assert_kept_counting(console, before)
