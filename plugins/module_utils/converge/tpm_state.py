# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A VM's state that must never be lost: its swtpm state directory and its UEFI NVRAM file.

Used by kv_vm (what `state: absent` keeps or removes) and by kv_tpm (backup,
restore, verify).  A backup is one tar archive (mode 0600) whose first member is
`manifest.json` (sha256, size and mode of every file); in a directory it also
sits beside the archive as `manifest.json`, so it can be read without the tar.

Archive members are relative to the state they came from -- `nvram` for the
NVRAM file, `swtpm/<path>` below the swtpm state directory -- so a backup can
be restored into a VM with another UUID (a re-defined one, or one on another host).
The archive format itself (tar + manifest, checksums) is in tpm_archive.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import os
import pwd
import re
import shutil
import tempfile

from ansible_collections.kvcompute.libvirt.plugins.module_utils.converge.tpm_archive import (
    ARCHIVE, FORMAT, MANIFEST, TpmStateError, archive_problems, checksums, manifest_file_matches, read_backup, write_archive,
    write_file)
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import attr, parse, text

SWTPM_ROOT = "/var/lib/libvirt/swtpm"
ACTIONS = ("backup", "restore", "verify")
RUNNING = ("running", "blocked", "paused", "pmsuspended", "shutdown")


# --------------------------------------------------------------------------- what a domain has


def locations(xml_text):
    """{'uuid', 'nvram' (path or None), 'swtpm' (dir), 'tpm' (has a TPM emulator), 'persistent_tpm'} of a domain."""
    root = parse(xml_text)
    uuid = text(root, "uuid")
    backend = root.find("devices/tpm/backend")
    return {
        "uuid": uuid,
        "nvram": text(root, "os/nvram"),
        "swtpm": "%s/%s" % (SWTPM_ROOT, uuid),
        "tpm": backend is not None and backend.get("type") == "emulator",
        "persistent_tpm": backend is not None and attr(root, "devices/tpm/backend", "persistent_state") == "yes",
    }


def existing_state_files(fs, xml_text):
    """The NVRAM file and swtpm state directory of a domain that exist on the host, in that order."""
    where = locations(xml_text)
    found = []
    if where["nvram"] and fs.exists(where["nvram"]):
        found.append(where["nvram"])
    if where["uuid"] and fs.isdir(where["swtpm"]):
        found.append(where["swtpm"])
    return found


def remove_leftovers(fs, paths):
    """After an undefine with purge: remove what libvirt left (a swtpm dir of a domain without a TPM now)."""
    for path in paths:
        real = fs.real(path)
        if os.path.isdir(real):
            shutil.rmtree(real)
        elif os.path.exists(real):
            os.unlink(real)


# --------------------------------------------------------------------------- reading state


def live_files(fs, where):
    """{member name: real path} of the state files present now."""
    out = {}
    if where["nvram"] and os.path.isfile(fs.real(where["nvram"])):
        out["nvram"] = fs.real(where["nvram"])
    swtpm = fs.real(where["swtpm"])
    if where["uuid"] and os.path.isdir(swtpm):
        for dirpath, dirnames, filenames in os.walk(swtpm):
            dirnames.sort()
            for name in sorted(filenames):
                if name == ".lock":  # swtpm's lock file: runtime, not state
                    continue
                full = os.path.join(dirpath, name)
                if os.path.isfile(full) and not os.path.islink(full):
                    out["swtpm/" + os.path.relpath(full, swtpm)] = full
    return out


# --------------------------------------------------------------------------- where the backup is


class Target:
    """Where a backup lives: a directory (archive + manifest beside it) or a file in a dir storage pool."""

    def __init__(self, archive, manifest=None, pool=None, volume=None):
        self.archive = archive
        self.manifest = manifest
        self.pool = pool
        self.volume = volume

    def describe(self):
        return {"archive": self.archive, "manifest": self.manifest, "pool": self.pool, "volume": self.volume}


def resolve_target(conn, params, for_write):
    """A Target from dest/src (a directory) or pool + volume."""
    key = "dest" if params["action"] == "backup" else "src"
    directory = params.get(key)
    pool, volume = params.get("pool"), params.get("volume")
    if directory and (pool or volume):
        raise TpmStateError("give either %s (a directory) or pool and volume, not both" % key)
    if bool(pool) != bool(volume):
        raise TpmStateError("pool and volume go together")
    if directory:
        if not os.path.isabs(directory):
            raise TpmStateError("%s must be an absolute path, got %r" % (key, directory))
        if not for_write and not os.path.isdir(directory):
            raise TpmStateError("%s: backup directory %s does not exist" % (key, directory))
        if os.path.exists(directory) and not os.path.isdir(directory):
            raise TpmStateError("%s: %s exists and is not a directory" % (key, directory))
        return Target(os.path.join(directory, ARCHIVE), os.path.join(directory, MANIFEST))
    if pool:
        if "/" in volume or volume in (".", ".."):
            raise TpmStateError("volume must be a plain file name, got %r" % volume)
        desc, active = conn.pool_xml(pool)
        root = parse(desc)
        if root.get("type") != "dir":
            raise TpmStateError("storage pool %s is of type %s; kv_tpm stores backups in dir pools only"
                                % (pool, root.get("type")))
        if not active:
            raise TpmStateError("storage pool %s is not active (virsh pool-start %s)" % (pool, pool))
        target = text(root, "target/path")
        if not target or not os.path.isdir(target):
            raise TpmStateError("storage pool %s: target directory %s does not exist" % (pool, target))
        return Target(os.path.join(target, volume), pool=pool, volume=volume)
    raise TpmStateError("%s (a directory) or pool and volume is required for action %s" % (key, params["action"]))


# --------------------------------------------------------------------------- actions


def run(conn, fs, params, check_mode):
    """Do one kv_tpm action; return the module result. Raises TpmStateError (nothing changed)."""
    action = params["action"]
    if action not in ACTIONS:
        raise TpmStateError("action must be one of %s, got %r" % (", ".join(ACTIONS), action))
    name = params["name"]
    state = conn.state(name)
    if state == "absent":
        raise TpmStateError("VM %s is not defined on this host%s" % (
            name, " (define it with kv_vm first, then restore)" if action == "restore" else ""))
    if state in RUNNING and action == "restore":
        raise TpmStateError("VM %s is %s: restore only into a stopped VM (kv_vm state: stopped first); "
                            "nothing was changed" % (name, state))
    if state in RUNNING and action == "backup":
        raise TpmStateError("VM %s is %s: swtpm and QEMU write the state while it runs; stop it before a backup"
                            % (name, state))
    where = locations(conn.domain_xml(name, inactive=True))
    target = resolve_target(conn, params, for_write=action == "backup")
    if action == "backup":
        return _backup(conn, fs, name, where, target, check_mode)
    if action == "restore":
        return _restore(fs, name, where, target, check_mode)
    return _verify(fs, name, state, where, target)


def _base(name, where, target):
    return {"name": name, "uuid": where["uuid"], "nvram": where["nvram"], "swtpm_dir": where["swtpm"],
            "backup": target.describe()}


def _backup(conn, fs, name, where, target, check_mode):
    files = live_files(fs, where)
    if not files:
        raise TpmStateError("VM %s has no TPM or NVRAM state on this host (looked for %s and %s)"
                            % (name, where["nvram"] or "an NVRAM file", where["swtpm"]))
    sums = checksums(files)
    manifest = {"format": FORMAT, "vm": name, "uuid": where["uuid"], "files": dict(
        (member, {"sha256": sums[member], "size": os.path.getsize(path), "mode": os.stat(path).st_mode & 0o7777})
        for member, path in files.items())}
    result = _base(name, where, target)
    result["files"] = sorted(files)
    result["checksums"] = sums
    try:
        old, contents = read_backup(target)
        same = old["files"] == manifest["files"] and not archive_problems(old, contents)
    except TpmStateError:
        same = False
    if same and (target.manifest is None or manifest_file_matches(target.manifest, old)):
        result["changed"] = False
        return result
    result["changed"] = True
    if check_mode:
        return result
    write_archive(target, manifest, files, where)
    if target.pool:
        conn.refresh_pool(target.pool)
    return result


def _compare(manifest, live):
    """Differences between the manifest's files and live checksums."""
    out = []
    for member in sorted(set(manifest["files"]) | set(live)):
        want = manifest["files"].get(member, {}).get("sha256")
        have = live.get(member)
        if want != have:
            out.append({"file": member, "backup": want, "live": have})
    return out


def _restore(fs, name, where, target, check_mode):
    manifest, contents = read_backup(target)
    problems = archive_problems(manifest, contents)
    if problems:
        raise TpmStateError("backup %s is damaged, nothing restored: %s" % (target.archive, "; ".join(problems)))
    has_swtpm = any(m.startswith("swtpm/") for m in manifest["files"])
    if has_swtpm and not where["persistent_tpm"]:
        raise TpmStateError("the backup holds TPM state but VM %s has no persistent TPM (kv_vm tpm: "
                            "{persistent: true}); nothing was changed" % name)
    if "nvram" in manifest["files"] and not where["nvram"]:
        raise TpmStateError("the backup holds an NVRAM file but VM %s has no NVRAM (kv_vm firmware: "
                            "{type: efi}); nothing was changed" % name)
    live = checksums(live_files(fs, where))
    if not has_swtpm:
        live = dict((m, s) for m, s in live.items() if not m.startswith("swtpm/"))
    if "nvram" not in manifest["files"]:
        live.pop("nvram", None)
    differences = _compare(manifest, live)
    result = _base(name, where, target)
    result["files"] = sorted(manifest["files"])
    result["checksums"] = dict((m, i["sha256"]) for m, i in manifest["files"].items())
    result["differences"] = differences
    result["changed"] = bool(differences)
    if not differences or check_mode:
        return result
    if "nvram" in manifest["files"]:
        _restore_nvram(fs.real(where["nvram"]), contents["nvram"], manifest["files"]["nvram"])
    if has_swtpm:
        _restore_swtpm(fs.real(where["swtpm"]), contents, manifest, swtpm_owner(fs))
    return result


def _owner_like(path, fallback_dir):
    """(uid, gid) of path, else of the directory it goes into."""
    for candidate in (path, fallback_dir):
        try:
            st = os.stat(candidate)
            return st.st_uid, st.st_gid
        except OSError:
            continue
    return None


def _restore_nvram(path, data, info):
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        raise TpmStateError("NVRAM directory %s does not exist" % directory)
    owner = _owner_like(path, directory)
    write_file(path, data, info.get("mode", 0o600) & 0o777 or 0o600)
    if owner and os.geteuid() == 0:
        os.chown(path, *owner)


def swtpm_owner(fs):
    """(uid, gid) swtpm runs as: qemu.conf's swtpm_user/swtpm_group, default tss (as libvirt)."""
    try:
        conf = fs.read("/etc/libvirt/qemu.conf")
    except (OSError, IOError):
        conf = ""
    found = {}
    for key in ("swtpm_user", "swtpm_group"):
        match = re.findall(r'^\s*%s\s*=\s*"([^"]+)"' % key, conf, re.M)
        found[key] = match[-1] if match else "tss"
    try:
        uid = int(found["swtpm_user"].lstrip("+")) if found["swtpm_user"].lstrip("+").isdigit() \
            else pwd.getpwnam(found["swtpm_user"]).pw_uid
        gid = int(found["swtpm_group"].lstrip("+")) if found["swtpm_group"].lstrip("+").isdigit() \
            else grp.getgrnam(found["swtpm_group"]).gr_gid
    except KeyError:
        return None
    return uid, gid


def _restore_swtpm(path, contents, manifest, owner):
    """Build the new state dir beside the old one, then swap: never a half-restored TPM.

    Laid out as libvirt does: the <uuid> dir root-owned 0711, what is below it owned by swtpm's user.
    """
    parent = os.path.dirname(path)
    if not os.path.isdir(parent):
        os.makedirs(parent, 0o711)
    new = tempfile.mkdtemp(prefix=".restore-", dir=parent)
    try:
        os.chmod(new, 0o711)
        for member, info in sorted(manifest["files"].items()):
            if not member.startswith("swtpm/"):
                continue
            dest = os.path.join(new, member[len("swtpm/"):])
            os.makedirs(os.path.dirname(dest), 0o700, exist_ok=True)
            # 0600 from the start: TPM state is never readable by others, not even for a moment.
            with os.fdopen(os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
                f.write(contents[member])
            os.chmod(dest, info.get("mode", 0o600) & 0o777 or 0o600)
        if owner and os.geteuid() == 0:
            for dirpath, _dirs, filenames in os.walk(new):
                if dirpath != new:
                    os.chown(dirpath, *owner)
                for name in filenames:
                    os.chown(os.path.join(dirpath, name), *owner)
        old = None
        if os.path.exists(path):
            old = tempfile.mkdtemp(prefix=".old-", dir=parent)
            os.rename(path, os.path.join(old, "state"))
        os.rename(new, path)
        new = None
        if old:
            shutil.rmtree(old)
    finally:
        if new and os.path.exists(new):
            shutil.rmtree(new)


def _verify(fs, name, state, where, target):
    manifest, contents = read_backup(target)
    problems = archive_problems(manifest, contents)
    live = checksums(live_files(fs, where))
    differences = _compare(manifest, live)
    result = _base(name, where, target)
    result.update(changed=False, files=sorted(manifest["files"]), differences=differences,
                  archive_problems=problems, match=not differences and not problems,
                  checksums=dict((m, i["sha256"]) for m, i in manifest["files"].items()))
    if state in RUNNING:
        result["warning"] = "VM %s is running: swtpm and QEMU may change the files meanwhile" % name
    return result
