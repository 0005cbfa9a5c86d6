# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a KubeVirt manifest translates into: kv_vm options, and where each came from.

`origins` maps every option path the translation wrote (`cpu.cores`,
`disks[1].path`) to the manifest path it was read from, so an error found
later (by parse_options, or by plan on the host) still names the manifest field.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional


@dataclass
class Seed:
    """A cloud-init seed ISO kv_vm writes for a cloudInitNoCloud / cloudInitConfigDrive volume."""
    disk: str  # the spec disk it backs
    path: str
    label: str  # ISO volume label: cidata (NoCloud) or config-2 (ConfigDrive)
    files: Dict[str, bytes] = field(default_factory=dict)  # path inside the ISO -> content


@dataclass
class Translation:
    kind: str
    options: dict = field(default_factory=dict)  # kv_vm spec options
    run: dict = field(default_factory=dict)  # kv_vm per-VM run options (shutdown_timeout, run_strategy)
    seeds: List[Seed] = field(default_factory=list)
    ignored: List[dict] = field(default_factory=list)  # [{field, reason}]
    origins: Dict[str, str] = field(default_factory=dict)
    root: str = "spec"  # the manifest path of the VMI spec
    catalogue: object = None  # manifest_volumes.Catalogue
    autoattach_pod: bool = True  # KubeVirt's devices.autoattachPodInterface
    extra: Optional[dict] = None  # kv_vm options from the OPTIONS_ANNOTATION
    extra_origin: str = ""

    def note(self, option_path, manifest_path):
        self.origins[option_path] = manifest_path

    def item(self, option, i, f):
        """Record where list item `option[i]` and its name come from; returns its option path."""
        path = "%s[%d]" % (option, i)
        self.note(path, f.where(None))
        self.note(path + ".name", f.where("name"))
        return path

    def where(self, option_field):
        """The manifest path of an option field: its own origin, else its nearest recorded parent's."""
        path = option_field
        while path:
            if path in self.origins:
                return self.origins[path]
            path = _parent(path)
        return "%s (kv_vm option %s)" % (self.root, option_field)


def _parent(path):
    match = re.match(r"^(.*)(\.[^.\[\]]+|\[[^\]]*\])$", path)
    return match.group(1) if match else ""


def remap(translation, problems):
    """(option field, message) pairs -> (manifest path, message) pairs."""
    out = []
    for fld, message in problems:
        if message.startswith("unknown option"):
            message = "maps to kv_vm option %r, which this version of kv_vm does not support yet" % fld
        out.append((translation.where(fld), message))
    return out


def seed_for(seeds, disk_name) -> Optional[Seed]:
    for seed in seeds:
        if seed.disk == disk_name:
            return seed
    return None
