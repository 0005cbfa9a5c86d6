# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A resolved VMSpec + its plan -> domain XML, one concern per file."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain import (
    base,
    cpu,
    devices,
    disks,
    firmware,
    hugepages,
    hostdev,
    interfaces,
    memory,
    metadata,
    numa,
    pinning,
    resources,
)
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import sub, tostring
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.export import to_options


def render_tree(spec, plan):
    root = base.render(spec, plan)
    metadata.render(root, to_options(spec))
    firmware.render(root, spec, plan)
    cpu.render(root, spec, plan)
    memory.render(root, spec, plan)
    resources.render(root, spec, plan)
    pinning.render(root, spec, plan)
    numa.render(root, spec, plan)
    hugepages.render(root, spec, plan)
    devs = sub(root, "devices")
    disks.render(devs, spec, plan)
    interfaces.render(devs, spec, plan)
    devices.render(devs, spec, plan)
    hostdev.render(devs, spec, plan)
    base.render_panic(devs, spec)
    memory.render_device(devs, spec, plan)
    return root


def render_xml(spec, plan):
    return tostring(render_tree(spec, plan))
