#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: kv_kernel_args
short_description: Add, replace or remove kernel command line arguments for the next boot
version_added: 0.1.0
description:
  - Edits the kernel arguments the next boot gets, in the GRUB defaults (C(GRUB_CMDLINE_LINUX) in
    C(/etc/default/grub), or in the C(/etc/default/grub.d/*.cfg) file that sets it last) and in
    Boot Loader Specification entries (the C(options) lines of C(/boot/loader/entries/*.conf)).
  - After a GRUB defaults change on the real root it runs C(update-grub), C(grub-mkconfig) or
    C(grub2-mkconfig), whichever exists. BLS entries are edited with C(grubby) when it exists
    (on the real root), else directly.
  - Reports whether a reboot is needed, by comparing the wanted arguments with the running
    kernel's C(/proc/cmdline). Never reboots.
  - Files are replaced atomically and keep their mode. Nothing is written when an argument is invalid.
  - The shared mechanism behind the cpu_manager, hugepages and iommu roles.
author:
  - kvcompute.libvirt contributors (!UNKNOWN)
options:
  present:
    description:
      - Whole arguments the next boot must have, e.g. C(intel_iommu=on) or C(nohz).
      - An argument replaces every argument with the same key (at the place of the first one;
        duplicates go), so C(isolcpus=1-3) replaces C(isolcpus=1). A new key is appended.
      - Keys compare as the kernel compares them (C(-) and C(_) are the same). Quote a value
        with spaces as C(key="a b"). A key may appear only once.
    type: list
    elements: str
    default: []
  absent:
    description:
      - Keys to remove with all their values (C(isolcpus)), or one whole C(key=value) argument to
        remove only that one.
      - A key may not be in both O(present) and O(absent).
    type: list
    elements: str
    default: []
  bootloader:
    description:
      - Which configuration to edit. C(auto) edits the GRUB defaults and the BLS entries, those
        that exist; C(grub) and C(bls) only one kind, and fail when it is missing.
      - With O(present) set and no configuration found the module fails; with only O(absent)
        there is then nothing to remove.
    type: str
    choices: [auto, grub, bls]
    default: auto
  root:
    description:
      - Directory under which the files (C(/etc/default/grub), C(/boot/loader/entries),
        C(/proc/cmdline)) are read and written. Meant for tests and images.
      - Commands (C(update-grub), C(grubby)) run only when this is C(/).
    type: path
    default: /
attributes:
  check_mode:
    description: Reports the arguments and files a real run would write; writes nothing.
    support: full
  diff_mode:
    description: The text of every changed file, before and after.
    support: full
notes:
  - Arguments after C(--) belong to init and are never edited; new arguments go before it.
  - The running kernel's arguments change only with a reboot; the roles ask for consent
    (C(<role>_reboot_ok)) before they reboot.
seealso:
  - name: The kernel's command-line parameters
    description: Parameter names, values and how duplicates are treated.
    link: https://docs.kernel.org/admin-guide/kernel-parameters.html
"""

EXAMPLES = r"""
- name: Isolate CPUs 1-3 and turn the IOMMU on for the next boot
  kvcompute.libvirt.kv_kernel_args:
    present:
      - isolcpus=1-3
      - intel_iommu=on
      - iommu=pt
  register: kargs

- name: Tell when a reboot is needed
  ansible.builtin.debug:
    msg: "Reboot to apply {{ kargs.after | join(' ') }}"
  when: kargs.reboot_required

- name: Remove CPU isolation
  kvcompute.libvirt.kv_kernel_args:
    absent: [isolcpus, nohz_full, rcu_nocbs]
"""

RETURN = r"""
before:
  description:
    - The arguments of the first configuration before the edit (the GRUB defaults'
      C(GRUB_CMDLINE_LINUX) followed by C(GRUB_CMDLINE_LINUX_DEFAULT), else the newest BLS entry).
  returned: always
  type: list
  elements: str
  sample: ["quiet", "isolcpus=1"]
after:
  description: The same arguments after the edit (what they would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: ["quiet", "isolcpus=1-3", "intel_iommu=on"]
sources:
  description: Every configuration looked at, with its arguments before and after.
  returned: always
  type: list
  elements: dict
  sample: [{"file": "/etc/default/grub", "kind": "grub", "before": ["quiet"], "after": ["quiet", "iommu=pt"]}]
files:
  description: Host paths of the files changed (or that would change, in check mode).
  returned: always
  type: list
  elements: str
  sample: ["/etc/default/grub"]
commands:
  description: The commands run after the files were written (none in check mode).
  returned: always
  type: list
  elements: list
  sample: [["/usr/sbin/update-grub"]]
reboot_required:
  description:
    - True when the running kernel (C(/proc/cmdline)) lacks an argument of O(present) or still
      has one of O(absent), i.e. only a reboot makes the edit take effect.
  returned: always
  type: bool
  sample: true
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kvcompute.libvirt.plugins.module_utils.host import kernel_args
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.hostfs import HostFS
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.task import finish, which


def main():
    module = AnsibleModule(
        argument_spec=dict(
            present=dict(type="list", elements="str", default=[]),
            absent=dict(type="list", elements="str", default=[]),
            bootloader=dict(type="str", choices=list(kernel_args.BOOTLOADERS), default="auto"),
            root=dict(type="path", default="/"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    fs = HostFS(p["root"])
    finish(module, lambda: kernel_args.apply(
        fs, p["present"], p["absent"], p["bootloader"], check_mode=module.check_mode,
        run=module.run_command, which=which(module)))


if __name__ == "__main__":
    main()
