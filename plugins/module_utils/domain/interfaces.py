# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""<interface>: user, network and bridge NICs with a stable MAC."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import USER_ALIAS, alias_of, attr, sub


def render(devices, spec, plan):
    for nic in spec.interfaces:
        el = sub(devices, "interface", type=nic.type)
        sub(el, "mac", address=nic.mac)
        if nic.type == "network":
            sub(el, "source", network=nic.source)
        elif nic.type == "bridge":
            sub(el, "source", bridge=nic.source)
        sub(el, "model", type=nic.model)
        sub(el, "alias", name=USER_ALIAS + nic.name)


def parse(root, out):
    nics = []
    for i, el in enumerate(root.findall("devices/interface")):
        kind = el.get("type")
        nic = {"name": alias_of(el) or "nic%d" % i, "type": kind, "model": attr(el, "model", "type"),
               "mac": attr(el, "mac", "address")}
        if kind in ("network", "bridge"):
            nic["source"] = attr(el, "source", kind)
        nics.append(nic)
    out["interfaces"] = nics


def parse_macs(root):
    return dict((alias_of(el), attr(el, "mac", "address")) for el in root.findall("devices/interface")
                if alias_of(el))
