"""Reliability: a role killed while it writes host files leaves no half-written config; the re-run repairs it.

The cpu_manager role on a fake host tree (its pools file, two systemd drop-ins, GRUB's defaults): a
reference run gives the converged tree. Then, for each point "k files written" (k = 0..all), a fresh tree
gets the role and the whole ansible-playbook process group is SIGKILLed as soon as k files have changed
(k = 1 .. all - 1: killed between writes, and racing the writes that follow).
Meanwhile the tree is read continuously: every managed file, whenever it is seen and after the kill, is
either as it was or as converged -- never in between (every writer replaces files atomically). The re-run
then gives exactly the converged tree, and one more run changes nothing.
"""

import os
import signal
import subprocess
from pathlib import Path

import pytest

from tests.integration.test_host_roles import GRUB, changed, failed, play
from tests.support.fake_host import make_host
from tests.support.libvirtd import wait_until

pytestmark = pytest.mark.integration


def tree(root):
    """{relative path: bytes} of every file under root."""
    root = Path(root)
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def role(root):
    return play("cpu_manager", cpu_manager_root=str(root), cpu_manager_reserved_cpus="0", cpu_manager_isolate=True)


def fresh(path):
    return make_host(path, cpus="0-3", grub=GRUB, systemd=True)


def test_role_killed_mid_write_is_repaired_by_the_rerun(_playbook_runner, run_playbook, tmp_path, record_property):
    pristine = tree(fresh(tmp_path / "pristine"))
    reference = fresh(tmp_path / "reference")
    results, rc = run_playbook(role(reference))
    assert rc == 0, failed(results)
    converged = tree(reference)
    managed = sorted(p for p in converged if converged[p] != pristine.get(p))
    assert len(managed) >= 4, managed  # pools file, two drop-ins, grub

    seen_states = 0
    for k in range(1, len(managed)):
        root = fresh(tmp_path / ("killed-at-%d" % k))

        def check():
            nonlocal seen_states
            now = tree(root)
            for path in managed:
                state = now.get(path)
                assert state in (pristine.get(path), converged[path]), "%s half-written: %r" % (path, state)
            seen_states += 1
            return sum(now.get(p) == converged[p] for p in managed)

        proc = subprocess.Popen(_playbook_runner.command(role(root)), cwd=str(_playbook_runner.tmp),
                                env=_playbook_runner.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        try:
            wait_until("%d of the role's files written" % k, lambda: check() >= k or proc.poll() is not None, 300,
                       interval=0.005)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
        check()

        results, rc = run_playbook(role(root))
        assert rc == 0, failed(results)
        repaired = tree(root)
        assert {p: repaired.get(p) for p in managed} == {p: converged[p] for p in managed}
    results, rc = run_playbook(role(root))
    assert rc == 0 and changed(results) == [], changed(results)
    record_property("tree_states_checked", seen_states)
