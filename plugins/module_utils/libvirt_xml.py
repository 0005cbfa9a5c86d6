# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""lxml, imported once for every XML reader and writer, and libvirt's scaled integers."""

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

# libvirt's units (formatdomain "Memory Allocation"); a bare number is KiB.
_UNIT_BYTES = {
    "b": 1, "bytes": 1,
    "k": 1024, "kib": 1024, "kb": 1000,
    "m": 1024 ** 2, "mib": 1024 ** 2, "mb": 1000 ** 2,
    "g": 1024 ** 3, "gib": 1024 ** 3, "gb": 1000 ** 3,
    "t": 1024 ** 4, "tib": 1024 ** 4, "tb": 1000 ** 4,
}


def scaled_bytes(value, unit="KiB"):
    """A libvirt scaled integer in bytes."""
    return int(value) * _UNIT_BYTES[(unit or "KiB").lower()]


def parse(xml_text):
    """Parse XML from libvirt or the host without resolving entities or touching the network."""
    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)
    return etree.fromstring(xml_text.encode("utf-8") if isinstance(xml_text, str) else xml_text, parser)
