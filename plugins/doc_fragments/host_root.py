# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The root under which a host module reads and writes host files (sysfs, /proc, /etc)."""

    DOCUMENTATION = r"""
options:
  root:
    description:
      - Directory under which host files (C(/sys), C(/proc), C(/dev), C(/etc)) are read and written.
      - Meant for testing with a fake tree and for chroots; leave the default on real hosts.
    type: path
    default: /
"""
