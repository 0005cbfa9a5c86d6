# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one small reader/writer of host files (sysfs, /proc, /dev, /etc, /usr/share).

Every path is an absolute host path joined under `root`, so tests point the
same code at a fake tree and a module can work on a chroot.  Paths handed
back (glob) are host paths again, ready to pass to read().
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob as _glob
import os
import tempfile

# Kernel attribute files cannot be replaced by rename: they are written in place.
_PSEUDO_FS = ("/sys/", "/proc/", "/dev/")


class HostFS:
    def __init__(self, root="/"):
        self.root = os.path.abspath(root or "/")

    def real(self, path):
        """The path on this machine for the host path `path`."""
        if not path.startswith("/"):
            raise ValueError("host paths must be absolute: %r" % path)
        return os.path.join(self.root, path.lstrip("/"))

    def host(self, real):
        """The host path for a path on this machine under root (inverse of real())."""
        rel = os.path.relpath(real, self.root)
        return "/" if rel == "." else "/" + rel

    def read(self, path):
        with open(self.real(path), "r") as f:
            return f.read()

    def read_int(self, path, default=None):
        """The integer in a one-value file (sysfs style), or default when absent or not a number."""
        try:
            return int(self.read(path).strip())
        except (OSError, IOError, ValueError):
            return default

    def exists(self, path):
        return os.path.exists(self.real(path))

    def isdir(self, path):
        return os.path.isdir(self.real(path))

    def link_name(self, path):
        """The last component of a symlink's target (sysfs 'driver', 'iommu_group'), or None."""
        try:
            return os.path.basename(os.readlink(self.real(path)))
        except (OSError, IOError):
            return None

    def resolve(self, path):
        """The host path a (symlinked) host path really is, e.g. an mdev's device directory."""
        return self.host(os.path.realpath(self.real(path)))

    def listdir(self, path):
        """Sorted entry names; an absent directory reads as empty (sysfs dirs come and go)."""
        try:
            return sorted(os.listdir(self.real(path)))
        except (OSError, IOError):
            return []

    def glob(self, pattern):
        """Sorted host paths matching a host-path glob."""
        return sorted(self.host(p) for p in _glob.glob(self.real(pattern)))

    def makedirs(self, path, mode=0o755):
        """Create a host directory and its parents (mode for the new ones); fine if it exists."""
        real = self.real(path)
        if not os.path.isdir(real):
            os.makedirs(real, mode)

    def remove(self, path):
        """Remove a host file; True when there was one."""
        try:
            os.unlink(self.real(path))
        except OSError:
            if os.path.lexists(self.real(path)):
                raise
            return False
        return True

    def write(self, path, text):
        """Write text to a host file.

        Regular files are replaced atomically (temp file in the same directory,
        then rename) keeping the old file's mode and owner, so a reader never
        sees half a file.  sysfs/procfs/dev attributes are written in place.
        """
        real = self.real(path)
        if any(path.startswith(p) for p in _PSEUDO_FS):
            with open(real, "w") as f:
                f.write(text)
            return
        directory = os.path.dirname(real)
        try:
            st = os.stat(real)
        except (OSError, IOError):
            st = None
        fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(real), dir=directory)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            if st is not None:
                os.chmod(tmp, st.st_mode & 0o7777)
                try:
                    os.chown(tmp, st.st_uid, st.st_gid)
                except (OSError, IOError):  # not root: keep our own ownership
                    pass
            else:
                os.chmod(tmp, 0o644)
            os.rename(tmp, real)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def open_rw_ok(self, path):
        """True when this process can open the path read-write (e.g. /dev/kvm)."""
        try:
            fd = os.open(self.real(path), os.O_RDWR)
        except (OSError, IOError):
            return False
        os.close(fd)
        return True
