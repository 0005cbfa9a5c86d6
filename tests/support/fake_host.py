# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fake host tree (sysfs, proc, etc, boot) for the host modules and roles under an injectable root.

Only what this machine lacks or must not have changed by tests is faked: GRUB
and BLS files, systemd as PID 1, NUMA nodes, the hugepage pools of a test.
"""

from __future__ import annotations

from pathlib import Path

PAGE_KIB = (2048, 1048576)


def write(root, path, text):
    target = Path(root) / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    return target


def make_host(root, cpus="0-3", nodes=(0,), grub=None, bls=(), systemd=False,
              cmdline="BOOT_IMAGE=/vmlinuz-6.1.0 root=/dev/vda1 ro quiet\n",
              mounts="hugetlbfs /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0\n",
              fstab="hugetlbfs /dev/hugepages hugetlbfs pagesize=2M 0 0\n"):
    """Build the tree under root and return root (a Path)."""
    root = Path(root)
    write(root, "/sys/devices/system/cpu/online", cpus + "\n")
    for kib in PAGE_KIB:
        bases = ["/sys/kernel/mm/hugepages"] + ["/sys/devices/system/node/node%d/hugepages" % n for n in nodes]
        for base in bases:
            for name in ("nr_hugepages", "free_hugepages"):
                write(root, "%s/hugepages-%dkB/%s" % (base, kib, name), "0\n")
    write(root, "/proc/cmdline", cmdline)
    write(root, "/proc/mounts", mounts)
    write(root, "/proc/meminfo", "Hugepagesize:       2048 kB\n")
    write(root, "/etc/fstab", fstab)
    if grub is not None:
        write(root, "/etc/default/grub", grub)
    for name, text in bls:
        write(root, "/boot/loader/entries/" + name, text)
    if systemd:
        (root / "run/systemd/system").mkdir(parents=True, exist_ok=True)
    return root


def snapshot(root):
    """{path: bytes} of every file under root, to prove that nothing changed."""
    return {str(p): p.read_bytes() for p in sorted(Path(root).rglob("*")) if p.is_file()}
