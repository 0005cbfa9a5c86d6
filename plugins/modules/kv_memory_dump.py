#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: kv_memory_dump
short_description: Dump the memory of a running libvirt VM, like KubeVirt's memory dump
version_added: 0.1.0
description:
  - Writes a memory-only dump of a running VM (libvirt C(virDomainCoreDumpWithFormat) with
    C(VIR_DUMP_MEMORY_ONLY)) to a file, or to a volume of a libvirt C(dir) storage pool.
  - Never overwrites an existing file unless O(force=true); a failed dump leaves the target as it was
    (libvirt writes into a temporary file beside it, which is moved into place when complete).
  - The file is made mode C(0600) (it holds guest memory). The result names its size, format and sha256.
  - The last request is recorded in the domain's metadata with KubeVirt's phases (C(InProgress),
    C(Completed), C(Failed)), live and in the persistent definition, and M(kvcompute.libvirt.kv_vm_info)
    reports it as RV(kvcompute.libvirt.kv_vm_info#module:vms[].memory_dump).
  - Long dumps can run under Ansible's C(async) with C(poll=0); meanwhile M(kvcompute.libvirt.kv_vm_info)
    shows phase C(InProgress) with the bytes processed so far, and C(ansible.builtin.async_status)
    returns this module's result when it is done.
extends_documentation_fragment:
  - kvcompute.libvirt.connection
author:
  - kvcompute.libvirt contributors (!UNKNOWN)
options:
  name:
    description: The running VM (libvirt domain) to dump.
    type: str
    required: true
  path:
    description:
      - Absolute path of the dump file. Its directory must exist.
      - Give either O(path), or O(pool) and O(volume).
    type: path
  pool:
    description: A libvirt storage pool of type C(dir) that gets the dump as a new volume O(volume).
    type: str
  volume:
    description: Name of the volume (a file name in the pool's directory).
    type: str
  format:
    description:
      - V(elf) is a raw memory-only ELF core (what C(crash) and C(gdb) read); V(kdump-zlib), V(kdump-lzo) and
        V(kdump-snappy) are the compressed kdump format of C(makedumpfile); V(win-dmp) is a Windows crash dump
        (Windows guests only).
      - libvirt hands QEMU a pipe, so the kdump formats arrive in makedumpfile's flattened layout (the file
        starts with C(makedumpfile), not C(KDUMP)); C(makedumpfile -R plain.kdump < dump) rearranges it.
      - Which formats a host offers depends on how its QEMU was built; the module asks QEMU first and fails
        before writing anything when the format is not offered (Debian 12's QEMU 7.2 offers V(elf),
        V(kdump-zlib) and V(win-dmp)).
    type: str
    choices: [elf, kdump-zlib, kdump-lzo, kdump-snappy, win-dmp]
    default: elf
  force:
    description: Replace an existing file or volume. The result's RV(replaced) says what was replaced.
    type: bool
    default: false
notes:
  - Runs on the libvirt host (it moves and hashes the dump file there).
  - Supports check mode - it checks the request, reports what it would do and writes nothing.
  - The guest is paused by QEMU while its memory is written.
  - Dump on crash (libvirt's C(coredump-restart)) is M(kvcompute.libvirt.kv_vm)'s O(kvcompute.libvirt.kv_vm#module:memory_dump)
    option; the directory is qemu.conf's C(auto_dump_path), set by the C(kvcompute.libvirt.libvirt_host) role.
seealso:
  - module: kvcompute.libvirt.kv_vm_info
  - module: kvcompute.libvirt.kv_vm
"""

EXAMPLES = r"""
- name: Dump web1's memory to a file
  kvcompute.libvirt.kv_memory_dump:
    name: web1
    path: /var/lib/libvirt/qemu/dump/web1.elf
  register: dump

- name: Compressed, into a volume of the "dumps" dir pool, replacing an older one
  kvcompute.libvirt.kv_memory_dump:
    name: web1
    pool: dumps
    volume: web1.kdump
    format: kdump-zlib
    force: true

- name: A long dump in the background
  kvcompute.libvirt.kv_memory_dump:
    name: bigvm
    path: /srv/dumps/bigvm.elf
  async: 3600
  poll: 0
  register: dump_job

- name: Progress meanwhile (phase InProgress, bytes processed)
  kvcompute.libvirt.kv_vm_info:
    name: bigvm
  register: info
  until: info.vms[0].memory_dump.phase != 'InProgress'
  retries: 360
  delay: 10

- name: The dump's own result
  ansible.builtin.async_status:
    jid: "{{ dump_job.ansible_job_id }}"
  register: dump
  until: dump.finished
  retries: 10
  delay: 5
"""

RETURN = r"""
path:
  description: The dump file.
  returned: always
  type: str
  sample: /var/lib/libvirt/qemu/dump/web1.elf
format:
  description: The dump format.
  returned: always
  type: str
  sample: elf
size:
  description: Size of the dump file in bytes.
  returned: when a dump was written
  type: int
  sample: 269484444
sha256:
  description: SHA-256 of the dump file.
  returned: when a dump was written
  type: str
duration:
  description: Seconds libvirt took to write the dump.
  returned: when a dump was written
  type: float
  sample: 1.4
mode:
  description: The file's mode.
  returned: when a dump was written
  type: str
  sample: "0600"
owner:
  description: The file's owner (libvirt creates it as root).
  returned: when a dump was written
  type: str
  sample: root
replaced:
  description: The file that O(force=true) replaced (or would replace), with its C(path), C(size) and C(mtime).
  returned: always
  type: dict
offered_formats:
  description: The dump formats this host's QEMU offers (null when it could not be asked).
  returned: always
  type: list
  elements: str
  sample: [elf, kdump-zlib, win-dmp]
memory_dump:
  description:
    - The request as recorded in the domain's metadata - C(phase) (C(Completed)), C(path), C(format),
      C(start_timestamp), C(end_timestamp), C(size), C(sha256); C(pool) and C(volume) for a pool target.
  returned: when a dump was written
  type: dict
msg:
  description: What was done (or would be done, in check mode).
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.kvcompute.libvirt.plugins.module_utils.converge import dump
from ansible_collections.kvcompute.libvirt.plugins.module_utils.converge.module import check_libraries, connected


def main():
    module = AnsibleModule(
        argument_spec=dict(
            uri=dict(type="str", default="qemu:///system"),
            name=dict(type="str", required=True),
            path=dict(type="path"),
            pool=dict(type="str"),
            volume=dict(type="str"),
            format=dict(type="str", default="elf", choices=list(dump.FORMATS)),
            force=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
        mutually_exclusive=[("path", "pool"), ("path", "volume")],
        required_together=[("pool", "volume")],
        required_one_of=[("path", "pool")],
    )
    check_libraries(module, missing_required_lib, names=("libvirt-python", "lxml"))

    def work(conn):
        return dump.run(conn, module.params, module.run_command, module.check_mode)

    module.exit_json(**connected(module, work, expected=(dump.DumpError,), prefix="%s: " % module.params["name"]))


if __name__ == "__main__":
    main()
