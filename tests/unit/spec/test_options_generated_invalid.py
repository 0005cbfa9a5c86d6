# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Generated bad input (tests/support/bad_input.py): every mutation of a valid VM is refused, naming its field."""

from hypothesis import given, settings

from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.errors import SpecError
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.options import parse_options
from tests.support.bad_input import BASE, bad_vm_options, names_field


def test_base_is_valid():
    parse_options(dict(BASE, name="kvt-bad"))


@settings(max_examples=1500, deadline=None)
@given(bad_vm_options())
def test_every_mutation_is_refused_naming_its_field(case):
    opts, field = case
    try:
        parse_options(opts)
    except SpecError as err:
        assert names_field(err.problems, field), (field, err.problems)
    else:
        raise AssertionError("accepted: %s in %r" % (field, opts))
