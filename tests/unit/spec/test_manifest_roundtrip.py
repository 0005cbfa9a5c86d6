# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""manifest -> VM -> manifest, and options -> VM -> manifest -> VM: every compute field kept."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os
import sys

import pytest
from hypothesis import given, settings

from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec import manifest as mf
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.export import to_options
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.kubevirt_export import to_manifest
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.options import parse_options
from tests.support import kubevirt_conformance as kc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vm_strategies  # noqa: E402

CAT = kc.catalogue("/img")
# Compute fields KubeVirt has a field for: they must travel in the manifest itself, never in the annotation.
IN_KUBEVIRT = ("cpu", "memory", "resources", "machine", "firmware", "rng", "tpm")


def round_trip(spec, seeds=None, run=None, **kw):
    manifest = to_manifest(spec, seeds=seeds, run=run, **kw)
    again, tr = mf.to_spec(copy.deepcopy(manifest), **kw)
    return manifest, again, tr


def annotation(manifest):
    return json.loads(manifest["metadata"].get("annotations", {}).get(mf.OPTIONS_ANNOTATION, "{}"))


@pytest.mark.parametrize("name", kc.vm_files())
def test_conformance_manifest_round_trip(name):
    manifest = kc.load(name)
    manifest = kc.without(manifest, [p for p, _o, _s in kc.missing(name)])
    spec, tr = mf.to_spec(manifest, catalogue=CAT)
    seeds = dict((s.disk, (s.label, s.files)) for s in tr.seeds)
    out, again, tr2 = round_trip(spec, seeds=seeds, run=tr.run, catalogue=CAT)
    assert to_options(again) == to_options(spec)
    assert tr2.run == tr.run
    assert [(s.label, s.files) for s in tr2.seeds] == [(s.label, s.files) for s in tr.seeds]
    extra = annotation(out)
    assert not set(extra) & set(IN_KUBEVIRT), extra
    if name != "vmi-kernel-boot.yaml":  # a kernel path has no KubeVirt field without a container image
        assert extra == {}, extra


def test_export_looks_like_kubevirt():
    spec, tr = mf.to_spec(kc.load("vm-cirros.yaml"), catalogue=CAT)
    out = to_manifest(spec, seeds=dict((s.disk, (s.label, s.files)) for s in tr.seeds), run=tr.run, catalogue=CAT)
    vmi = out["spec"]["template"]["spec"]
    assert out["kind"] == "VirtualMachine" and out["spec"]["runStrategy"] == "Halted"
    assert vmi["terminationGracePeriodSeconds"] == 0
    assert vmi["volumes"][0] == {"name": "containerdisk",
                                 "containerDisk": {"image": "registry:5000/kubevirt/cirros-container-disk-demo:devel"}}
    assert vmi["volumes"][1]["cloudInitNoCloud"]["userData"].startswith("#!/bin/sh")
    assert vmi["domain"]["devices"]["disks"][0] == {"name": "containerdisk", "disk": {"bus": "virtio"}}
    assert vmi["networks"] == [{"name": "default", "pod": {}}]


def test_what_kubevirt_cannot_say_travels_in_the_annotation():
    spec = parse_options({"name": "vm1", "domain_type": "qemu", "video": "vga",
                          "serial": {"type": "file", "path": "/var/log/s"},
                          "interfaces": [{"name": "lan", "type": "bridge", "source": "br0"}],
                          "disks": [{"name": "cd", "device": "cdrom"}]})
    out, again, _tr = round_trip(spec)
    assert set(annotation(out)) == {"domain_type", "serial", "interfaces", "disks"}
    assert to_options(again) == to_options(spec)


@settings(max_examples=150, deadline=None)
@given(vm_strategies.valid_options())
def test_every_foundation_field_round_trips(options):
    spec = parse_options(copy.deepcopy(options))
    out, again, _tr = round_trip(spec)
    assert to_options(again) == to_options(spec)
    extra = annotation(out)
    # tpm.encryption_secret has no KubeVirt field: then the annotation carries the whole tpm.
    overlap = set(extra) & set(IN_KUBEVIRT) - ({"tpm"} if (spec.tpm and spec.tpm.encryption_secret) else set())
    assert not overlap, extra
    assert out["metadata"]["name"] == spec.name


@settings(max_examples=60, deadline=None)
@given(vm_strategies.valid_options())
def test_round_trip_with_a_catalogue_and_a_pool(options):
    """Pool disks export as claims of the given pool, catalogue files as container disks."""
    spec = parse_options(copy.deepcopy(options))
    for disk in spec.disks:
        disk.transient = bool(disk.path and disk.device == "disk" and not disk.readonly)
    catalogue = dict(("quay.io/x/%s" % d.name, d.path) for d in spec.disks if d.transient)
    out, again, _tr = round_trip(spec, catalogue=catalogue, storage_pool="default")
    assert to_options(again) == to_options(spec)
    images = [v["containerDisk"]["image"] for v in out["spec"]["template"]["spec"].get("volumes", [])
              if "containerDisk" in v]
    assert sorted(images) == sorted(catalogue)
