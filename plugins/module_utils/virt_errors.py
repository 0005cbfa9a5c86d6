# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""VirtError: a libvirt failure, with what we were doing when it happened (shared by virt.py and its mixins)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class VirtError(Exception):
    """A libvirt failure, with what we were doing when it happened."""


def wrap(what, err):
    return VirtError("%s: %s" % (what, err.get_error_message() if hasattr(err, "get_error_message") else err))
