# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kv_vm's host devices and VSOCK: gather the host's devices and what every domain holds, plan, apply.

One DeviceLedger per task: it reads sysfs and all domain definitions once and
records what each VM prepared earlier in the task took, so two VMs of one task
never get the same device or CID.  kv_vm holds the host lock (host_lock.py)
from this reading until the last define.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.converge import manifest_request, mdev
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain import hostdev
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import parse
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host import mdev as host_mdev
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host import pci, usb
from ansible_collections.kvcompute.libvirt.plugins.module_utils.plan import host_devices, vsock
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.errors import SpecError
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.permitted import check_requested, parse_permitted
from ansible_collections.kvcompute.libvirt.plugins.module_utils.virt import VirtError

MODULE_KEYS = ("permitted_host_devices", "root")  # kv_vm options that are not per-VM spec
VHOST_VSOCK = "/dev/vhost-vsock"


def read_permitted(params, requests):
    """The permitted map, after checking every VM's device names against it (SpecError otherwise)."""
    permitted = parse_permitted(params.get("permitted_host_devices"))
    problems = []
    for i, request in enumerate(requests):
        prefix = "" if params.get("vms") is None else "vms[%d]." % i
        problems.extend((prefix + manifest_request.where(request, f), msg)
                        for f, msg in check_requested(request.spec, permitted))
    if problems:
        raise SpecError(problems)
    return permitted


class DeviceLedger:
    def __init__(self, conn, fs, permitted=None):
        self.conn, self.fs, self.permitted = conn, fs, permitted or {}
        self._inventory = None
        self._domains = None
        self.taken = {}  # VM name -> its usage, for VMs prepared earlier in this task

    def inventory(self):
        if self._inventory is None:
            self._inventory = {"pci": pci.read_devices(self.fs), "usb": usb.read_devices(self.fs),
                               "mdev_types": host_mdev.read_parents(self.fs), "mdevs": host_mdev.read_mdevs(self.fs)}
        return self._inventory

    def domains(self):
        """{name: [parsed inactive XML, parsed live XML]}: a running domain holds what it booted with, too."""
        if self._domains is None:
            self._domains = {}
            for inactive in (True, False):
                for name, xml in self.conn.all_domain_xml(inactive=inactive).items():
                    self._domains.setdefault(name, []).append(parse(xml))
        return self._domains

    def usage(self, exclude):
        """What every domain but `exclude` holds, including VMs planned earlier in this task."""
        roots = {}
        for name, parsed in self.domains().items():
            if name != exclude:
                for i, root in enumerate(parsed):
                    roots["%s\0%d" % (name, i)] = root
        found = hostdev.usage(roots)
        for kind in ("pci", "usb", "mdev", "cid"):
            found[kind] = dict((k, v.split("\0")[0]) for k, v in found[kind].items())
        found["usb_ids"] = [(v, p, n.split("\0")[0]) for v, p, n in found["usb_ids"]]
        for name, held in self.taken.items():
            if name != exclude:
                for kind, keys in held.items():
                    found[kind].update((k, name) for k in keys)
        return found

    def plan(self, spec, plan, old_root):
        """Fill plan.hostdevs and plan.vsock_cid for one VM; SpecError naming the field when nothing fits."""
        plan.hostdevs, plan.vsock_cid = [], None
        if not (spec.host_devices or spec.gpus or spec.autoattach_vsock):
            return
        held, own_cid = hostdev.own(old_root) if old_root is not None else ({}, None)
        used = self.usage(spec.name)
        if spec.host_devices or spec.gpus:
            found, problems = host_devices.resolve(spec, self.permitted, self.inventory(), used, held,
                                                   vm_key=plan.uuid or spec.name, display=spec.video != "none")
            if problems:
                raise SpecError(problems)
            plan.hostdevs = found
        if spec.autoattach_vsock:
            plan.vsock_cid = vsock.choose_cid(own_cid, set(used["cid"]))
        claimed = host_devices.claims(plan.hostdevs)
        claimed["cid"] = [plan.vsock_cid] if plan.vsock_cid is not None else []
        self.taken[spec.name] = claimed


def creates(plan):
    """The mdevs kv_vm must create for a VM, as change entries (apply 'create')."""
    return [{"field": "%s" % a["name"], "before": None, "apply": "create",
             "after": "create mediated device %s (%s on %s)" % (a["uuid"], a["create"]["type"], a["create"]["parent"])}
            for a in getattr(plan, "hostdevs", None) or [] if a.get("create")]


def check_start(fs, spec, actions):
    """Refuse, before any change, to start a VSOCK VM on a host without vhost-vsock (QEMU would fail to open it)."""
    if spec.autoattach_vsock and "start" in actions and not fs.exists(VHOST_VSOCK):
        raise SpecError([("autoattach_vsock", "this host has no %s (the vhost_vsock kernel module is not loaded), "
                                              "so %s cannot start with a VSOCK device; load vhost_vsock, or set "
                                              "autoattach_vsock false" % (VHOST_VSOCK, spec.name))])


def apply(conn, fs, plan, done):
    """Create the mdevs the plan needs (after the define: libvirt checked the definition first)."""
    for a in getattr(plan, "hostdevs", None) or []:
        if a.get("create"):
            try:
                mdev.ensure(fs, conn, a["uuid"], a["create"]["parent"], a["create"]["type"])
            except (mdev.MdevError, OSError, IOError) as err:
                raise VirtError("cannot create mediated device %s for %s: %s" % (a["uuid"], a["name"], err))
            done.append("created mediated device %s" % a["uuid"])


def describe(root, live_root=None):
    """kv_vm_info's device facts: VSOCK CID and live migratability (KubeVirt's LiveMigratable condition)."""
    current = live_root if live_root is not None else root
    out = {"vsock_cid": hostdev.vsock_cid(current)}
    kinds = sorted(set(el.get("type") for el in current.findall("devices/hostdev")))
    out["conditions"] = []
    if kinds:
        out["conditions"].append({"type": "LiveMigratable", "status": "False", "reason": "HostDeviceNotLiveMigratable",
                                  "message": "the VM holds host devices (%s), which cannot move to another host"
                                             % ", ".join(kinds)})
    return out
