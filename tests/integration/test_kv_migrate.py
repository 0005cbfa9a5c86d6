# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kv_migrate on the two-host bed: a running guest moves and keeps counting, both modes, and back."""

from __future__ import annotations

import pytest

from migration_support import assert_kept_counting, start_counting_guest, ticks, where

pytestmark = [pytest.mark.integration, pytest.mark.libvirt, pytest.mark.migration, pytest.mark.guest,
              pytest.mark.tcg, pytest.mark.slow]


@pytest.fixture
def conn2(second_libvirt_uri):
    import libvirt

    conn = libvirt.open(second_libvirt_uri)
    yield conn
    conn.close()


@pytest.mark.parametrize("mode", ["peer2peer", "managed"])
def test_guest_keeps_counting_there_and_back(mode, run_module, libvirt_conn, conn2, vm_names, two_hosts,
                                             shared_guest):
    name = vm_names()
    second = two_hosts.second
    console = start_counting_guest(libvirt_conn, name, shared_guest, two_hosts.shared_dir)
    before = ticks(console)[-1][0]

    out = run_module("kv_migrate", {"name": name, "dest_uri": second.uri, "mode": mode,
                                    "shared_paths": [str(second.shared)]})
    assert not out.get("failed"), out.get("msg")
    assert out["changed"] and out["migration"]["phase"] == "Succeeded"
    assert where(libvirt_conn, conn2, name) == ("absent", "running")
    assert out["total_time_ms"] > 0 and out["data_transferred"] > 0 and out["iterations"] >= 1
    assert "downtime_ms" in out
    after = assert_kept_counting(console, before)

    again = run_module("kv_migrate", {"name": name, "dest_uri": second.uri, "mode": mode,
                                      "shared_paths": [str(second.shared)]})
    assert not again.get("failed") and not again["changed"], again.get("msg")

    # The way back: the second host's libvirtd reaches the first through its socket (peer2peer).
    back = {"uri": second.uri, "name": name, "dest_uri": "qemu:///system", "mode": mode,
            "migrate_uri": "tcp://127.0.0.1", "shared_paths": [str(second.shared)]}
    if mode == "peer2peer":
        back["dest_peer_uri"] = second.node1_peer_uri
    out = run_module("kv_migrate", back)
    assert not out.get("failed"), out.get("msg")
    assert where(libvirt_conn, conn2, name) == ("running", "absent")
    assert_kept_counting(console, after)
