# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The libvirt_host role's run-strategy service on this host (no systemd): installed, started as a daemon,
idempotent, truthful in check mode, restarted when its files change.

Only the role's run-strategy tasks run (tag libvirt_host_runstrategy), into a tmp dir, and the service is
limited to a domain that does not exist: the shared libvirtd's VMs are none of its business here.
"""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.libvirt]


@pytest.fixture
def role_vars(tmp_path, libvirt_uri):
    where = tmp_path / "runstrategy"
    role_vars = {
        "libvirt_host_uri": libvirt_uri,
        "libvirt_host_python_venv": "",
        "libvirt_host_runstrategy_dir": str(where),
        "libvirt_host_runstrategy_python": sys.executable,
        "libvirt_host_runstrategy_pid_file": str(tmp_path / "kv-runstrategy.pid"),
        "libvirt_host_runstrategy_log_file": str(tmp_path / "kv-runstrategy.log"),
        "libvirt_host_runstrategy_only": ["kvt-none-%s" % uuid.uuid4().hex[:8]],
    }
    yield role_vars
    subprocess.run([sys.executable, str(where / "kv-runstrategy"), "--stop", "--pid-file",
                    role_vars["libvirt_host_runstrategy_pid_file"]], check=False, capture_output=True)


def play(role_vars):
    return [{"hosts": "localhost", "gather_facts": False,
             "roles": [{"role": "kvcompute.libvirt.libvirt_host", "vars": role_vars}]}]


def failed(results):
    return [r for r in results if r.get("failed")]


def changed_tasks(results):
    assert not failed(results), failed(results)
    return [r["_task"].split(" : ", 1)[-1] for r in results if r.get("changed")]


def service_status(role_vars):
    return subprocess.run([sys.executable, role_vars["libvirt_host_runstrategy_dir"] + "/kv-runstrategy", "--status",
                           "--pid-file", role_vars["libvirt_host_runstrategy_pid_file"]],
                          capture_output=True, text=True, check=False)


def test_role_runs_the_service_idempotently(run_playbook, role_vars, monkeypatch):
    monkeypatch.setenv("ANSIBLE_RUN_TAGS", "libvirt_host_runstrategy")
    check, rc = run_playbook(play(role_vars), check=True)
    assert rc == 0, failed(check)
    assert "Start the run-strategy service (daemon with a pid file)" in changed_tasks(check)
    assert service_status(role_vars).returncode != 0  # check mode installed and started nothing

    first, rc = run_playbook(play(role_vars))
    assert rc == 0, failed(first)
    assert set(changed_tasks(first)) >= {"Install the run-strategy service and its decision policy",
                                         "Start the run-strategy service (daemon with a pid file)"}
    status = service_status(role_vars)
    assert status.returncode == 0 and "running (pid" in status.stdout, status
    log = role_vars["libvirt_host_runstrategy_log_file"]
    with open(log) as handle:
        assert "only %s" % role_vars["libvirt_host_runstrategy_only"][0] in handle.read()

    again, rc = run_playbook(play(role_vars))
    assert rc == 0 and changed_tasks(again) == [], failed(again)
    recheck, rc = run_playbook(play(role_vars), check=True)
    assert rc == 0 and changed_tasks(recheck) == [], failed(recheck)

    # New files (an upgrade of the collection): the running daemon is replaced by one that runs them.
    pid = status.stdout.split("pid ")[1].rstrip(")\n")
    with open(role_vars["libvirt_host_runstrategy_dir"] + "/kv-runstrategy", "a") as handle:
        handle.write("# an older copy\n")
    upgraded, rc = run_playbook(play(role_vars))
    assert rc == 0, failed(upgraded)
    assert {"Stop the run-strategy service to run its new files",
            "Start the run-strategy service (daemon with a pid file)"} <= set(changed_tasks(upgraded))
    status = service_status(role_vars)
    assert status.returncode == 0 and "pid %s)" % pid not in status.stdout, status
