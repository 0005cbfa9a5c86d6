# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The two-host bed itself: a second libvirtd on 127.0.0.2 with its own identity and folders."""

from __future__ import annotations

import subprocess

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.libvirt, pytest.mark.migration]


def test_second_host_is_another_host(libvirt_conn, second_libvirt_uri, second_libvirt):
    import libvirt

    conn2 = libvirt.open(second_libvirt_uri)
    try:
        caps1, caps2 = libvirt_conn.getCapabilities(), conn2.getCapabilities()
        uuid1 = caps1.split("<uuid>")[1].split("<")[0]
        uuid2 = caps2.split("<uuid>")[1].split("<")[0]
        assert uuid1 != uuid2  # libvirt refuses to migrate between hosts with one UUID
        # Its own domain list: none of the first host's domains are defined there.
        assert not set(conn2.listDefinedDomains()) & set(libvirt_conn.listDefinedDomains())
    finally:
        conn2.close()
    # Idempotent start; the way back to the first host answers from inside the namespace.
    out = subprocess.run(["bash", "scripts/second_libvirtd.sh", "start"], capture_output=True, text=True, check=True)
    assert "already running" in out.stdout
    assert second_libvirt.shared.is_dir() and oct(second_libvirt.shared.stat().st_mode)[-3:] == "755"
