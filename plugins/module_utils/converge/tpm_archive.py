# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kv_tpm backup archive on disk: a tar (mode 0600) of a VM's TPM/NVRAM state plus its manifest.

The first member is `manifest.json` (format, sha256, size and mode of every
file); in a directory it also sits beside the archive as `manifest.json`, so it
can be read without the tar.  Members are `nvram` and `swtpm/<path>`, relative
to the state they came from.  The backup/restore/verify flow is in tpm_state.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import io
import json
import os
import tarfile
import tempfile

ARCHIVE = "tpm-state.tar"
MANIFEST = "manifest.json"
FORMAT = 1


class TpmStateError(Exception):
    """A clear refusal; nothing was changed."""


# --------------------------------------------------------------------------- checksums


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checksums(files):
    return dict((member, sha256_file(path)) for member, path in sorted(files.items()))


# --------------------------------------------------------------------------- reading an archive


def read_backup(target):
    """(manifest, {member: bytes}) of an existing backup; TpmStateError when it is missing or damaged."""
    if not os.path.isfile(target.archive):
        raise TpmStateError("no backup archive at %s" % target.archive)
    try:
        with tarfile.open(target.archive, "r:") as tar:
            contents = {}
            for member in tar.getmembers():
                if not member.isfile():
                    continue
                _check_member_name(member.name)
                contents[member.name] = tar.extractfile(member).read()
    except (tarfile.TarError, OSError) as err:
        raise TpmStateError("cannot read backup archive %s: %s" % (target.archive, err))
    if MANIFEST not in contents:
        raise TpmStateError("backup archive %s has no %s" % (target.archive, MANIFEST))
    try:
        manifest = json.loads(contents.pop(MANIFEST).decode("utf-8"))
    except ValueError as err:
        raise TpmStateError("backup archive %s: unreadable manifest: %s" % (target.archive, err))
    if manifest.get("format") != FORMAT or not isinstance(manifest.get("files"), dict):
        raise TpmStateError("backup archive %s: unknown manifest format" % target.archive)
    return manifest, contents


def _check_member_name(name):
    if name == MANIFEST:
        return
    parts = name.split("/")
    if name.startswith("/") or ".." in parts or not (name == "nvram" or (parts[0] == "swtpm" and len(parts) > 1)):
        raise TpmStateError("backup archive holds an unexpected member %r" % name)


def archive_problems(manifest, contents):
    """Members whose bytes do not match the manifest (a damaged archive)."""
    problems = []
    for member, info in sorted(manifest["files"].items()):
        data = contents.get(member)
        if data is None:
            problems.append("%s: missing from the archive" % member)
        elif hashlib.sha256(data).hexdigest() != info["sha256"]:
            problems.append("%s: archive content does not match its manifest checksum" % member)
    for member in sorted(set(contents) - set(manifest["files"])):
        problems.append("%s: in the archive but not in the manifest" % member)
    return problems


# --------------------------------------------------------------------------- writing an archive


def manifest_file_matches(path, manifest):
    try:
        with open(path) as f:
            return json.load(f) == manifest
    except (OSError, IOError, ValueError):
        return False


def write_archive(target, manifest, files, where):
    directory = os.path.dirname(target.archive)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o700)
    manifest_bytes = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=".tpm-state.", dir=directory)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w:", format=tarfile.PAX_FORMAT) as tar:
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mode = len(manifest_bytes), 0o600
                tar.addfile(info, io.BytesIO(manifest_bytes))
                for member in sorted(files):
                    tar.add(files[member], arcname=member, recursive=False)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, target.archive)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    if target.manifest:
        write_file(target.manifest, manifest_bytes, 0o600)


def write_file(path, data, mode):
    fd, tmp = tempfile.mkstemp(prefix=".kv.", dir=os.path.dirname(path))
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
