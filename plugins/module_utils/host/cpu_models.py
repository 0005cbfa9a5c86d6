# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a guest may ask of this host, from domain capabilities XML
(`virsh domcapabilities --virttype kvm|qemu [--machine ...]`): CPU modes and
models (with libvirt's own usable verdict), max vCPUs, firmware loaders.

Pure: XML string in, plain dict out; check_cpu_model() validates the
`cpu.model` option against that dict before anything is defined.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib

from ansible_collections.kvcompute.libvirt.plugins.module_utils.libvirt_xml import (  # noqa: F401 pylint: disable=unused-import
    HAS_LXML,
    LXML_IMPORT_ERROR,
    etree,
    parse,
)

# cpu.model values that name a libvirt <cpu mode>, not a named model (KubeVirt's spelling).
MODE_MODELS = ("host-passthrough", "host-model", "maximum")


def _enum(parent, name):
    if parent is None:
        return []
    return [v.text for v in parent.iterfind("enum[@name='%s']/value" % name)]


def _supported(el):
    return el is not None and el.get("supported") == "yes"


def parse_domain_capabilities(xml):
    root = parse(xml)

    vcpu = root.find("vcpu")
    modes = {}
    host_model = None
    models = []
    for mode in root.iterfind("cpu/mode"):
        name = mode.get("name")
        modes[name] = _supported(mode)
        if name == "host-model" and modes[name]:
            m = mode.find("model")
            host_model = {
                "name": m.text if m is not None else None,
                "fallback": m.get("fallback") if m is not None else None,
                "vendor": mode.findtext("vendor"),
            }
        elif name == "custom" and modes[name]:
            for m in mode.iterfind("model"):
                models.append({
                    "name": m.text,
                    # Older libvirt omits usable: we cannot tell, so we do not refuse.
                    "usable": m.get("usable", "unknown"),
                    "vendor": m.get("vendor"),
                    "deprecated": m.get("deprecated") == "yes",
                })

    os_el = root.find("os")
    loader = os_el.find("loader") if os_el is not None else None
    loader_secure = _enum(loader, "secure")
    features = root.find("features")
    smm = features.find("smm") if features is not None else None

    return {
        "emulator": root.findtext("path"),
        "domain_type": root.findtext("domain"),
        "machine": root.findtext("machine"),
        "arch": root.findtext("arch"),
        "max_vcpus": int(vcpu.get("max")) if vcpu is not None and vcpu.get("max") else None,
        "cpu_modes": modes,
        "host_model": host_model,
        "models": models,
        "firmware": {
            "supported": _enum(os_el, "firmware"),
            "loader_supported": _supported(loader),
            "loaders": [v.text for v in loader.iterfind("value")] if loader is not None else [],
            "loader_types": _enum(loader, "type"),
            "secure": loader_secure,
            # libvirt lists secure='yes' only when a secure-boot loader fits this machine.
            "secure_boot_possible": "yes" in loader_secure,
        },
        # Shown by newer libvirt only; None means "not reported".
        "smm": (_supported(smm) if smm is not None else None),
    }


def supported_modes(domcaps):
    return [name for name, ok in domcaps["cpu_modes"].items() if ok]


def usable_models(domcaps):
    return [m["name"] for m in domcaps["models"] if m["usable"] != "no"]


def _closest(name, candidates, n=4):
    # Compare case-insensitively (users type 'skylake'), answer in libvirt's spelling.
    by_lower = {}
    for c in candidates:
        by_lower.setdefault(c.lower(), c)
    hits = difflib.get_close_matches(name.lower(), list(by_lower), n=n, cutoff=0.4)
    return [by_lower[h] for h in hits]


def check_cpu_model(domcaps, model):
    """None when `model` can run here, else a message naming cpu.model.

    domcaps is parse_domain_capabilities() output (an XML string is accepted too).
    """
    if isinstance(domcaps, (str, bytes)):
        domcaps = parse_domain_capabilities(domcaps)
    dtype = domcaps.get("domain_type") or "?"
    if model in MODE_MODELS:
        if domcaps["cpu_modes"].get(model):
            return None
        return "cpu.model: %s is not supported by this host for domain type %s (supported modes: %s)" % (
            model, dtype, ", ".join(supported_modes(domcaps)) or "none")
    if not domcaps["cpu_modes"].get("custom"):
        return "cpu.model: named CPU models are not supported by this host for domain type %s" % dtype
    by_name = dict((m["name"], m) for m in domcaps["models"])
    found = by_name.get(model)
    if found is None:
        allowed = list(by_name) + list(MODE_MODELS)
        close = _closest(model, allowed)
        return "cpu.model: %r is not a CPU model this host knows for domain type %s%s" % (
            model, dtype, ("; closest: %s" % ", ".join(close)) if close else "")
    if found["usable"] == "no":
        alternatives = [n for n in _closest(model, usable_models(domcaps)) if n != model]
        hint = "; usable here: %s" % ", ".join(alternatives) if alternatives else ""
        if domcaps["cpu_modes"].get("host-model"):
            hint += "; or host-model"
        return "cpu.model: %r is not usable on this host for domain type %s%s" % (model, dtype, hint)
    return None
