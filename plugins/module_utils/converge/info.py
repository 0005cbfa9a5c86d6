# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One VM as kv_vm_info reports it: state and spec, read back from libvirt."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.converge import devices
from ansible_collections.kvcompute.libvirt.plugins.module_utils.converge.dump import last_request
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain import cpu, memory, metadata
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.parse import parse_options as parse_domain
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import parse, text
from ansible_collections.kvcompute.libvirt.plugins.module_utils.reconcile.classify import classify
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.errors import SpecError
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.export import to_options
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.options import parse_options
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.quantity import format_bytes


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
    live_root = None
    if state in ("running", "blocked", "paused"):
        live_root = parse(conn.domain_xml(name))
        out["status"] = status(live_root)
        booted = metadata.read(live_root)
        if booted is not None and "spec_errors" not in out:
            pending = classify(out["spec"], out["spec"], True, to_options(parse_options(booted)))[1]
    out["restart_required"] = bool(pending)
    out["restart_required_fields"] = pending
    out["memory_dump"] = last_request(conn, name)
    out.update(devices.describe(root, live_root))
    return out


def status(live_root):
    """What the running VM has now, like KubeVirt's currentCPUTopology and status.memory."""
    found = {}
    cpu.parse(live_root, found)
    boot = memory.boot_memory(live_root)
    plugged = memory.plugged(live_root) or (0, 0)
    return {
        "cpu": {"sockets": found["cpu"]["sockets"], "cores": found["cpu"].get("cores", 1),
                "threads": found["cpu"].get("threads", 1)},
        "memory": {"guest_at_boot": format_bytes(boot), "guest_requested": format_bytes(boot + plugged[0]),
                   "guest_current": format_bytes(boot + plugged[1])},
    }
