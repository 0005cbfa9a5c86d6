# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Look on the host for what a spec refers to: image files, pool volumes, networks."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.virt import VirtError

QCOW2_MAGIC = b"QFI\xfb"


def image_format(fs, path):
    """'qcow2' or 'raw' from the file's first bytes; None when the file is absent."""
    if not fs.exists(path):
        return None
    with open(fs.real(path), "rb") as image:
        return "qcow2" if image.read(4) == QCOW2_MAGIC else "raw"


def probe(conn, fs, spec):
    found = {"files": {}, "volumes": {}, "volume_formats": {}, "networks": {}}
    for disk in spec.disks:
        if disk.pool:
            key = "%s/%s" % (disk.pool, disk.volume)
            try:
                path = conn.pool_volume_path(disk.pool, disk.volume)
            except VirtError:
                continue  # an unknown pool: plan names it
            found["volumes"][key] = path
            if path:
                found["volume_formats"][key] = image_format(fs, path)
        elif disk.path:
            found["files"][disk.path] = image_format(fs, disk.path)
            parent = disk.path.rsplit("/", 1)[0] or "/"
            found.setdefault("dirs", {})[parent] = fs.isdir(parent)
    if spec.kernel_boot is not None:
        for path in (spec.kernel_boot.kernel, spec.kernel_boot.initrd):
            if path:
                found["files"][path] = image_format(fs, path)
    if spec.tpm is not None and spec.tpm.encryption_secret:
        ref = spec.tpm.encryption_secret
        found.setdefault("secrets", {})[ref] = conn.secret(ref)
    for nic in spec.interfaces:
        if nic.type == "network":
            found["networks"][nic.source] = conn.network_exists(nic.source)
    return found
