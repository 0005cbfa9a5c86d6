# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Can this VM move to that host? Pure checks on the domain XML and facts gathered from both hosts.

Every problem is (field, message); nothing moves while there is one. KubeVirt's rules for what
is not live-migratable: host devices (PCI, mediated devices/GPUs, USB), virtiofs shares,
shared-memory devices, persistent SCSI reservations, SEV guests, a passthrough TPM; disks must be
shared or copied.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import alias_of, to_bytes
from ansible_collections.kvcompute.libvirt.plugins.module_utils.migrate import cpus as cpu_plan

DEFAULT_PAGE_KIB = 2048
# statfs f_type names (stat -f -c %T) of file systems both hosts can mount at once.
SHARED_FS = ("nfs", "nfs4", "ceph", "fuse.glusterfs", "glusterfs", "gpfs", "ocfs2", "gfs2", "cifs", "smb2",
             "fuse.cephfs", "beegfs", "lustre", "fuse.sshfs", "virtiofs", "9p")


def _name(dev, fallback):
    return alias_of(dev) or dev.get("name") or fallback


def device_blockers(root):
    """(field, message) for each device KubeVirt would not live-migrate."""
    out = []
    devices = root.find("devices")
    if devices is None:
        return out
    for dev in devices.iterfind("hostdev"):
        kind = dev.get("type")
        what = {"mdev": "a mediated device (vGPU)", "usb": "a USB host device"}.get(kind, "a PCI host device")
        out.append(("host_devices", "%s is %s passed through from this host: not live-migratable"
                    % (_name(dev, "hostdev"), what)))
    for dev in devices.iterfind("filesystem"):
        driver = dev.find("driver")
        if driver is not None and driver.get("type") == "virtiofs":
            target = dev.find("target")
            out.append(("filesystems", "virtiofs share %s: not live-migratable"
                        % (target.get("dir") if target is not None else "?")))
    for dev in devices.iterfind("shmem"):
        out.append(("devices", "shared-memory device %s: not live-migratable" % dev.get("name")))
    for dev in devices.iterfind("tpm"):
        backend = dev.find("backend")
        if backend is not None and backend.get("type") == "passthrough":
            out.append(("tpm", "a passthrough TPM uses this host's chip: not live-migratable"))
    for disk in devices.iterfind("disk"):
        if disk.find("source/reservations") is not None:
            out.append(("disks", "disk %s uses persistent SCSI reservations: not live-migratable"
                        % _disk_target(disk)))
    if root.find("launchSecurity") is not None:
        out.append(("launch_security", "an SEV/TDX guest cannot be live-migrated"))
    return out


def _disk_target(disk):
    target = disk.find("target")
    return alias_of(disk) or (target.get("dev") if target is not None else "?")


def file_disks(root):
    """[{target, path, readonly}] of the disks backed by a file or block device on the host."""
    out = []
    for disk in root.iterfind("devices/disk"):
        if disk.get("type") not in ("file", "block"):
            continue  # network disks (rbd, iscsi, nbd) are shared by nature; volumes resolve to files
        source = disk.find("source")
        path = source.get("file") or source.get("dev") if source is not None else None
        if not path:
            continue  # an empty CD-ROM
        out.append({"target": _disk_target(disk), "dev": disk.find("target").get("dev"), "path": path, "readonly": disk.find("readonly") is not None,
                    "shareable": disk.find("shareable") is not None})
    return out


def under(path, dirs):
    path = os.path.normpath(path)
    return any(path == d or path.startswith(d.rstrip("/") + "/") for d in dirs)


def unshared_disks(disks, shared_paths, fs_types):
    """The disks neither under shared_paths nor on a shared file system (fs_types: path -> statfs type)."""
    return [d for d in disks if not under(d["path"], shared_paths) and fs_types.get(d["path"]) not in SHARED_FS]


def fs_type(path, mountinfo):
    """The file system type of path, from /proc/self/mountinfo's text (longest mount point that holds it)."""
    best, kind = "", None
    for line in mountinfo.splitlines():
        left, _sep, right = line.partition(" - ")
        fields = left.split()
        if len(fields) < 5 or not right:
            continue
        point = fields[4].replace("\\040", " ")
        if under(path, [point]) and len(point) >= len(best):
            best, kind = point, right.split()[0]
    return kind


def boot_files(root):
    return [p for p in (root.findtext("os/kernel"), root.findtext("os/initrd")) if p]


def hugepages_needed(root):
    """(page_kib, pages) the VM's memory needs on the destination, or None without hugepages."""
    backing = root.find("memoryBacking/hugepages")
    if backing is None:
        return None
    page = backing.find("page")
    page_kib = to_bytes(page, "size") // 1024 if page is not None and page.get("size") else DEFAULT_PAGE_KIB
    memory_kib = to_bytes(root.find("memory")) // 1024
    return page_kib, -(-memory_kib // page_kib)


def vsock_cid(root):
    cid = root.find("devices/vsock/cid")
    if cid is None or cid.get("auto") == "yes":
        return None
    return int(cid.get("address")) if cid.get("address") else None


def check(root, req, facts):
    """(problems, warnings, plan) for moving the VM (lxml root of its live XML) with facts from both hosts.

    facts: source_host_uuid, dest_host_uuid, dest_domain ({uuid, active} or None), cpu (dict from
    the CPU comparison: {'result': 'identical'|'superset'|'incompatible'|'skipped', 'detail'}),
    dest_free_pages ({page_kib: free}), dest_host (HostCpus) and dest_taken ({cpu: VM name}) for a VM with
    dedicated CPUs, dest_vsock_cids (set), fs_types.
    plan: {'pins': new pins or None, 'unshared': [...disks], 'data_bytes': memory + copied disks}.
    """
    problems = device_blockers(root)
    warnings = []
    plan = {"pins": None}
    if facts["source_host_uuid"] == facts["dest_host_uuid"]:
        problems.append(("dest_uri", "the destination is this same host (host UUID %s)" % facts["dest_host_uuid"]))
    dest_dom = facts.get("dest_domain")
    if dest_dom is not None and dest_dom["uuid"] != root.findtext("uuid"):
        problems.append(("name", "the destination already has another VM named %s (UUID %s)"
                         % (root.findtext("name"), dest_dom["uuid"])))
    elif dest_dom is not None and dest_dom["active"]:
        problems.append(("name", "%s is running on both hosts" % root.findtext("name")))
    cpu = facts.get("cpu") or {}
    if cpu.get("result") == "incompatible":
        problems.append(("cpu", "the destination cannot run this VM's CPU: %s" % cpu.get("detail")))
    elif cpu.get("result") == "skipped":
        warnings.append("CPU check skipped: %s" % cpu.get("detail"))
    need = hugepages_needed(root)
    if need is not None:
        page_kib, pages = need
        free = facts.get("dest_free_pages", {}).get(page_kib, 0)
        if free < pages:
            problems.append(("memory.hugepages", "the destination has %d free %d KiB hugepages, the VM needs %d"
                             % (free, page_kib, pages)))
    pins = cpu_plan.dedicated_pins(root)
    if pins is not None:
        try:
            plan["pins"] = cpu_plan.replan_dedicated_cpus(root, facts["dest_host"], facts.get("dest_taken", {}))
        except ValueError as err:
            problems.append(("cpu.dedicated_cpu_placement", str(err)))
    cid = vsock_cid(root)
    if cid is not None and cid in facts.get("dest_vsock_cids", set()):
        problems.append(("autoattach_vsock", "VSOCK CID %d is taken on the destination" % cid))
    disks = file_disks(root)
    unshared = unshared_disks(disks, req["shared_paths"], facts.get("fs_types", {}))
    plan["unshared"] = unshared
    if unshared and not req["copy_storage"]:
        problems.append(("copy_storage", "disk(s) %s are not on shared storage: set copy_storage: true to copy "
                         "them, or list their directory in shared_paths if the destination sees the same files"
                         % ", ".join("%s (%s)" % (d["target"], d["path"]) for d in unshared)))
    for path in boot_files(root):
        if not under(path, req["shared_paths"]):
            warnings.append("%s is booted from %s: it must exist at the same path on the destination"
                            % (root.findtext("name"), path))
    memory = to_bytes(root.find("currentMemory")) or to_bytes(root.find("memory")) or 0
    plan["data_bytes"] = memory + (sum(d.get("capacity", 0) for d in unshared) if req["copy_storage"] else 0)
    return problems, warnings, plan
