# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Node devices (mediated devices) on the libvirt connection.

A mixin of virt.Connection: libvirt itself stays imported by virt.py alone (self._libvirt).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.virt_errors import wrap as _wrap


class NodeDeviceMixin:
    # --- node devices (mediated devices) --------------------------------
    def lib_version(self):
        """libvirt's version as a tuple (9, 0, 0)."""
        v = self._conn.getLibVersion()
        return (v // 1000000, (v // 1000) % 1000, v % 1000)

    def mdev_node_devices(self):
        """Every mdev node device libvirt knows (defined or active): [{name, xml, active, persistent, autostart}]."""
        flags = getattr(self._libvirt, "VIR_CONNECT_LIST_NODE_DEVICES_CAP_MDEV", 0)
        flags |= getattr(self._libvirt, "VIR_CONNECT_LIST_NODE_DEVICES_INACTIVE", 0)
        flags |= getattr(self._libvirt, "VIR_CONNECT_LIST_NODE_DEVICES_ACTIVE", 0)
        try:
            devices = self._conn.listAllDevices(flags)
        except self._libvirt.libvirtError as err:
            raise _wrap("cannot list mediated node devices", err)
        found = []
        for dev in devices:
            try:
                found.append({"name": dev.name(), "xml": dev.XMLDesc(0), "active": bool(dev.isActive()),
                              "persistent": bool(dev.isPersistent()), "autostart": bool(dev.autostart())})
            except self._libvirt.libvirtError:  # removed meanwhile
                continue
        return found

    def define_node_device(self, xml, start=True, autostart=True):
        """Define a persistent node device (virNodeDeviceDefineXML, libvirt >= 7.3), start it, autostart it."""
        try:
            dev = self._conn.nodeDeviceDefineXML(xml, 0)
            if start and not dev.isActive():
                dev.create(0)
            if autostart:
                dev.setAutostart(1)
            return dev.name()
        except self._libvirt.libvirtError as err:
            raise _wrap("libvirt could not define the mediated device", err)

    def create_node_device(self, xml):
        """A transient node device (gone at reboot)."""
        try:
            return self._conn.nodeDeviceCreateXML(xml, 0).name()
        except self._libvirt.libvirtError as err:
            raise _wrap("libvirt could not create the mediated device", err)

    def remove_node_device(self, name):
        """Stop a node device if it is active and undefine it if it is persistent."""
        try:
            dev = self._conn.nodeDeviceLookupByName(name)
            if dev.isActive():
                dev.destroy()
            if dev.isPersistent():
                dev.undefine(0)
        except self._libvirt.libvirtError as err:
            raise _wrap("libvirt could not remove node device %s" % name, err)
