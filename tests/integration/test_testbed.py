# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Self-test of the shared fixtures in tests/conftest.py."""

from __future__ import annotations

import uuid

import libvirt
import pytest

pytestmark = pytest.mark.libvirt

TINY_DOMAIN = """
<domain type='{virt_type}'>
  <name>{name}</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices/>
</domain>
"""


def test_libvirt_answers(libvirt_conn):
    assert libvirt_conn.getLibVersion() >= 9_000_000
    assert libvirt_conn.getURI().startswith("qemu")


def test_collection_importable():
    from ansible_collections.kvcompute.libvirt.plugins.module_utils import virt

    assert virt.DEFAULT_URI == "qemu:///system"


def test_run_module_ping(run_module):
    r = run_module("ansible.builtin.ping", {})
    assert r["ping"] == "pong", r
    assert not r.get("failed"), r


def test_run_playbook_results_and_rc(run_playbook):
    results, rc = run_playbook(
        [{"hosts": "localhost", "gather_facts": False, "tasks": [
            {"name": "one", "ansible.builtin.debug": {"msg": "{{ greeting }}"}},
            {"name": "two", "ansible.builtin.fail": {"msg": "boom"}},
        ]}],
        extra_vars={"greeting": "hi"},
    )
    assert [r["_task"] for r in results] == ["one", "two"]
    assert results[0]["msg"] == "hi"
    assert results[1]["failed"] and rc == 2


def test_vm_names_cleans_only_its_own(vm_names, libvirt_conn, host_snapshot, virt_type):
    mine = vm_names()
    assert mine.startswith("kvt-") and len(mine) == 12 and vm_names() != mine
    (vm_names.dir / "disk.img").write_bytes(b"")
    other = "kvt-keep-%s" % uuid.uuid4().hex[:8]  # not handed out by the factory
    ours = {mine, other}.__contains__  # others may share this libvirtd meanwhile
    before = host_snapshot(only=ours)
    libvirt_conn.defineXML(TINY_DOMAIN.format(virt_type=virt_type, name=other))
    try:
        dom = libvirt_conn.defineXML(TINY_DOMAIN.format(virt_type=virt_type, name=mine))
        dom.create()
        assert dom.isActive()
        files = vm_names.dir

        vm_names.cleanup()  # what teardown runs

        with pytest.raises(libvirt.libvirtError):
            libvirt_conn.lookupByName(mine)
        assert not files.exists()
        libvirt_conn.lookupByName(other)  # untouched
    finally:
        libvirt_conn.lookupByName(other).undefine()
    assert host_snapshot(only=ours) == before == {"names": [], "xml": {}}
