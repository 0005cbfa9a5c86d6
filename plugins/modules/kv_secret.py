#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: kv_secret
short_description: A libvirt secret that encrypts a VM's TPM state
description:
  - Defines or removes a private libvirt secret of usage C(vtpm). swtpm encrypts a VM's TPM state with it when
    the VM names it in O(kvcompute.libvirt.kv_vm#module:tpm.encryption_secret).
  - libvirt never hands a private secret's value back, so the value is written when the secret is created, and on
    every run only with O(update_value=always). It is never returned or logged.
  - Removing a secret that encrypts a defined VM's TPM state is refused unless O(force=true), since that state
    could no longer be read.
version_added: 0.1.0
author: kvcompute.libvirt contributors (!UNKNOWN)
extends_documentation_fragment:
  - kvcompute.libvirt.connection
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    description: Reports what would be defined, written or removed; changes nothing.
    support: full
  diff_mode:
    description: Shows the secret's presence and description before and after (never its value).
    support: full
  platform:
    platforms: posix
options:
  name:
    description: The secret's usage name (libvirt's C(<usage type='vtpm'><name>)); libvirt picks its UUID.
    type: str
    required: true
  value:
    description: The passphrase swtpm derives its key from. Required to create the secret.
    type: str
  update_value:
    description:
      - V(on_create) writes O(value) only when the secret is created (idempotent).
      - V(always) writes it on every run (reported as changed, as libvirt cannot compare it).
      - Changing the value of a secret in use makes existing encrypted TPM state unreadable.
    type: str
    choices: [on_create, always]
    default: on_create
  description:
    description: A free text description kept with the secret.
    type: str
  state:
    description: Whether the secret exists.
    type: str
    choices: [present, absent]
    default: present
  force:
    description: With O(state=absent), remove the secret even when VMs' TPM state is encrypted with it.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: A secret for the TPM state of db1
  kvcompute.libvirt.kv_secret:
    name: db1-vtpm
    value: "{{ vault_db1_tpm_passphrase }}"
  register: tpm_secret

- name: db1 with an encrypted persistent TPM
  kvcompute.libvirt.kv_vm:
    name: db1
    firmware: {type: efi}
    tpm:
      persistent: true
      encryption_secret: db1-vtpm
"""

RETURN = r"""
name:
  description: The usage name.
  returned: always
  type: str
uuid:
  description: The secret's UUID (null in check mode before it exists).
  returned: always
  type: str
usage:
  description: Always V(vtpm).
  returned: always
  type: str
value_set:
  description: Whether the value was (or, in check mode, would be) written.
  returned: always
  type: bool
used_by:
  description: With O(state=absent), the defined VMs whose TPM state this secret encrypts.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.kvcompute.libvirt.plugins.module_utils.converge import secret
from ansible_collections.kvcompute.libvirt.plugins.module_utils.converge.module import check_libraries, connected


def main():
    module = AnsibleModule(
        argument_spec=dict(
            uri=dict(type="str", default="qemu:///system"),
            name=dict(type="str", required=True),
            value=dict(type="str", no_log=True),
            update_value=dict(type="str", default="on_create", choices=["on_create", "always"]),
            description=dict(type="str"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            force=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    check_libraries(module, missing_required_lib, names=("libvirt-python", "lxml"))
    result = connected(module, lambda conn: secret.run(conn, module.params, module.check_mode),
                       expected=(secret.SecretError,))
    if not module._diff:
        result.pop("diff")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
