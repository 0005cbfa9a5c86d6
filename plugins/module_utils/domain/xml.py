# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""lxml helpers shared by the domain renderers and parsers."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.libvirt_xml import (  # noqa: F401 pylint: disable=unused-import
    HAS_LXML,
    LXML_IMPORT_ERROR,
    etree,
    parse,
    scaled_bytes,
)

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


def to_bytes(el, attr_name=None):
    """Bytes of a libvirt size element (or of its attribute attr_name), honouring its unit (default KiB)."""
    if el is None:
        return None
    value = el.text if attr_name is None else el.get(attr_name)
    if value is None:
        return None
    return scaled_bytes(value.strip(), el.get("unit"))
