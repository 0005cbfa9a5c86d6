# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What plan/ needs to know of the host, read once per module run."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.kvcompute.libvirt.plugins.module_utils.host import cpu_models, cpu_pool, firmware, topology


def split_field(message, default):
    """('cpu.model', 'x is …') from 'cpu.model: x is …' so errors are not prefixed twice."""
    head, sep, rest = message.partition(": ")
    if sep and re.match(r"^[a-z_]+(\.[a-z_]+)*$", head):
        return head, rest
    return default, message


class HostView:
    """Capabilities, domain capabilities per type (lazily) and firmware descriptors."""

    def __init__(self, conn, fs):
        self.conn = conn
        self.fs = fs
        self.caps = topology.parse_capabilities(conn.capabilities_xml())
        self.arch = self.caps.get("arch") or "x86_64"
        self.kvm_usable = topology.read_kvm(fs)["usable"]
        self._domcaps = {}
        self._descriptors = None
        self.cpu_manager_file = cpu_pool.POOL_FILE  # kv_vm's cpu_manager_file
        self.placement = None  # converge/placement.PlacementView, read once the host lock is held

    def domcaps(self, dtype):
        if dtype not in self._domcaps:
            xml = self.conn.domain_capabilities_xml(virt_type=dtype, arch=self.arch)
            self._domcaps[dtype] = cpu_models.parse_domain_capabilities(xml)
        return self._domcaps[dtype]

    def as_plan_input(self):
        guests = self.caps.get("guests", {}).get(self.arch, {})
        types = [t for t in ("kvm", "qemu") if t in guests]
        return {
            "arch": self.arch,
            "kvm_usable": self.kvm_usable,
            "machines": dict((t, guests[t]["names"]) for t in types),
            "machine_aliases": dict((t, guests[t]["aliases"]) for t in types),
            "max_vcpus": dict((t, self.domcaps(t)["max_vcpus"]) for t in types if t != "kvm" or self.kvm_usable),
        }

    def check_cpu_model(self, dtype, model):
        message = cpu_models.check_cpu_model(self.domcaps(dtype), model)
        return split_field(message, "cpu.model")[1] if message else None

    def pick_firmware(self, arch, machine, secure_boot):
        if self._descriptors is None:
            self._descriptors = firmware.load_descriptors(self.fs)
        return firmware.pick(self._descriptors, arch, machine, secure_boot)
