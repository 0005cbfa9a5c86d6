# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""<memory>/<currentMemory>: the guest's RAM."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import kib, sub, to_bytes


def render(root, spec, plan):
    sub(root, "memory", kib(spec.memory.guest), unit="KiB")
    sub(root, "currentMemory", kib(spec.memory.guest), unit="KiB")


def parse(root, out):
    guest = to_bytes(root.find("memory"))
    if guest is not None:
        out["memory"] = {"guest": guest}
