#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: kv_cpu_manager
short_description: Split the host's CPUs into reserved (system) CPUs and the VM pool
version_added: 0.1.0
description:
  - Like kubelet's static CPU manager with C(--reserved-cpus) - O(reserved_cpus) are left to the
    host's own processes, the pool (every other online CPU, or O(pool_cpus)) is for VMs.
  - 'Records the pools in C(/etc/kvcompute/cpu_manager.json) as cpuset strings
    (C({"reserved": "0", "pool": "1-3"})), where M(kvcompute.libvirt.kv_vm) reads them for
    dedicated CPU placement.'
  - Validates before it writes - every CPU must be online, the pools must not overlap and
    neither may be empty.
  - Confining services and isolating the pool are the cpu_manager role's work (systemd
    C(AllowedCPUs), M(kvcompute.libvirt.kv_kernel_args)).
author:
  - kvcompute.libvirt contributors (!UNKNOWN)
options:
  reserved_cpus:
    description:
      - CPUs for the host's own processes, in the Linux list format (C(0), C(0,2), C(0-1)).
    type: str
    required: true
  pool_cpus:
    description:
      - CPUs for VMs. Default - every online CPU not in O(reserved_cpus).
      - CPUs in neither pool stay unused by VMs and by confined services.
    type: str
  root:
    description:
      - Directory under which C(/sys/devices/system/cpu/online) is read and C(/etc/kvcompute) written.
        Meant for tests.
    type: path
    default: /
attributes:
  check_mode:
    description: Validates and reports the pools a real run records; writes nothing.
    support: full
  diff_mode:
    description: The pools file before and after.
    support: full
notes:
  - A file that already records the same pools (in any layout) is left as it is.
"""

EXAMPLES = r"""
- name: Keep CPU 0 for the host, give the rest to VMs
  kvcompute.libvirt.kv_cpu_manager:
    reserved_cpus: "0"
  register: pools

- name: Reserve two CPUs, pool four, leave the rest alone
  kvcompute.libvirt.kv_cpu_manager:
    reserved_cpus: "0,4"
    pool_cpus: "1-3,5"
"""

RETURN = r"""
reserved:
  description: The reserved CPUs, as a cpuset string.
  returned: success
  type: str
  sample: "0"
pool:
  description: The VM pool, as a cpuset string.
  returned: success
  type: str
  sample: "1-3"
online:
  description: The host's online CPUs.
  returned: success
  type: str
  sample: "0-3"
file:
  description: The host path of the pools file.
  returned: success
  type: str
  sample: /etc/kvcompute/cpu_manager.json
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kvcompute.libvirt.plugins.module_utils.host import cpu_manager
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.hostfs import HostFS
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.task import finish


def main():
    module = AnsibleModule(
        argument_spec=dict(
            reserved_cpus=dict(type="str", required=True),
            pool_cpus=dict(type="str"),
            root=dict(type="path", default="/"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    fs = HostFS(p["root"])
    finish(module, lambda: cpu_manager.apply(fs, p["reserved_cpus"], p["pool_cpus"], module.check_mode))


if __name__ == "__main__":
    main()
