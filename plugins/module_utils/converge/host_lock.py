# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One host-wide lock around allocate + define.

Allocations (devices, VSOCK CIDs, dedicated CPUs) are read from the defined
domains; two kv_vm runs on one host must not both see a device free and both
define a VM holding it.  flock: released by the kernel when the process dies.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fcntl
import os
from contextlib import contextmanager

LOCK_PATH = "run/kvcompute/allocate.lock"


@contextmanager
def host_lock(root="/"):
    """Hold an exclusive flock on <root>/run/kvcompute/allocate.lock for the duration of the block."""
    path = os.path.join(root or "/", LOCK_PATH)
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield path
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
