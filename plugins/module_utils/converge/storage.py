# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Create the disk images a spec asks for and that do not exist yet."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.kvcompute.libvirt.plugins.module_utils.virt import VirtError


def create(conn, create_spec, run_command):
    """A new image, mode 0600 (it will hold guest data); never overwrites."""
    if create_spec.get("pool"):
        conn.create_pool_volume(create_spec["pool"], create_spec["volume"], create_spec["size"],
                                create_spec["format"])
        return
    path = create_spec["path"]
    if os.path.exists(path):
        raise VirtError("disks[%s]: %s appeared meanwhile; not overwriting it" % (create_spec["name"], path))
    parent = os.path.dirname(path)
    if not os.path.isdir(parent):
        raise VirtError("disks[%s].path: directory %s does not exist" % (create_spec["name"], parent))
    rc, _out, err = run_command(["qemu-img", "create", "-q", "-f", create_spec["format"], path,
                                 str(create_spec["size"])])
    if rc != 0:
        raise VirtError("disks[%s]: qemu-img create %s failed: %s" % (create_spec["name"], path, err.strip()))
    os.chmod(path, 0o600)
