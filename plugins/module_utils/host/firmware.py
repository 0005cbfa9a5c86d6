# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""QEMU firmware descriptors (docs/interop/firmware.json) and choosing one.

Search rules follow that spec: descriptors live in /usr/share/qemu/firmware
and /etc/qemu/firmware; a file in /etc replaces the one of the same name in
/usr/share (an empty one hides it); all files are then ordered by name, and
the first that fits wins (hence the numeric prefixes, 40- before 60-).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import json
import posixpath

# Lowest priority first: later directories override earlier ones by file name.
SEARCH_DIRS = ("/usr/share/qemu/firmware", "/etc/qemu/firmware")

# Unversioned machine aliases -> the versioned family they resolve to.
MACHINE_ALIAS_PREFIX = {"q35": "pc-q35-", "pc": "pc-i440fx-"}

# libvirt arch names -> QEMU's names in descriptors.
_ARCH = {"i686": "i386"}


class FirmwareError(ValueError):
    """No descriptor fits what was asked; the message names the option."""


def load_descriptors(fs, dirs=SEARCH_DIRS):
    """Every effective descriptor, in priority order, as plain dicts.

    Unreadable or invalid JSON files are skipped: one broken vendor file must
    not hide the others.
    """
    chosen = {}
    for d in dirs:
        for name in fs.listdir(d):
            if name.endswith(".json"):
                chosen[name] = "%s/%s" % (d, name)
    result = []
    for name in sorted(chosen):
        path = chosen[name]
        try:
            text = fs.read(path)
        except (OSError, IOError):
            continue
        if not text.strip():  # masked by an empty override
            continue
        try:
            raw = json.loads(text)
        except ValueError:
            continue
        if isinstance(raw, dict):
            result.append(_normalise(raw, path))
    return result


def _normalise(raw, path):
    mapping = raw.get("mapping") or {}
    device = mapping.get("device")
    if device == "flash":
        code = mapping.get("executable") or {}
        nvram = mapping.get("nvram-template") or {}
        code_file, code_format = code.get("filename"), code.get("format", "raw")
        vars_file, vars_format = nvram.get("filename"), nvram.get("format", "raw")
    else:  # memory / kernel: one file, no variable store
        code_file, code_format = mapping.get("filename"), "raw"
        vars_file, vars_format = None, None
    return {
        "path": path,
        "name": posixpath.basename(path),
        "description": raw.get("description", ""),
        "interfaces": list(raw.get("interface-types") or []),
        "device": device,
        "code": code_file,
        "format": code_format,
        "vars_template": vars_file,
        "vars_format": vars_format,
        "targets": [
            {"arch": t.get("architecture"), "machines": list(t.get("machines") or [])}
            for t in raw.get("targets") or []
        ],
        "features": list(raw.get("features") or []),
    }


def machine_matches(patterns, machine, aliases=None):
    """Does `machine` fit any of a descriptor's machine globs?

    An alias ('q35') is resolved through `aliases` (from capabilities) when
    given; otherwise it fits any glob that covers its versioned family
    ('pc-q35-*'), since the alias always resolves into that family.
    """
    if aliases and machine in aliases:
        machine = aliases[machine]
    for pattern in patterns:
        if fnmatch.fnmatchcase(machine, pattern):
            return True
        prefix = MACHINE_ALIAS_PREFIX.get(machine)
        if prefix and fnmatch.fnmatchcase(prefix, pattern[:len(prefix)]):
            return True
    return False


def _fits_target(desc, arch, machine, aliases):
    arch = _ARCH.get(arch, arch)
    return any(t["arch"] == arch and machine_matches(t["machines"], machine, aliases) for t in desc["targets"])


def _summary(d):
    targets = "; ".join("%s %s" % (t["arch"], ",".join(t["machines"])) for t in d["targets"])
    return "%s (%s; %s; features: %s)" % (
        d["path"], "/".join(d["interfaces"]), targets, ",".join(d["features"]) or "none")


def pick(descriptors, arch, machine, secure_boot, interface="uefi", aliases=None):
    """The descriptor to boot `machine` on `arch` with, as a dict the domain renderer uses.

    secure_boot=True needs 'secure-boot' and prefers 'enrolled-keys' (a guest
    that boots signed OSes out of the box); False needs a descriptor without
    'secure-boot' and prefers one without 'requires-smm'; None takes the first
    fit.  Among equals, descriptor priority (file name order) decides.
    """
    fitting = [d for d in descriptors if interface in d["interfaces"] and _fits_target(d, arch, machine, aliases)]
    if secure_boot is None:
        candidates = fitting
    elif secure_boot:
        candidates = [d for d in fitting if "secure-boot" in d["features"]]
        candidates.sort(key=lambda d: "enrolled-keys" not in d["features"])
    else:
        candidates = [d for d in fitting if "secure-boot" not in d["features"]]
        candidates.sort(key=lambda d: "requires-smm" in d["features"])
    if not candidates:
        field = "firmware.type" if not fitting or secure_boot is None else "firmware.secure_boot"
        asked = "%s firmware%s for %s machine %s" % (
            interface,
            "" if secure_boot is None else (" with secure boot" if secure_boot else " without secure boot"),
            arch, machine)
        available = "; ".join(_summary(d) for d in descriptors) or "none (no files in %s)" % ", ".join(SEARCH_DIRS)
        raise FirmwareError("%s: this host has no %s; descriptors available: %s" % (field, asked, available))
    d = candidates[0]
    return {
        "code": d["code"],
        "vars_template": d["vars_template"],
        "format": d["format"],
        "secure_boot": "secure-boot" in d["features"],
        "enrolled_keys": "enrolled-keys" in d["features"],
        "requires_smm": "requires-smm" in d["features"],
        "description": d["description"],
        "path": d["path"],
    }


def summarise(descriptors):
    """The facts view: what each descriptor offers, without mapping details."""
    return [
        {
            "path": d["path"],
            "description": d["description"],
            "interfaces": d["interfaces"],
            "code": d["code"],
            "vars_template": d["vars_template"],
            "format": d["format"],
            "targets": d["targets"],
            "features": d["features"],
        }
        for d in descriptors
    ]
