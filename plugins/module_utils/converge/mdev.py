# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mediated devices (vGPUs): list types, create and remove mdevs, idempotent by UUID.

Two backends.  `libvirt`: a persistent node device (virNodeDeviceDefineXML,
create, autostart; libvirt >= 7.3, which drives mdevctl).  `sysfs`: the
kernel's `create`/`remove` files, made persistent by a udev rule that creates
the mdev again when its parent's driver binds at boot.  `auto` takes libvirt
where it can (real root, libvirt >= 7.3, mdevctl installed).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import etree, parse, sub, text, tostring
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host import mdev as host_mdev
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host import pci

BACKENDS = ("auto", "libvirt", "sysfs")
MDEVCTL = ("/usr/sbin/mdevctl", "/usr/bin/mdevctl")
RULE_FILE = "/etc/udev/rules.d/90-kvcompute-mdev-%s.rules"
RULE = ('# Written by kvcompute.libvirt: create mediated device {uuid} ({type}) when its parent appears.\n'
        'ACTION=="bind", KERNEL=="{parent}", RUN+="/bin/sh -c \'[ -e /sys/bus/mdev/devices/{uuid} ] || '
        'echo {uuid} > /sys/class/mdev_bus/{parent}/mdev_supported_types/{type}/create\'"\n')


class MdevError(ValueError):
    """A request that cannot be carried out; nothing was changed."""


def inventory(fs):
    """What kv_mdev reports: parents with their types, and the mdevs that exist."""
    parents = []
    for parent, types in sorted(host_mdev.read_parents(fs).items()):
        parents.append({"parent": parent, "types": [dict(info, type=t) for t, info in sorted(types.items())]})
    return {"parents": parents, "mdevs": sorted(host_mdev.read_mdevs(fs).values(), key=lambda m: m["uuid"])}


def pick_backend(fs, conn, wanted):
    if wanted != "auto":
        return wanted
    if fs.root == "/" and conn is not None and conn.lib_version() >= (7, 3, 0) and any(fs.exists(p) for p in MDEVCTL):
        return "libvirt"
    return "sysfs"


def node_parent(parent):
    """libvirt's node device name of a PCI parent: 0000:81:00.0 -> pci_0000_81_00_0."""
    address = pci.normalize_address(parent)
    return "pci_" + re.sub(r"[:.]", "_", address) if address else parent


def node_xml(uuid, parent, type_id):
    root = etree.Element("device")
    sub(root, "parent", node_parent(parent))
    cap = sub(root, "capability", type="mdev")
    sub(cap, "type", id=type_id)
    sub(cap, "uuid", uuid)
    return tostring(root)


def _libvirt_node(conn, uuid):
    for dev in conn.mdev_node_devices():
        if text(parse(dev["xml"]), "capability/uuid") == uuid:
            return dev
    return None


def used_by(conn, uuid):
    """Names of the domains whose definition holds this mdev."""
    if conn is None:
        return []
    return sorted(name for name, xml in conn.all_domain_xml().items()
                  if parse(xml).find("devices/hostdev[@type='mdev']/source/address[@uuid='%s']" % uuid) is not None)


def plan(fs, conn, uuid, parent=None, type_id=None, state="present", persistent=True, backend="auto"):
    """The actions (list of dicts) that bring the mdev `uuid` to `state`; raises MdevError before any change."""
    uuid = (uuid or "").lower()
    if not re.match(host_mdev.UUID, uuid):
        raise MdevError("uuid: %r is not a UUID (8-4-4-4-12 hex digits)" % uuid)
    backend = pick_backend(fs, conn, backend)
    existing = host_mdev.read_mdevs(fs).get(uuid)
    node = _libvirt_node(conn, uuid) if backend == "libvirt" else None
    rule = RULE_FILE % uuid
    if state == "absent":
        users = used_by(conn, uuid)
        if users and (existing or node):
            raise MdevError("mediated device %s is used by VM %s: remove it from the VM first" % (uuid, ", ".join(users)))
        actions = []
        if node:
            actions.append({"action": "libvirt remove", "name": node["name"]})
        elif existing:
            actions.append({"action": "sysfs remove", "path": "%s/%s/remove" % (host_mdev.MDEV_DEVICES, uuid)})
        if fs.exists(rule):
            actions.append({"action": "remove file", "path": rule})
        return backend, actions
    parent = pci.normalize_address(parent) or parent
    if not parent or not type_id:
        raise MdevError("parent and type are required with state=present")
    if existing and (existing["parent"], existing["type"]) != (parent, type_id):
        raise MdevError("mediated device %s exists with type %s on parent %s, not %s on %s: remove it first"
                        % (uuid, existing["type"], existing["parent"], type_id, parent))
    types = host_mdev.read_parents(fs)
    if parent not in types:
        raise MdevError("parent: %s offers no mediated devices; parents here: %s"
                        % (parent, ", ".join(sorted(types)) or "none"))
    if type_id not in types[parent]:
        raise MdevError("type: %s does not offer %r; it offers %s" % (parent, type_id, ", ".join(sorted(types[parent]))))
    if not existing and not node and types[parent][type_id]["available_instances"] < 1:
        raise MdevError("type: no free instance of %s (%s) on %s" % (type_id, types[parent][type_id]["name"], parent))
    if backend == "libvirt":
        return backend, _libvirt_actions(uuid, parent, type_id, persistent, existing, node)
    actions = []
    if not existing:
        actions.append({"action": "sysfs create", "path": host_mdev.types_dir(parent, type_id) + "/create",
                        "value": uuid})
    wanted = RULE.format(uuid=uuid, parent=parent, type=type_id) if persistent else None
    before = fs.read(rule) if fs.exists(rule) else None
    if before != wanted:
        actions.append({"action": "write file" if wanted else "remove file", "path": rule, "before": before,
                        "after": wanted})
    return backend, actions


def _libvirt_actions(uuid, parent, type_id, persistent, existing, node):
    xml = node_xml(uuid, parent, type_id)
    if persistent and not (node and node["persistent"] and node["autostart"] and node["active"]):
        return [{"action": "libvirt define", "xml": xml}]
    if not persistent and not existing:
        return [{"action": "libvirt create", "xml": xml}]
    return []


def apply(fs, conn, actions):
    for act in actions:
        kind = act["action"]
        if kind == "libvirt define":
            conn.define_node_device(act["xml"])
        elif kind == "libvirt create":
            conn.create_node_device(act["xml"])
        elif kind == "libvirt remove":
            conn.remove_node_device(act["name"])
        elif kind in ("sysfs create", "sysfs remove"):
            fs.write(act["path"], act.get("value", "1"))
        elif kind == "write file":
            fs.makedirs(act["path"].rsplit("/", 1)[0])
            fs.write(act["path"], act["after"])
        elif kind == "remove file":
            fs.remove(act["path"])


def ensure(fs, conn, uuid, parent, type_id, persistent=True, backend="auto"):
    """Create an mdev for kv_vm (a vGPU it picked a parent for); returns the actions done."""
    _backend, actions = plan(fs, conn, uuid, parent, type_id, "present", persistent, backend)
    apply(fs, conn, actions)
    return actions
