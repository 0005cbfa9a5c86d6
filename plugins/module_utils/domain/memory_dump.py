# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The last memory dump request of a VM, kept in the domain's <metadata>.

KubeVirt keeps it in ``status.memoryDumpRequest`` (phases InProgress, Completed,
Failed). Here it is an element of its own namespace: libvirt's
virDomainSetMetadata keeps one element per namespace URI and replaces it whole,
so it cannot share the namespace of the declared spec (``<kv:vm>``). kv_vm's
redefine carries it over (domain/merge.py keeps every metadata child but its own).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import KV_NS, etree

NS = KV_NS + "/memory-dump"
PREFIX = "kvdump"
TAG = "{%s}memoryDump" % NS
PHASES = ("InProgress", "Completed", "Failed")
# Record keys (snake_case, as kv_vm_info returns them) -> XML attributes (KubeVirt's camelCase).
FIELDS = (("phase", "phase"), ("path", "path"), ("pool", "pool"), ("volume", "volume"), ("format", "format"),
          ("start_timestamp", "startTimestamp"), ("end_timestamp", "endTimestamp"), ("size", "size"),
          ("sha256", "sha256"), ("message", "message"))


def render(record):
    """The <memoryDump .../> element for virDomainSetMetadata, as text.

    Without a namespace: libvirt puts it into NS (prefix PREFIX) itself and refuses one already declared.
    """
    el = etree.Element("memoryDump")
    for key, name in FIELDS:
        if record.get(key) is not None:
            el.set(name, str(record[key]))
    return etree.tostring(el, encoding="unicode")


def parse(el):
    """A record dict from the element (or None)."""
    if el is None:
        return None
    out = {}
    for key, name in FIELDS:
        value = el.get(name)
        if value is not None:
            out[key] = int(value) if key == "size" and value.isdigit() else value
    return out


def read(root):
    """The record kept in a domain's XML (an lxml root), or None."""
    return parse(root.find("metadata/%s" % TAG))


def read_text(xml_text):
    """The record from virDomainGetMetadata's text, or None."""
    if not xml_text:
        return None
    return parse(etree.fromstring(xml_text.encode("utf-8")))
