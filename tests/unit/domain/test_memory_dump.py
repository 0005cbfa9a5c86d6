# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""memory_dump.on_crash: options -> <on_crash> + pvpanic -> parse-back; the dump record in <metadata>."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain import memory_dump
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain import merge as merge_mod
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain import metadata
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.parse import parse_options as parse_domain
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.render import render_tree
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import etree, parse, text, tostring
from ansible_collections.kvcompute.libvirt.plugins.module_utils.reconcile.classify import classify
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.errors import SpecError
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.export import to_options
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.options import parse_options

from test_roundtrip import resolved as resolve_options  # noqa: E402 pylint: disable=wrong-import-position


def _tree(options):
    spec, plan = resolve_options(options)
    return spec, render_tree(spec, plan)


@pytest.mark.parametrize("on_crash, action", [(True, "coredump-restart"), (False, "destroy")])
def test_on_crash_round_trip(on_crash, action):
    resolved, root = _tree({"name": "vm1", "memory_dump": {"on_crash": on_crash}})
    assert text(root, "on_crash") == action
    assert (root.find("devices/panic[@model='isa']") is not None) is on_crash
    back = parse_domain(tostring(root))
    assert back.get("memory_dump") == ({"on_crash": True} if on_crash else None)
    desired = to_options(resolved)
    assert to_options(parse_options(back)) == desired
    assert classify(desired, to_options(parse_options(back)), running=False)[0] == []


def test_on_crash_change_needs_restart():
    _spec, root = _tree({"name": "vm1"})
    observed = to_options(parse_options(parse_domain(tostring(root))))
    desired = to_options(_tree({"name": "vm1", "memory_dump": {"on_crash": True}})[0])
    changes = classify(desired, observed, running=True)[0]
    assert [(c["field"], c["apply"]) for c in changes] == [("memory_dump", "restart")] or \
        [(c["field"], c["apply"]) for c in changes] == [("memory_dump.on_crash", "restart")], changes


def test_unknown_memory_dump_key_is_named():
    with pytest.raises(SpecError) as err:
        parse_options({"name": "vm1", "memory_dump": {"on_crash": True, "dir": "/x"}})
    assert "memory_dump.dir" in str(err.value)


def test_redefine_keeps_dump_record_and_one_panic_device():
    _spec, old = _tree({"name": "vm1", "memory_dump": {"on_crash": True}})
    record = {"phase": "Completed", "path": "/d/vm1.elf", "format": "elf", "size": 42, "sha256": "ab" * 32}
    meta = old.find("metadata")
    el = etree.fromstring(memory_dump.render(record))
    kept = etree.SubElement(meta, memory_dump.TAG, nsmap={memory_dump.PREFIX: memory_dump.NS})
    kept.attrib.update(el.attrib)
    _spec, new = _tree({"name": "vm1", "memory_dump": {"on_crash": True}, "rng": True})
    merged = merge_mod.merge(new, parse(tostring(old)))
    assert memory_dump.read(merged) == record
    assert metadata.read(merged) is not None
    assert len(merged.findall("devices/panic")) == 1


def test_record_text_as_libvirt_returns_it():
    xml = memory_dump.render({"phase": "InProgress", "path": "/d/x", "format": "kdump-zlib", "size": None})
    assert "xmlns" not in xml and xml.startswith("<memoryDump ")  # libvirt adds the namespace itself
    got = memory_dump.read_text('<kvdump:memoryDump xmlns:kvdump="%s" phase="Failed" message="boom"/>'
                                % memory_dump.NS)
    assert got == {"phase": "Failed", "message": "boom"}
    assert memory_dump.read_text(None) is None
