# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Our <metadata>: the declared spec, kept by libvirt with the domain.

The live XML carries the metadata the domain booted with, so comparing it with
the desired spec tells which restart-only fields are still pending.  The XML
itself stays the truth for everything it can express.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import KV_NS, etree, sub

TAG = "{%s}vm" % KV_NS


def render(root, options):
    meta = sub(root, "metadata")
    vm = etree.SubElement(meta, TAG, nsmap={"kv": KV_NS})
    spec = etree.SubElement(vm, "{%s}spec" % KV_NS)
    spec.text = json.dumps(options, sort_keys=True)


def read(root):
    """The declared options stored in a domain, or None for a domain we did not write."""
    el = root.find("metadata/%s/{%s}spec" % (TAG, KV_NS))
    if el is None or not el.text:
        return None
    try:
        return json.loads(el.text)
    except ValueError:
        return None
