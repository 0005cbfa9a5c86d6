# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Errors of the spec layer: each names the field it is about."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class SpecError(ValueError):
    """One or more invalid fields; `problems` holds (field, message) pairs."""

    def __init__(self, problems):
        self.problems = list(problems)
        super(SpecError, self).__init__("; ".join("%s: %s" % p for p in self.problems))

    @property
    def fields(self):
        return [field for field, _msg in self.problems]
