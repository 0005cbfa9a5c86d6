# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""cloud-init seed ISOs: what cloud-init reads, mode 0600, rewritten only on a content change."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import subprocess

import pytest

from ansible_collections.kvcompute.libvirt.plugins.module_utils.converge import seed_iso
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.hostfs import HostFS
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec import manifest as mf
from tests.support import kubevirt_conformance as kc


def cirros_seed(image_dir="/seeds"):
    _spec, tr = mf.to_spec(kc.load("vm-cirros.yaml"), catalogue=kc.catalogue("/img"), image_dir=image_dir)
    return tr.seeds[0]


def test_nocloud_seed_reads_back(tmp_path):
    fs = HostFS(str(tmp_path))
    (tmp_path / "seeds").mkdir()
    seed = cirros_seed()
    assert seed_iso.needs_write(fs, seed)
    seed_iso.write(fs, seed)
    real = tmp_path / "seeds" / "vm-cirros-cloudinitdisk.cidata.iso"
    assert oct(os.stat(real).st_mode & 0o777) == "0o600"
    assert seed_iso.read(str(real)) == ("cidata", seed.files)
    assert not seed_iso.needs_write(fs, seed)


def test_a_content_change_needs_a_write_and_only_then(tmp_path):
    fs = HostFS(str(tmp_path))
    (tmp_path / "seeds").mkdir()
    seed = cirros_seed()
    seed_iso.write(fs, seed)
    before = os.stat(tmp_path / "seeds" / "vm-cirros-cloudinitdisk.cidata.iso").st_ino
    assert not seed_iso.needs_write(fs, seed)
    seed.files["user-data"] += b"\necho again\n"
    assert seed_iso.needs_write(fs, seed)
    seed_iso.write(fs, seed)
    assert os.stat(tmp_path / "seeds" / "vm-cirros-cloudinitdisk.cidata.iso").st_ino != before
    assert not seed_iso.needs_write(fs, seed)
    assert [p.name for p in (tmp_path / "seeds").iterdir()] == ["vm-cirros-cloudinitdisk.cidata.iso"]


def test_config_drive_layout(tmp_path):
    seed = cirros_seed()
    seed.label = "config-2"
    seed.files = {"openstack/latest/meta_data.json": b"{}", "openstack/latest/user_data": b"#cloud-config\n"}
    (tmp_path / "seeds").mkdir()
    seed_iso.write(HostFS(str(tmp_path)), seed)
    assert seed_iso.read(str(tmp_path / seed.path.lstrip("/"))) == ("config-2", seed.files)


@pytest.mark.skipif(shutil.which("isoinfo") is None, reason="isoinfo (genisoimage) not installed")
def test_cloud_init_finds_the_label_and_names(tmp_path):
    """What cloud-init's NoCloud datasource looks for: volume id cidata, files user-data and meta-data."""
    (tmp_path / "seeds").mkdir()
    seed = cirros_seed()
    seed_iso.write(HostFS(str(tmp_path)), seed)
    iso = str(tmp_path / seed.path.lstrip("/"))
    info = subprocess.run(["isoinfo", "-d", "-i", iso], capture_output=True, text=True, check=True).stdout
    assert "Volume id: cidata" in info
    listing = subprocess.run(["isoinfo", "-R", "-f", "-i", iso], capture_output=True, text=True, check=True).stdout
    assert sorted(listing.split()) == ["/meta-data", "/user-data"]


def test_a_foreign_file_is_not_a_seed(tmp_path):
    (tmp_path / "x.iso").write_bytes(b"not an iso")
    assert seed_iso.read(str(tmp_path / "x.iso")) is None
    assert seed_iso.read(str(tmp_path / "absent.iso")) is None


def test_missing_directory_is_an_error(tmp_path):
    with pytest.raises(OSError):
        seed_iso.write(HostFS(str(tmp_path)), cirros_seed("/nowhere"))
