# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""tpm: options -> spec -> XML -> parse back; merge; and kv_tpm's backup/restore/verify on a fake host tree."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import sys
import tarfile

import pytest

from ansible_collections.kvcompute.libvirt.plugins.module_utils.converge import tpm_state
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.merge import merge
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.parse import parse_options as parse_domain
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.render import render_tree, render_xml
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import parse as parse_xml
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import tostring
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.hostfs import HostFS
from ansible_collections.kvcompute.libvirt.plugins.module_utils.reconcile.classify import classify
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.errors import SpecError
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.export import to_options
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.options import parse_options

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_roundtrip import check_round_trip, resolved  # noqa: E402


@pytest.mark.parametrize("tpm", [{}, {"persistent": False}, {"persistent": True}, {"persistent": "yes"}])
def test_round_trip(tpm):
    spec, _plan, _xml = check_round_trip({"name": "t", "firmware": {"type": "efi"}, "tpm": tpm})
    assert spec.tpm is not None
    assert to_options(spec)["tpm"] == {"persistent": tpm.get("persistent") in (True, "yes"), "encryption_secret": None}


def test_no_tpm_by_default():
    spec, plan = resolved({"name": "t"})
    assert to_options(spec).get("tpm") is None
    assert parse_xml(render_xml(spec, plan)).find("devices/tpm") is None
    assert "tpm" not in parse_domain(render_xml(spec, plan))


def test_xml_persistent_is_crb_with_persistent_state():
    spec, plan = resolved({"name": "t", "tpm": {"persistent": True}})
    tpm = parse_xml(render_xml(spec, plan)).find("devices/tpm")
    assert tpm.get("model") == "tpm-crb"
    backend = tpm.find("backend")
    assert dict(backend.attrib) == {"type": "emulator", "version": "2.0", "persistent_state": "yes"}


def test_xml_non_persistent_is_tis_without_persistent_state():
    spec, plan = resolved({"name": "t", "tpm": {}})
    tpm = parse_xml(render_xml(spec, plan)).find("devices/tpm")
    assert tpm.get("model") == "tpm-tis"
    assert dict(tpm.find("backend").attrib) == {"type": "emulator", "version": "2.0"}


@pytest.mark.parametrize("tpm, where, words", [
    ({"persistent": "maybe"}, "tpm.persistent", "true or false"),
    ({"persistant": True}, "tpm.persistant", "did you mean 'persistent'"),
    ("yes", "tpm", "mapping"),
])
def test_bad_options_name_the_field(tpm, where, words):
    with pytest.raises(SpecError) as err:
        parse_options({"name": "t", "tpm": tpm})
    assert any(f == where and words in m for f, m in err.value.problems), err.value.problems


def test_libvirt_expanded_tpm_parses_back():
    xml = """<domain type='kvm'><name>t</name><os><type machine='pc-q35-7.2'>hvm</type></os><devices>
      <tpm model='tpm-crb'><backend type='emulator' version='2.0' persistent_state='yes'>
        <active_pcr_banks><sha256/></active_pcr_banks></backend><alias name='tpm0'/></tpm></devices></domain>"""
    assert parse_domain(xml)["tpm"] == {"persistent": True}


SECRET = "f3473733-444c-4fa8-b36b-999ec590dc45"


def test_encrypted_tpm_xml_and_round_trip():
    spec, plan, xml = check_round_trip({"name": "t", "tpm": {"persistent": True, "encryption_secret": SECRET}})
    backend = parse_xml(xml).find("devices/tpm/backend")
    assert backend.find("encryption").get("secret") == SECRET
    assert to_options(spec)["tpm"] == {"persistent": True, "encryption_secret": SECRET}


def secret_probe(found):
    return {"files": {}, "volumes": {}, "networks": {}, "secrets": {"db1-vtpm": found}}


def test_plan_pins_a_usage_name_to_the_uuid():
    spec, _plan = resolved({"name": "t", "tpm": {"persistent": True, "encryption_secret": "db1-vtpm"}},
                           probe=secret_probe({"uuid": SECRET, "usage": "vtpm"}))
    assert spec.tpm.encryption_secret == SECRET


@pytest.mark.parametrize("found, words", [
    (None, "no libvirt secret 'db1-vtpm' on this host"),
    ({"uuid": SECRET, "usage": "ceph"}, "has usage ceph; swtpm needs usage vtpm"),
])
def test_plan_refuses_a_missing_or_wrong_secret(found, words):
    with pytest.raises(SpecError) as err:
        resolved({"name": "t", "tpm": {"encryption_secret": "db1-vtpm"}}, probe=secret_probe(found))
    assert [f for f, m in err.value.problems if words in m] == ["tpm.encryption_secret"], err.value.problems


def test_bad_secret_reference_names_the_field():
    with pytest.raises(SpecError) as err:
        parse_options({"name": "t", "tpm": {"encryption_secret": "bad name!"}})
    assert err.value.problems[0][0] == "tpm.encryption_secret"


def test_merge_does_not_duplicate_or_keep_a_removed_tpm():
    spec, plan = resolved({"name": "t", "tpm": {"persistent": True}})
    old = render_tree(spec, plan)
    again = merge(render_tree(spec, plan), old)
    assert len(again.findall("devices/tpm")) == 1
    spec2, plan2 = resolved({"name": "t"})
    removed = merge(render_tree(spec2, plan2), old)
    assert removed.find("devices/tpm") is None


def test_adding_a_tpm_to_a_running_vm_is_restart_required():
    before = to_options(parse_options({"name": "t"}))
    after = to_options(parse_options({"name": "t", "tpm": {"persistent": True}}))
    changes, pending = classify(after, before, running=True, booted=before)
    assert [(c["field"], c["apply"]) for c in changes] == [("tpm", "restart")]
    assert pending == ["tpm"]


# --------------------------------------------------------------------------- kv_tpm logic

UUID = "0c4b5c1e-7a35-4d5e-9d1a-2f1e0c7e5a11"


def domain_xml(uuid=UUID, nvram=True, tpm=True):
    return tostring(parse_xml(
        "<domain type='qemu'><name>vm</name><uuid>%s</uuid><os><type>hvm</type>%s</os><devices>%s</devices></domain>" % (
            uuid, "<nvram>/var/lib/libvirt/qemu/nvram/vm_VARS.fd</nvram>" if nvram else "",
            "<tpm model='tpm-crb'><backend type='emulator' version='2.0' persistent_state='yes'/></tpm>" if tpm else "")))


class FakeConn:
    def __init__(self, state="shutoff", xml=None, pools=None):
        self._state, self.xml, self.pools, self.refreshed = state, xml or domain_xml(), pools or {}, []

    def state(self, name):
        return self._state

    def domain_xml(self, name, inactive=False):
        return self.xml

    def pool_xml(self, pool):
        kind, path = self.pools[pool]
        return "<pool type='%s'><name>%s</name><target><path>%s</path></target></pool>" % (kind, pool, path), True

    def refresh_pool(self, pool):
        self.refreshed.append(pool)


@pytest.fixture
def host(tmp_path):
    root = tmp_path / "host"
    fs = HostFS(str(root))
    nvram = root / "var/lib/libvirt/qemu/nvram"
    nvram.mkdir(parents=True)
    (nvram / "vm_VARS.fd").write_bytes(b"VARS" * 100)
    swtpm = root / "var/lib/libvirt/swtpm" / UUID / "tpm2"
    swtpm.mkdir(parents=True)
    (swtpm / "tpm2-00.permall").write_bytes(b"permall-1")
    return fs


def params(action, **kw):
    out = {"name": "vm", "action": action, "dest": None, "src": None, "pool": None, "volume": None}
    out.update(kw)
    return out


def test_backup_restore_verify_in_a_directory(host, tmp_path):
    conn, dest = FakeConn(), str(tmp_path / "backup")
    first = tpm_state.run(conn, host, params("backup", dest=dest), False)
    assert first["changed"] is True and first["files"] == ["nvram", "swtpm/tpm2/tpm2-00.permall"]
    for name in ("tpm-state.tar", "manifest.json"):
        assert os.stat(os.path.join(dest, name)).st_mode & 0o777 == 0o600
    assert tpm_state.run(conn, host, params("backup", dest=dest), False)["changed"] is False
    assert tpm_state.run(conn, host, params("verify", src=dest), False)["match"] is True
    assert tpm_state.run(conn, host, params("restore", src=dest), False)["changed"] is False

    permall = host.real("/var/lib/libvirt/swtpm/%s/tpm2/tpm2-00.permall" % UUID)
    with open(permall, "wb") as f:
        f.write(b"changed")
    verify = tpm_state.run(conn, host, params("verify", src=dest), False)
    assert verify["match"] is False and verify["differences"][0]["file"] == "swtpm/tpm2/tpm2-00.permall"
    predicted = tpm_state.run(conn, host, params("restore", src=dest), True)
    assert predicted["changed"] is True and open(permall, "rb").read() == b"changed"  # check mode
    assert tpm_state.run(conn, host, params("restore", src=dest), False)["changed"] is True
    assert open(permall, "rb").read() == b"permall-1"


def test_restore_into_another_uuid(host, tmp_path):
    dest = str(tmp_path / "b")
    tpm_state.run(FakeConn(), host, params("backup", dest=dest), False)
    other = "11111111-2222-3333-4444-555555555555"
    conn = FakeConn(xml=domain_xml(uuid=other))
    assert tpm_state.run(conn, host, params("restore", src=dest), False)["changed"] is True
    assert open(host.real("/var/lib/libvirt/swtpm/%s/tpm2/tpm2-00.permall" % other), "rb").read() == b"permall-1"


def test_backup_into_a_dir_pool(host, tmp_path):
    pool_dir = tmp_path / "pool"
    pool_dir.mkdir()
    conn = FakeConn(pools={"backups": ("dir", str(pool_dir)), "lvm": ("logical", "/dev/vg")})
    result = tpm_state.run(conn, host, params("backup", pool="backups", volume="vm.tar"), False)
    assert result["changed"] is True and conn.refreshed == ["backups"]
    with tarfile.open(str(pool_dir / "vm.tar")) as tar:
        assert tar.getnames()[0] == "manifest.json"
    assert os.stat(str(pool_dir / "vm.tar")).st_mode & 0o777 == 0o600
    again = tpm_state.run(conn, host, params("backup", pool="backups", volume="vm.tar"), False)
    assert again["changed"] is False
    assert tpm_state.run(conn, host, params("verify", pool="backups", volume="vm.tar"), False)["match"]
    with pytest.raises(tpm_state.TpmStateError, match="dir pools only"):
        tpm_state.run(conn, host, params("backup", pool="lvm", volume="vm.tar"), False)


@pytest.mark.parametrize("state, action, where, words", [
    ("running", "restore", {"src": "/nonexistent"}, "restore only into a stopped VM"),
    ("running", "backup", {"dest": "/tmp/x"}, "stop it before a backup"),
    ("shutoff", "restore", {"src": "/nonexistent/backup"}, "does not exist"),
    ("shutoff", "restore", {}, "is required"),
    ("shutoff", "rollback", {}, "action must be one of"),
    ("absent", "restore", {"src": "/tmp"}, "not defined"),
])
def test_refusals(host, state, action, where, words):
    with pytest.raises(tpm_state.TpmStateError, match=words):
        tpm_state.run(FakeConn(state=state), host, params(action, **where), False)


def test_restore_refuses_a_vm_without_persistent_tpm(host, tmp_path):
    dest = str(tmp_path / "b")
    tpm_state.run(FakeConn(), host, params("backup", dest=dest), False)
    with pytest.raises(tpm_state.TpmStateError, match="no persistent TPM"):
        tpm_state.run(FakeConn(xml=domain_xml(tpm=False)), host, params("restore", src=dest), False)


def test_damaged_archive_is_refused(host, tmp_path):
    dest = tmp_path / "b"
    tpm_state.run(FakeConn(), host, params("backup", dest=str(dest)), False)
    manifest = json.loads((dest / "manifest.json").read_text())
    manifest["files"]["nvram"]["sha256"] = "0" * 64
    archive = dest / "tpm-state.tar"
    with tarfile.open(str(archive)) as tar:
        members = dict((m.name, tar.extractfile(m).read()) for m in tar.getmembers())
    members["manifest.json"] = json.dumps(manifest).encode()
    with tarfile.open(str(archive), "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            import io
            tar.addfile(info, io.BytesIO(data))
    with pytest.raises(tpm_state.TpmStateError, match="damaged"):
        tpm_state.run(FakeConn(), host, params("restore", src=str(dest)), False)


def test_state_files_for_absent(host):
    assert tpm_state.existing_state_files(host, domain_xml()) == [
        "/var/lib/libvirt/qemu/nvram/vm_VARS.fd", "/var/lib/libvirt/swtpm/%s" % UUID]
    assert tpm_state.existing_state_files(host, domain_xml(uuid="99999999-2222-3333-4444-555555555555",
                                                           nvram=False)) == []
