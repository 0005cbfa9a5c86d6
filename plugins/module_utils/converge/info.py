# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One VM as kv_vm_info reports it: state and spec, read back from libvirt."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain import metadata
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.parse import parse_options as parse_domain
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import parse, text
from ansible_collections.kvcompute.libvirt.plugins.module_utils.reconcile.classify import classify
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.errors import SpecError
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.export import to_options
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.options import parse_options


def describe(conn, name):
    inactive = conn.domain_xml(name, inactive=True)
    root = parse(inactive)
    state = conn.state(name)
    out = {"name": name, "state": state, "uuid": text(root, "uuid"), "managed": metadata.read(root) is not None}
    raw = parse_domain(inactive)
    try:
        spec = parse_options(raw)
        out["spec"] = to_options(spec)
        out["vcpus"] = spec.cpu.vcpus
        out["memory"] = out["spec"]["memory"]["guest"]
    except SpecError as err:
        out["spec"] = raw
        out["spec_errors"] = ["%s: %s" % p for p in err.problems]
    pending = []
    if state in ("running", "blocked", "paused"):
        booted = metadata.read(parse(conn.domain_xml(name)))
        if booted is not None and "spec_errors" not in out:
            pending = classify(out["spec"], out["spec"], True, to_options(parse_options(booted)))[1]
    out["restart_required"] = bool(pending)
    out["restart_required_fields"] = pending
    return out
