# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""lxml helpers shared by the domain renderers and parsers."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback

try:
    from lxml import etree

    HAS_LXML = True
    LXML_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - reported by the modules
    etree = None
    HAS_LXML = False
    LXML_IMPORT_ERROR = traceback.format_exc()

# Our namespace inside <metadata>: how allocations and declared values survive in libvirt itself.
KV_NS = "https://kvcompute.dev/xmlns/libvirt/1"
USER_ALIAS = "ua-"  # libvirt keeps user aliases with this prefix across define


def sub(parent, tag, text=None, **attrs):
    """Append <tag attrs>text</tag>; attributes whose value is None are left out."""
    el = etree.SubElement(parent, tag)
    for key, value in attrs.items():
        if value is not None:
            el.set(key.rstrip("_").replace("__", "-"), str(value))
    if text is not None:
        el.text = str(text)
    return el


def parse(xml_text):
    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)
    return etree.fromstring(xml_text.encode("utf-8") if isinstance(xml_text, str) else xml_text, parser)


def tostring(root):
    return etree.tostring(root, pretty_print=True, encoding="unicode")


def text(root, path, default=None):
    el = root.find(path)
    if el is None or el.text is None:
        return default
    return el.text.strip()


def attr(root, path, name, default=None):
    el = root.find(path)
    if el is None:
        return default
    return el.get(name, default)


def to_int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def alias_of(device):
    """The spec name of a device from its libvirt user alias, or None."""
    name = attr(device, "alias", "name")
    if name and name.startswith(USER_ALIAS):
        return name[len(USER_ALIAS):]
    return None


def kib(count):
    return count // 1024


def to_bytes(el):
    """Bytes of a libvirt size element honouring its unit attribute (default KiB)."""
    if el is None or el.text is None:
        return None
    unit = (el.get("unit") or "KiB").lower()
    factors = {"b": 1, "bytes": 1, "k": 1024, "kib": 1024, "kb": 1000, "m": 2 ** 20, "mib": 2 ** 20,
               "mb": 10 ** 6, "g": 2 ** 30, "gib": 2 ** 30, "gb": 10 ** 9, "t": 2 ** 40, "tib": 2 ** 40}
    return int(el.text.strip()) * factors.get(unit, 1024)
