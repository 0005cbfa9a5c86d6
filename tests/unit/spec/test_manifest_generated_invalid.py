# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Generated bad manifests (tests/support/bad_manifest.py): every mutation is refused, naming its manifest path."""

import pytest
from hypothesis import given, settings

from ansible_collections.kvcompute.libvirt.plugins.module_utils.converge.vm import read_request
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.errors import SpecError
from tests.support.bad_input import names_field
from tests.support.bad_manifest import bad_manifests, base


@pytest.mark.parametrize("kind", ["VirtualMachine", "VirtualMachineInstance"])
def test_base_is_valid(kind):
    read_request({"manifest": base(kind), "image_catalogue": {}}, {})


@settings(max_examples=1000, deadline=None)
@given(bad_manifests())
def test_every_mutation_is_refused_naming_its_path(case):
    manifest, path = case
    try:
        read_request({"manifest": manifest, "image_catalogue": {}}, {})
    except SpecError as err:
        assert names_field(err.problems, path), (path, err.problems)
    else:
        raise AssertionError("accepted: %s in %r" % (path, manifest))
