# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""cloud-init seed ISOs (NoCloud `cidata`, ConfigDrive `config-2`), built with pycdlib.

A seed is rewritten only when its label or files differ from what the ISO on
disk holds (read back with pycdlib: the ISO's own timestamps never count), so
a re-run changes nothing. Seeds may hold passwords: mode 0600, written atomically.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import io
import os
import tempfile
import traceback

try:
    import pycdlib

    HAS_PYCDLIB = True
    PYCDLIB_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - reported by kv_vm when a manifest needs a seed
    HAS_PYCDLIB = False
    PYCDLIB_IMPORT_ERROR = traceback.format_exc()


def _iso9660_name(name, directory=False):
    """A level-3 ISO 9660 name for a cloud-init file name (the Rock Ridge and Joliet names are the real ones)."""
    clean = "".join(c if c.isalnum() else "_" for c in name.upper())[:30]
    return clean if directory else clean + ";1"


def build(label, files):
    """The ISO image bytes: volume label + files (path inside the ISO -> bytes)."""
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=3, vol_ident=label, joliet=3, rock_ridge="1.09")
    made = set()
    for path in sorted(files):
        parts = path.split("/")
        for depth in range(1, len(parts)):
            directory = "/".join(parts[:depth])
            if directory not in made:
                iso.add_directory(iso_path="/" + "/".join(_iso9660_name(p, True) for p in parts[:depth]),
                                  rr_name=parts[depth - 1], joliet_path="/" + directory)
                made.add(directory)
        data = files[path]
        iso_path = "/" + "/".join([_iso9660_name(p, True) for p in parts[:-1]] + [_iso9660_name(parts[-1])])
        iso.add_fp(io.BytesIO(data), len(data), iso_path=iso_path, rr_name=parts[-1], joliet_path="/" + path)
    out = io.BytesIO()
    iso.write_fp(out)
    iso.close()
    return out.getvalue()


def read(real_path):
    """(label, {path: bytes}) of a seed ISO on disk, or None when it is absent or not readable as one."""
    if not os.path.isfile(real_path):
        return None
    iso = pycdlib.PyCdlib()
    try:
        iso.open(real_path)
    except Exception:  # pylint: disable=broad-except  # pycdlib raises several types on foreign files
        return None
    try:
        label = iso.pvd.volume_identifier.decode("utf-8", "replace").strip()
        files = {}
        for root, _dirs, names in iso.walk(joliet_path="/"):
            for name in names:
                path = (root.rstrip("/") + "/" + name).lstrip("/")
                out = io.BytesIO()
                iso.get_file_from_iso_fp(out, joliet_path="/" + path)
                files[path] = out.getvalue()
        return label, files
    finally:
        iso.close()


def needs_write(fs, seed):
    """Whether the ISO at seed.path is missing or holds other content."""
    return read(fs.real(seed.path)) != (seed.label, seed.files)


def write(fs, seed):
    """Write the seed ISO, mode 0600, atomically (temp file in the same directory, then rename)."""
    real = fs.real(seed.path)
    directory = os.path.dirname(real)
    if not os.path.isdir(directory):
        raise OSError("cannot write %s: directory %s does not exist" % (seed.path, os.path.dirname(seed.path)))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".kv-seed-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(build(seed.label, seed.files))
        os.rename(tmp, real)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
