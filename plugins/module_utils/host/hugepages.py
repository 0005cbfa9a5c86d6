# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reserve hugepages now (sysfs) and for every boot, and keep hugetlbfs mounted.

Now: the count is written to nr_hugepages (per NUMA node, or the global file
the kernel spreads over the nodes), then read back: the kernel grants what it
can find in contiguous free memory, possibly fewer.
At boot (the choice, documented in docs/host-roles.md):
  * 2Mi pages: vm.nr_hugepages in a sysctl.d file.  It counts pages of the
    kernel's default size, which stays 2Mi because 1Gi pages never set
    default_hugepagesz.  A sysctl runs late enough that 2Mi pages are found.
  * 1Gi pages: only the kernel can find them, early at boot, so they are kernel
    arguments `hugepagesz=1G hugepages=<n | node:n,...>` (kernel_args).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.kvcompute.libvirt.plugins.module_utils.host import kernel_args

SIZES = {"2Mi": 2048, "1Gi": 1048576}
MOUNT_OPTION = {"2Mi": "2M", "1Gi": "1G"}
DEFAULT_MOUNTS = {"2Mi": "/dev/hugepages", "1Gi": "/dev/hugepages1G"}
SYSCTL_FILE = "/etc/sysctl.d/80-kvcompute-hugepages.conf"
NODE_DIR = "/sys/devices/system/node"
GLOBAL_DIR = "/sys/kernel/mm/hugepages"
LIBVIRTD_PID = "/run/libvirtd.pid"
ALL_NODES = "all"


class HugepagesError(ValueError):
    """Bad input, or the kernel granted fewer pages; the message says what and where."""


def numa_nodes(fs):
    return sorted(int(m.group(1)) for m in (re.match(r"^node([0-9]+)$", e) for e in fs.listdir(NODE_DIR)) if m)


def _pool_dir(node, kib):
    base = GLOBAL_DIR if node == ALL_NODES else "%s/node%s/hugepages" % (NODE_DIR, node)
    return "%s/hugepages-%dkB" % (base, kib)


def _read(fs, node, kib):
    d = _pool_dir(node, kib)
    return fs.read_int(d + "/nr_hugepages", 0), fs.read_int(d + "/free_hugepages", 0)


def requests(fs, size, count=None, nodes=None):
    """Validate the request: [(node, wanted count)]; node 'all' is the global pool."""
    if size not in SIZES:
        raise HugepagesError("size: %r is not one of %s" % (size, ", ".join(sorted(SIZES))))
    kib = SIZES[size]
    if (count is None) == (nodes is None):
        raise HugepagesError("give either count (all nodes) or nodes (a count per NUMA node)")
    if not fs.isdir(_pool_dir(ALL_NODES, kib)):
        raise HugepagesError("size: this kernel offers no %s pages (no %s)" % (size, fs.real(_pool_dir(ALL_NODES, kib))))
    if count is not None:
        if not isinstance(count, int) or count < 0:
            raise HugepagesError("count: %r is not a number of pages >= 0" % (count,))
        return [(ALL_NODES, count)]
    existing = numa_nodes(fs)
    problems, result = [], []
    for raw, n in sorted(nodes.items(), key=lambda kv: str(kv[0])):
        node = str(raw)
        if not node.isdigit() or int(node) not in existing:
            problems.append("nodes: %r is not a NUMA node of this host (nodes: %s)"
                            % (raw, ", ".join(str(x) for x in existing) or "none"))
        elif not isinstance(n, int) or n < 0:
            problems.append("nodes[%s]: %r is not a number of pages >= 0" % (node, n))
        else:
            result.append((str(int(node)), n))
    if problems:
        raise HugepagesError("; ".join(problems))
    return sorted(result, key=lambda r: int(r[0]))


def reserve(fs, size, wanted, allow_partial=False, check_mode=False):
    """Set the counts now and read back what the kernel granted.

    Returns (entries, warnings).  When the kernel grants fewer and partial
    grants are not allowed, the previous counts are written back and
    HugepagesError says what was asked for and what was granted.
    """
    kib = SIZES[size]
    entries = []
    for node, n in wanted:
        before, free = _read(fs, node, kib)
        entries.append({"node": node, "size": size, "requested": n, "before": before,
                        "granted": before, "free": free, "changed": before != n})
    if check_mode:
        for e in entries:
            e["granted"] = None if e["changed"] else e["before"]
        return entries, []
    for e in entries:
        if e["changed"]:
            fs.write(_pool_dir(e["node"], kib) + "/nr_hugepages", "%d\n" % e["requested"])
            e["granted"], e["free"] = _read(fs, e["node"], kib)
    short = ["node %s: asked for %d %s pages, the kernel granted %d" % (e["node"], e["requested"], size, e["granted"])
             for e in entries if e["granted"] < e["requested"]]
    if short and not allow_partial:
        for e in entries:
            if e["changed"]:
                fs.write(_pool_dir(e["node"], kib) + "/nr_hugepages", "%d\n" % e["before"])
        raise HugepagesError(
            "%s (not enough contiguous free memory); the previous counts are back (%s). "
            "Reserve at boot (persistent) or set allow_partial"
            % ("; ".join(short), ", ".join("node %s: %d" % (e["node"], e["before"]) for e in entries)))
    return entries, short


# --------------------------------------------------------------------------- at boot


def _default_size_kib(fs):
    try:
        m = re.search(r"^Hugepagesize:\s+([0-9]+) kB", fs.read("/proc/meminfo"), re.M)
    except (OSError, IOError):
        return None
    return int(m.group(1)) if m else None


def sysctl_text(total):
    return ("# Managed by kvcompute.libvirt (kv_hugepages): 2Mi hugepages reserved at boot.\n"
            "vm.nr_hugepages = %d\n" % total)


def boot_kernel_args(wanted):
    """(present, absent) kernel arguments for 1Gi pages at boot."""
    if all(n == 0 for _node, n in wanted):
        return [], ["hugepagesz", "hugepages"]
    if wanted[0][0] == ALL_NODES:
        spec = str(wanted[0][1])
    else:
        spec = ",".join("%s:%d" % (node, n) for node, n in wanted)
    return ["hugepagesz=1G", "hugepages=" + spec], []


def plan_boot(fs, size, wanted, bootloader):
    """What makes the pages come back at boot: ('sysctl', old, new text or None) or ('kernel_args', plan)."""
    if size == "2Mi":
        default = _default_size_kib(fs)
        if default not in (None, SIZES["2Mi"]):
            raise HugepagesError(
                "persistent: 2Mi pages at boot use vm.nr_hugepages, which counts the default hugepage size, "
                "and this host's default is %d kB (default_hugepagesz on the kernel command line)" % default)
        total = sum(n for _node, n in wanted)
        old = fs.read(SYSCTL_FILE) if fs.exists(SYSCTL_FILE) else None
        return {"method": "sysctl", "file": SYSCTL_FILE, "old": old, "new": sysctl_text(total) if total else None}
    present, absent = boot_kernel_args(wanted)
    kernel_args.plan(fs, present, absent, bootloader)  # fails early on a missing or odd configuration
    return {"method": "kernel_args", "present": present, "absent": absent}


# --------------------------------------------------------------------------- hugetlbfs mounts


def _pagesize_kib(options):
    m = re.search(r"(?:^|,)pagesize=([0-9]+)([KMG]?)", options)
    if not m:
        return None
    return int(m.group(1)) * {"": 1 / 1024.0, "K": 1, "M": 1024, "G": 1024 * 1024}[m.group(2)]


def _table(fs, path):
    """[(device, mount point, fstype, options)] of an fstab-like file."""
    try:
        text = fs.read(path)
    except (OSError, IOError):
        return []
    rows = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 4 and not fields[0].startswith("#"):
            rows.append(tuple(fields[:4]))
    return rows


def plan_mount(fs, size, path):
    """Where the pages get mounted: {path, mounted, fstab}; raises when something else is there."""
    kib = SIZES[size]
    default = _default_size_kib(fs) or SIZES["2Mi"]
    mounted = False
    for _dev, point, fstype, options in _table(fs, "/proc/mounts"):
        if point != path:
            continue
        if fstype != "hugetlbfs":
            raise HugepagesError("mount_path: %s is mounted as %s, not hugetlbfs" % (path, fstype))
        have = _pagesize_kib(options) or default
        if have != kib:
            raise HugepagesError("mount_path: %s is hugetlbfs with %d kB pages, not %s" % (path, have, size))
        mounted = True
    in_fstab = False
    for _dev, point, fstype, _options in _table(fs, "/etc/fstab"):
        if point == path:
            if fstype != "hugetlbfs":
                raise HugepagesError("mount_path: /etc/fstab mounts %s as %s, not hugetlbfs" % (path, fstype))
            in_fstab = True
    return {"path": path, "pagesize": MOUNT_OPTION[size], "mounted": mounted, "in_fstab": in_fstab}


def fstab_line(mount):
    return "hugetlbfs %s hugetlbfs pagesize=%s 0 0\n" % (mount["path"], mount["pagesize"])


def libvirtd_running(fs):
    pid = fs.read_int(LIBVIRTD_PID)
    return bool(pid) and fs.exists("/proc/%d" % pid)


# --------------------------------------------------------------------------- the whole task


def _file_diff(path, old, new):
    return {"before_header": path, "after_header": path, "before": old or "", "after": new or ""}


def apply(fs, size, count=None, nodes=None, allow_partial=False, persistent=False, mount=True,
          mount_path=None, bootloader="auto", check_mode=False, run=None, which=None):
    """Validate everything, then reserve now, then persist, then mount. Returns the module result."""
    wanted = requests(fs, size, count, nodes)
    boot = plan_boot(fs, size, wanted, bootloader) if persistent else None
    want_mount = mount and any(n for _node, n in wanted)
    mnt = plan_mount(fs, size, mount_path or DEFAULT_MOUNTS[size]) if want_mount else None
    warnings = []
    if boot and boot["method"] == "sysctl" and wanted[0][0] != ALL_NODES and len(numa_nodes(fs)) > 1:
        warnings.append("at boot vm.nr_hugepages spreads %d pages evenly over the NUMA nodes; "
                        "this module sets the per-node split again when it runs" % sum(n for _x, n in wanted))

    # 1Gi pages the kernel cannot find now come at the next boot from the kernel arguments.
    at_boot = bool(boot) and boot["method"] == "kernel_args"
    pages, short = reserve(fs, size, wanted, allow_partial or at_boot, check_mode)
    warnings += short
    files, diffs, commands = [], [], []
    reboot_required = False
    kargs = None
    if boot and boot["method"] == "sysctl" and boot["old"] != boot["new"]:
        files.append(SYSCTL_FILE)
        diffs.append(_file_diff(SYSCTL_FILE, boot["old"], boot["new"]))
        if not check_mode:
            if boot["new"] is None:
                fs.remove(SYSCTL_FILE)
            else:
                fs.makedirs("/etc/sysctl.d")
                fs.write(SYSCTL_FILE, boot["new"])
    elif at_boot:
        kargs = kernel_args.apply(fs, boot["present"], boot["absent"], bootloader, check_mode, run, which)
        files += kargs["files"]
        diffs += kargs["diff"]
        commands += kargs["commands"]
        warnings += kargs["warnings"]
        missing = short or (check_mode and any(p["changed"] for p in pages))
        reboot_required = kargs["reboot_required"] and bool(missing)

    restart = False
    if mnt and not mnt["in_fstab"]:
        old = fs.read("/etc/fstab") if fs.exists("/etc/fstab") else ""
        new = old + ("" if old.endswith("\n") or not old else "\n") + fstab_line(mnt)
        files.append("/etc/fstab")
        diffs.append(_file_diff("/etc/fstab", old, new))
        if not check_mode:
            fs.write("/etc/fstab", new)
    if mnt and not mnt["mounted"]:
        argv = ["mount", "-t", "hugetlbfs", "-o", "pagesize=" + mnt["pagesize"], "hugetlbfs", mnt["path"]]
        if fs.root != "/":
            warnings.append("%s is not mounted and root is not /: nothing mounted now" % mnt["path"])
        elif not check_mode:
            fs.makedirs(mnt["path"])
            rc, out, err = run(argv)
            if rc != 0:
                raise HugepagesError("%s failed (rc %d): %s" % (" ".join(argv), rc, (err or out).strip()))
            commands.append(argv)
        if fs.root == "/":
            mnt["added"] = True
            # libvirt looks for hugetlbfs mounts only when it starts.
            restart = libvirtd_running(fs)
    if restart:
        warnings.append("hugetlbfs was mounted on %s while libvirtd runs: restart libvirtd so that it uses it"
                        % mnt["path"])
    changed = any(p["changed"] for p in pages) or bool(files) or bool(mnt and mnt.get("added"))
    return {
        "changed": changed,
        "pages": pages,
        "persistent": (boot or {}).get("method"),
        "kernel_args": kargs,
        "mount": mnt,
        "files": files,
        "commands": commands,
        "reboot_required": reboot_required,
        "libvirtd_restart_required": restart,
        "warnings": warnings,
        "diff": diffs,
    }
