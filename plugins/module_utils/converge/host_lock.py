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

import errno
import fcntl
import os
import time
from contextlib import contextmanager

from ansible_collections.kvcompute.libvirt.plugins.module_utils.virt import VirtError

LOCK_PATH = "run/kvcompute/allocate.lock"
TIMEOUT = 900


@contextmanager
def host_lock(root="/", timeout=TIMEOUT):
    """Hold an exclusive flock on <root>/run/kvcompute/allocate.lock for the block (VirtError after timeout s)."""
    path = os.path.join(root or "/", LOCK_PATH)
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except (IOError, OSError) as err:
                if err.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    raise VirtError("another kv_vm run has held %s for %ss; gave up waiting" % (path, timeout))
                time.sleep(0.05)  # flock has no timed wait; poll
        yield path
    finally:
        os.close(fd)  # closing the descriptor releases the lock
