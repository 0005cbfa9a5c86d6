#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: kv_hugepages
short_description: Reserve 2Mi or 1Gi hugepages per NUMA node, now and at boot, and mount hugetlbfs
version_added: 0.1.0
description:
  - Sets the number of hugepages of one size now through sysfs, in the global pool (O(count))
    or per NUMA node (O(nodes)), and reads back what the kernel granted. The kernel grants only
    what it finds in contiguous free memory - when it grants fewer, the module puts the previous
    counts back and fails with what was asked for and granted, or keeps the grant and warns with
    O(allow_partial).
  - With O(persistent), the pages come back at every boot. 2Mi pages through C(vm.nr_hugepages) in
    C(/etc/sysctl.d/80-kvcompute-hugepages.conf); 1Gi pages through the kernel arguments
    C(hugepagesz=1G hugepages=<n>) (or C(hugepages=<node>:<n>,...) per node), edited as
    M(kvcompute.libvirt.kv_kernel_args) does. The kernel's default hugepage size is left alone
    (2Mi on x86), so C(/dev/hugepages) and C(vm.nr_hugepages) stay 2Mi.
  - Ensures a hugetlbfs mount for the size (now and in C(/etc/fstab)), which libvirt needs for
    C(<memoryBacking><hugepages>). libvirt looks for mounts only when it starts, so a mount added
    while libvirtd runs sets RV(libvirtd_restart_required).
  - Validates everything before it changes anything.
author:
  - kvcompute.libvirt contributors (!UNKNOWN)
options:
  size:
    description: The page size.
    type: str
    choices: [2Mi, 1Gi]
    required: true
  count:
    description:
      - Pages of O(size) in the global pool; the kernel spreads them over the NUMA nodes.
      - Exactly one of O(count) and O(nodes).
    type: int
  nodes:
    description:
      - "Pages per NUMA node, as a mapping of node id to count, e.g. C({0: 512, 1: 512}).
        Nodes not named keep their count."
    type: dict
  allow_partial:
    description:
      - Keep a smaller grant than asked for and warn, instead of failing.
    type: bool
    default: false
  persistent:
    description:
      - Reserve the pages at every boot too (see the description for how).
      - For 1Gi pages a smaller grant now is then not an error - the kernel reserves them at the next
        boot - and RV(reboot_required) tells that a reboot is needed for them.
      - A count of 0 removes the sysctl file or the C(hugepagesz)/C(hugepages) kernel arguments.
      - The module owns the C(hugepagesz) and C(hugepages) kernel arguments.
    type: bool
    default: false
  mount:
    description:
      - Ensure a hugetlbfs mount with this page size (when some pages are asked for).
      - An existing hugetlbfs mount or C(/etc/fstab) entry at O(mount_path) is kept; one with
        another file system or page size is an error.
    type: bool
    default: true
  mount_path:
    description:
      - Where hugetlbfs is mounted. Default C(/dev/hugepages) for 2Mi, C(/dev/hugepages1G) for 1Gi.
    type: path
  bootloader:
    description: Which boot configuration holds the 1Gi kernel arguments, see M(kvcompute.libvirt.kv_kernel_args).
    type: str
    choices: [auto, grub, bls]
    default: auto
  root:
    description:
      - Directory under which C(/sys), C(/proc), C(/etc) and C(/boot) are read and written.
        Meant for tests; under another root than C(/) no command runs (nothing is mounted).
    type: path
    default: /
attributes:
  check_mode:
    description: Validates and reports the counts, files and mounts a real run would change; changes nothing.
    support: full
  diff_mode:
    description: The files changed (sysctl file, C(/etc/fstab), boot configuration), before and after.
    support: full
notes:
  - Lowering a count below the pages in use leaves the used pages allocated until they are freed.
  - Per-node counts at boot - C(vm.nr_hugepages) spreads its pages evenly over the nodes (the module
    warns on multi-node hosts); the per-node form of C(hugepages=) needs a kernel that accepts it.
"""

EXAMPLES = r"""
- name: 512 pages of 2Mi on NUMA node 0, now and at boot
  kvcompute.libvirt.kv_hugepages:
    size: 2Mi
    nodes: {0: 512}
    persistent: true
  register: hp

- name: Four 1Gi pages, at boot through kernel arguments
  kvcompute.libvirt.kv_hugepages:
    size: 1Gi
    count: 4
    persistent: true
  register: hp1g

- name: Restart libvirtd when a hugetlbfs mount was added while it ran
  ansible.builtin.service:
    name: libvirtd
    state: restarted
  when: hp1g.libvirtd_restart_required
"""

RETURN = r"""
pages:
  description:
    - Per NUMA node (C(all) for the global pool) - C(requested), the count C(before), the count the
      kernel C(granted) (null in check mode when it would change) and C(free) pages after.
  returned: success
  type: list
  elements: dict
  sample: [{"node": "0", "size": "2Mi", "requested": 512, "before": 0, "granted": 512, "free": 512, "changed": true}]
persistent:
  description: How the pages come back at boot - C(sysctl), C(kernel_args), or null when O(persistent) is false.
  returned: success
  type: str
  sample: sysctl
kernel_args:
  description: The result of the kernel-argument edit for persistent 1Gi pages (as M(kvcompute.libvirt.kv_kernel_args) returns it).
  returned: success
  type: dict
mount:
  description:
    - The hugetlbfs mount - C(path), C(pagesize), whether it was C(mounted) before, C(in_fstab) before,
      and C(added) when it was mounted now. Null when no pages are asked for or O(mount) is false.
  returned: success
  type: dict
  sample: {"path": "/dev/hugepages", "pagesize": "2M", "mounted": true, "in_fstab": true}
files:
  description: Host paths of the files changed.
  returned: success
  type: list
  elements: str
  sample: ["/etc/sysctl.d/80-kvcompute-hugepages.conf"]
commands:
  description: Commands run (mount, update-grub).
  returned: success
  type: list
  elements: list
reboot_required:
  description: True when pages asked for at boot (1Gi, O(persistent)) are missing now and the running kernel lacks their arguments.
  returned: success
  type: bool
  sample: false
libvirtd_restart_required:
  description: True when a hugetlbfs mount was added while libvirtd runs; restart libvirtd so it uses the pages.
  returned: success
  type: bool
  sample: false
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kvcompute.libvirt.plugins.module_utils.host import hugepages, kernel_args
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.hostfs import HostFS
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.task import finish, which


def _nodes(raw):
    """Counts may arrive as strings from templating; the validator names what is not a number."""
    if raw is None:
        return None
    return dict((node, int(n) if isinstance(n, str) and n.strip().isdigit() else n) for node, n in raw.items())


def main():
    module = AnsibleModule(
        argument_spec=dict(
            size=dict(type="str", choices=sorted(hugepages.SIZES), required=True),
            count=dict(type="int"),
            nodes=dict(type="dict"),
            allow_partial=dict(type="bool", default=False),
            persistent=dict(type="bool", default=False),
            mount=dict(type="bool", default=True),
            mount_path=dict(type="path"),
            bootloader=dict(type="str", choices=list(kernel_args.BOOTLOADERS), default="auto"),
            root=dict(type="path", default="/"),
        ),
        required_one_of=[("count", "nodes")],
        mutually_exclusive=[("count", "nodes")],
        supports_check_mode=True,
    )
    p = module.params
    fs = HostFS(p["root"])
    finish(module, lambda: hugepages.apply(
        fs, p["size"], p["count"], _nodes(p["nodes"]),
        allow_partial=p["allow_partial"], persistent=p["persistent"], mount=p["mount"],
        mount_path=p["mount_path"], bootloader=p["bootloader"], check_mode=module.check_mode,
        run=module.run_command, which=which(module)))


if __name__ == "__main__":
    main()
