#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: kv_tpm
short_description: Back up, restore and verify a VM's persistent TPM and UEFI NVRAM state
version_added: 0.2.0
description:
  - Backs up the state a VM must never lose, its swtpm state directory (C(/var/lib/libvirt/swtpm/<uuid>/), from
    O(kvcompute.libvirt.kv_vm#module:tpm.persistent=true)) and its UEFI NVRAM file, into one tar archive (mode 0600)
    with a manifest of sha256 checksums; restores it into a stopped VM, on the same or another host; verifies the
    VM's files against a backup.
  - The archive's members are relative to the VM's state, so a backup restores into a VM with another UUID,
    for example one removed with C(purge_state) and defined again.
  - A backup goes to a directory (O(dest)/O(src)), or to a volume of a libvirt C(dir) storage pool (O(pool) +
    O(volume); the PersistentVolumeClaim of this world, a pool can sit on shared storage). For a pool, the
    module resolves the pool's target directory with libvirt, writes the archive there as the file O(volume)
    (the manifest is the archive's first member) and refreshes the pool so libvirt lists the volume.
  - Idempotent. V(backup) when an identical backup exists, and V(restore) when the VM's files already match,
    change nothing. Supports check mode.
  - Swtpm state encryption through a libvirt secret is not implemented yet.
extends_documentation_fragment:
  - kvcompute.libvirt.connection
author:
  - kvcompute.libvirt contributors (!UNKNOWN)
options:
  name:
    description: Name of the VM (the libvirt domain). It must be defined on this host.
    type: str
    required: true
  action:
    description:
      - V(backup) writes the VM's TPM state and NVRAM into the backup; the VM must be shut off (swtpm and QEMU
        write the files while it runs). An existing backup with other contents is replaced.
      - V(restore) writes the backup into the VM's state files; the VM must be shut off (a running VM is an
        error and nothing changes). The VM must have a persistent TPM when the backup holds TPM state, and
        UEFI firmware when it holds an NVRAM file.
      - V(verify) compares the sha256 of the VM's live files, and of the archive's members, with the manifest;
        it fails when they differ. It changes nothing.
    type: str
    required: true
    choices: [backup, restore, verify]
  dest:
    description:
      - For V(backup), the directory to write C(tpm-state.tar) and C(manifest.json) into (created with mode 0700
        when missing).
    type: path
  src:
    description: For V(restore) and V(verify), the directory holding C(tpm-state.tar).
    type: path
  pool:
    description: A libvirt storage pool of type C(dir), active, holding the backup volume. Use with O(volume).
    type: str
  volume:
    description: The backup's volume (file) name in O(pool). Use with O(pool).
    type: str
notes:
  - Runs on the libvirt host.
  - Supports check mode.
seealso:
  - module: kvcompute.libvirt.kv_vm
"""

EXAMPLES = r"""
- name: Back up web1's TPM and NVRAM state (web1 is shut off)
  kvcompute.libvirt.kv_tpm:
    name: web1
    action: backup
    dest: /srv/backup/web1

- name: Back up into a volume of a dir pool on shared storage
  kvcompute.libvirt.kv_tpm:
    name: web1
    action: backup
    pool: state-backups
    volume: web1-tpm.tar

- name: Restore it into the stopped VM (here or on another host that sees the pool)
  kvcompute.libvirt.kv_tpm:
    name: web1
    action: restore
    pool: state-backups
    volume: web1-tpm.tar

- name: Check that the VM's files still match the backup
  kvcompute.libvirt.kv_tpm:
    name: web1
    action: verify
    src: /srv/backup/web1
"""

RETURN = r"""
name:
  description: The VM.
  returned: always
  type: str
uuid:
  description: The VM's UUID (its swtpm state directory is named after it).
  returned: always
  type: str
nvram:
  description: The VM's NVRAM file, or null without UEFI.
  returned: always
  type: str
swtpm_dir:
  description: The VM's swtpm state directory.
  returned: always
  type: str
backup:
  description: Where the backup is, C(archive) and C(manifest) paths, C(pool) and C(volume).
  returned: always
  type: dict
files:
  description: The archive's members (V(nvram), V(swtpm/...)).
  returned: always
  type: list
  elements: str
checksums:
  description: sha256 of each member.
  returned: always
  type: dict
differences:
  description: For V(restore) and V(verify), each file whose live checksum differs from the backup's.
  returned: for restore and verify
  type: list
  elements: dict
  sample: [{"file": "swtpm/tpm2/tpm2-00.permall", "backup": "9f86d0...", "live": null}]
match:
  description: For V(verify), whether the live files and the archive match the manifest.
  returned: for verify
  type: bool
archive_problems:
  description: For V(verify), members of the archive that do not match their manifest checksum.
  returned: for verify
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.kvcompute.libvirt.plugins.module_utils.converge import tpm_state
from ansible_collections.kvcompute.libvirt.plugins.module_utils.converge.module import check_libraries, connected
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.hostfs import HostFS


def main():
    module = AnsibleModule(
        argument_spec=dict(
            uri=dict(type="str", default="qemu:///system"),
            name=dict(type="str", required=True),
            action=dict(type="str", required=True, choices=list(tpm_state.ACTIONS)),
            dest=dict(type="path"),
            src=dict(type="path"),
            pool=dict(type="str"),
            volume=dict(type="str"),
        ),
        supports_check_mode=True,
        mutually_exclusive=[("dest", "src"), ("dest", "pool"), ("src", "pool")],
        required_together=[("pool", "volume")],
    )
    check_libraries(module, missing_required_lib, names=("libvirt-python", "lxml"))

    def work(conn):
        try:
            return tpm_state.run(conn, HostFS("/"), module.params, module.check_mode)
        except (OSError, IOError) as err:
            raise tpm_state.TpmStateError("%s: %s" % (module.params["action"], err))

    result = connected(module, work, expected=(tpm_state.TpmStateError,))
    if module.params["action"] == "verify" and not result["match"]:
        module.fail_json(msg="VM %s's state does not match the backup: %s" % (
            module.params["name"], "; ".join(
                ["%s differs" % d["file"] for d in result["differences"]] + result["archive_problems"])), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
