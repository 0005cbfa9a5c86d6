# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/drain.yml and undrain.yml: every listed VM leaves the host, two at a time, and comes back."""

from __future__ import annotations

import json

import pytest

from migration_support import assert_kept_counting, start_counting_guest, ticks, where
from tests.conftest import REPO

pytestmark = [pytest.mark.integration, pytest.mark.libvirt, pytest.mark.migration, pytest.mark.guest,
              pytest.mark.tcg, pytest.mark.slow]


def test_drain_and_back(run_playbook, libvirt_conn, second_libvirt_uri, vm_names, two_hosts, shared_guest):
    import libvirt

    second = two_hosts.second
    names = [vm_names(), vm_names(), vm_names()]
    consoles = [start_counting_guest(libvirt_conn, n, shared_guest, two_hosts.shared_dir) for n in names]
    before = [ticks(c)[-1][0] for c in consoles]
    report = two_hosts.shared_dir / "drain.json"
    # drain_vms: this libvirtd is shared with other test runs, whose VMs must stay where they are.
    common = {"drain_dest_uri": second.uri, "drain_vms": names, "drain_parallel": 2,
              "drain_shared_paths": [str(second.shared)], "drain_report": str(report)}

    results, rc = run_playbook("- import_playbook: %s/playbooks/drain.yml\n" % REPO, extra_vars=common)
    assert rc == 0, [r.get("msg") for r in results if r.get("failed")]
    written = json.loads(report.read_text())
    assert [v["name"] for v in written["vms"]] == names and all(v["moved"] for v in written["vms"])
    assert all(v["downtime_ms"] is not None for v in written["vms"])
    assert oct(report.stat().st_mode)[-3:] == "600"
    conn2 = libvirt.open(second_libvirt_uri)
    try:
        assert [where(libvirt_conn, conn2, n) for n in names] == [("absent", "running")] * 3
        after = [assert_kept_counting(c, b) for c, b in zip(consoles, before)]

        back = dict(common, undrain_back_peer_uri=second.node1_peer_uri, undrain_migrate_uri="tcp://127.0.0.1")
        results, rc = run_playbook("- import_playbook: %s/playbooks/undrain.yml\n" % REPO, extra_vars=back)
        assert rc == 0, [r.get("msg") for r in results if r.get("failed")]
        assert [where(libvirt_conn, conn2, n) for n in names] == [("running", "absent")] * 3
    finally:
        conn2.close()
    for console, mark in zip(consoles, after):
        assert_kept_counting(console, mark)
