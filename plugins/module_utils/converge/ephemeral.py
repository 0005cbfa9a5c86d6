# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Images that live and die with their VM (KubeVirt's emptyDisk, cloud-init seeds): removed on state absent.

Which ones they are comes from the declared spec in the domain's metadata
(`disks[].ephemeral`), so a bare `state: absent` finds them too.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain import metadata
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import parse


def images(fs, inactive_xml):
    """Host paths of the VM's ephemeral images that exist."""
    declared = metadata.read(parse(inactive_xml)) if inactive_xml else None
    paths = [d["path"] for d in (declared or {}).get("disks", []) if d.get("ephemeral") and d.get("path")]
    return [p for p in paths if fs.exists(p)]


def remove(fs, paths, done):
    for path in paths:
        try:
            os.unlink(fs.real(path))
        except FileNotFoundError:
            continue
        done.append("removed %s" % path)
