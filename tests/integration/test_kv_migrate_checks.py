# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kv_migrate's refusals, check mode, status and abort, on a tiny SeaBIOS guest (no Linux needed)."""

from __future__ import annotations

import subprocess

import pytest

from migration_support import Background, job_running, start_counting_guest, where
from tests.support.libvirtd import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.libvirt, pytest.mark.migration]


@pytest.fixture
def conn2(second_libvirt_uri):
    import libvirt

    conn = libvirt.open(second_libvirt_uri)
    yield conn
    conn.close()


def tiny(conn, name, virt_type, disk=None):
    disk_xml = ("<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='%s'/>"
                "<target dev='vda' bus='virtio'/></disk>" % disk) if disk else ""
    conn.defineXML("""<domain type='%s'><name>%s</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
      <os><type arch='x86_64' machine='q35'>hvm</type></os>
      <devices>%s<memballoon model='none'/></devices></domain>""" % (virt_type, name, disk_xml)).create()


def test_bad_input_changes_nothing(run_module, libvirt_conn, conn2, vm_names, virt_type, two_hosts):
    name = vm_names()
    tiny(libvirt_conn, name, virt_type)
    out = run_module("kv_migrate", {"name": name, "dest_uri": two_hosts.second.uri, "compression": "zstd",
                                    "completion_timeout_per_gib": 0})
    assert out["failed"] and {e["field"] for e in out["errors"]} == {"compression", "completion_timeout_per_gib"}
    assert where(libvirt_conn, conn2, name) == ("running", "absent")


def test_local_disk_refused_in_preflight_and_check_mode(run_module, libvirt_conn, conn2, vm_names, virt_type,
                                                        two_hosts):
    name = vm_names()
    disk = vm_names.dir / "root.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(disk), "64M"], check=True)
    tiny(libvirt_conn, name, virt_type, disk=disk)
    before = libvirt_conn.lookupByName(name).XMLDesc(0)
    out = run_module("kv_migrate", {"name": name, "dest_uri": two_hosts.second.uri})
    assert out["failed"] and "copy_storage: disk(s) vda (%s) are not on shared storage" % disk in out["msg"]
    assert where(libvirt_conn, conn2, name) == ("running", "absent")
    assert libvirt_conn.lookupByName(name).XMLDesc(0) == before

    checked = run_module("kv_migrate", {"name": name, "dest_uri": two_hosts.second.uri, "copy_storage": True},
                         check=True)
    assert not checked.get("failed") and checked["changed"], checked.get("msg")
    assert checked["preflight"]["copied_disks"] == ["vda"]
    assert where(libvirt_conn, conn2, name) == ("running", "absent")


@pytest.mark.guest
@pytest.mark.tcg
@pytest.mark.slow
def test_status_and_abort(_playbook_runner, run_module, libvirt_conn, conn2, vm_names, two_hosts, shared_guest):
    name = vm_names()
    # A guest with enough non-zero memory to keep a 1 MiB/s migration busy for a while.
    start_counting_guest(libvirt_conn, name, shared_guest, two_hosts.shared_dir, cmdline_extra="kv.dirty_mb=32")
    progress_dir = str(two_hosts.shared_dir / "progress")
    move = Background(_playbook_runner, {"name": name, "dest_uri": two_hosts.second.uri, "mode": "managed",
                                         "bandwidth_per_migration": "1Mi", "progress_dir": progress_dir}, "abort")
    try:
        wait_until("migration job on the source", lambda: job_running(libvirt_conn, name), 120)
        status = run_module("kv_migrate", {"name": name, "state": "status", "progress_dir": progress_dir})
        assert status["running"] and status["migration"]["phase"] == "Running", status
        assert status["migration"]["mode"] == "managed" and status["changed"] is False
        aborted = run_module("kv_migrate", {"name": name, "state": "aborted", "progress_dir": progress_dir})
        assert aborted["changed"] and not aborted["running"], aborted
        out = move.result()
    finally:
        move.kill()
    assert out["failed"] and "keeps running on qemu:///system" in out["msg"], out["msg"]
    assert where(libvirt_conn, conn2, name) == ("running", "absent")
    again = run_module("kv_migrate", {"name": name, "state": "aborted", "progress_dir": progress_dir})
    assert not again["changed"] and again["migration"]["phase"] == "Failed"
