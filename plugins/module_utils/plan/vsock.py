# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The VSOCK context id of a VM (KubeVirt's autoattachVSOCK -> status.VSOCKCID): unique on the host, stable."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

FIRST_CID = 3  # 0-2 are the hypervisor, local and host
LAST_CID = 2 ** 32 - 2  # 2^32-1 is VMADDR_CID_ANY


def choose_cid(own, used):
    """The VM's own CID when it has one no other VM holds; else the lowest free CID >= 3.

    own: the CID in the VM's current definition (or None); used: CIDs of every other domain.
    """
    if own is not None and own >= FIRST_CID and own not in used:
        return own
    cid = FIRST_CID
    while cid in used:
        cid += 1
    if cid > LAST_CID:
        raise ValueError("no free VSOCK CID")
    return cid
