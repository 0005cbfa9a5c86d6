#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: kv_mdev
short_description: List mediated device (vGPU) types and create or remove persistent mediated devices
version_added: 0.2.0
description:
  - Reports every mediated-device parent of the host (a GPU whose vendor driver offers vGPUs) with its types,
    their names (what C(mdev_name_selector) of KubeVirt's C(permittedHostDevices) matches) and free instances,
    and the mediated devices that exist.
  - With O(uuid), creates (O(state=present)) or removes (O(state=absent)) one mediated device; idempotent by UUID.
  - Persistent mediated devices (O(persistent=true)) come back at boot - with the V(libvirt) backend as a libvirt
    node device that is defined, started and autostarted (C(virNodeDeviceDefineXML), libvirt 7.3 or later, which
    uses mdevctl); with the V(sysfs) backend through the kernel's C(create) file and a udev rule
    C(/etc/udev/rules.d/90-kvcompute-mdev-<uuid>.rules) that creates it again when the parent's driver binds.
  - Refuses to remove a mediated device that a defined VM still uses, and to create one on a type with no free
    instance; nothing is changed then.
author:
  - kvcompute.libvirt contributors (!UNKNOWN)
extends_documentation_fragment:
  - kvcompute.libvirt.connection
  - kvcompute.libvirt.host_root
options:
  uuid:
    description: The mediated device's UUID. Without it the module only reports.
    type: str
  parent:
    description: The parent device (a PCI address such as V(0000:81:00.0)). Required with O(state=present).
    type: str
  type:
    description: The mdev type id on that parent, for example V(nvidia-63). Required with O(state=present).
    type: str
  state:
    description: Whether the mediated device O(uuid) exists.
    type: str
    choices: [present, absent]
    default: present
  persistent:
    description: Keep the mediated device across reboots. V(false) creates a transient one.
    type: bool
    default: true
  backend:
    description:
      - How to create it. V(auto) uses V(libvirt) when libvirt is 7.3 or later and mdevctl is installed (and
        O(root) is V(/)), else V(sysfs).
    type: str
    choices: [auto, libvirt, sysfs]
    default: auto
attributes:
  check_mode:
    description: Reports the actions a real run would take, and takes none.
    support: full
  diff_mode:
    description: No diff; RV(actions) lists what changes.
    support: none
notes:
  - M(kvcompute.libvirt.kv_vm) creates the mediated devices its C(gpus) need by itself; this module is for
    preparing them ahead, as KubeVirt's C(mediatedDevicesConfiguration) does.
seealso:
  - module: kvcompute.libvirt.kv_vm
  - module: kvcompute.libvirt.kv_iommu
"""

EXAMPLES = r"""
- name: Which vGPU types does the host offer?
  kvcompute.libvirt.kv_mdev:
  register: mdev

- name: A persistent GRID T4-1Q vGPU
  kvcompute.libvirt.kv_mdev:
    uuid: 6b1f3f6e-8e5c-4b7a-9d55-3c1e8f0a2b11
    parent: "0000:81:00.0"
    type: nvidia-63

- name: Remove it
  kvcompute.libvirt.kv_mdev:
    uuid: 6b1f3f6e-8e5c-4b7a-9d55-3c1e8f0a2b11
    state: absent
"""

RETURN = r"""
parents:
  description: Each parent with its C(types) (C(type), C(name), C(available_instances), C(device_api)), after the task.
  returned: always
  type: list
  elements: dict
  sample: [{"parent": "0000:81:00.0", "types": [{"type": "nvidia-63", "name": "GRID T4-1Q",
            "available_instances": 15, "device_api": "vfio-pci"}]}]
mdevs:
  description: The mediated devices that exist, each with C(uuid), C(parent) and C(type).
  returned: always
  type: list
  elements: dict
backend:
  description: The backend used (V(libvirt) or V(sysfs)).
  returned: when O(uuid) is given
  type: str
actions:
  description: What was done (or would be, in check mode), each with C(action) and its details.
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.kvcompute.libvirt.plugins.module_utils.converge import mdev
from ansible_collections.kvcompute.libvirt.plugins.module_utils.converge.module import check_libraries, connected
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.hostfs import HostFS


def main():
    module = AnsibleModule(
        argument_spec=dict(
            uri=dict(type="str", default="qemu:///system"),
            uuid=dict(type="str"),
            parent=dict(type="str"),
            type=dict(type="str"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            persistent=dict(type="bool", default=True),
            backend=dict(type="str", choices=list(mdev.BACKENDS), default="auto"),
            root=dict(type="path", default="/"),
        ),
        supports_check_mode=True,
    )
    check_libraries(module, missing_required_lib, names=("libvirt-python", "lxml"))
    fs = HostFS(module.params["root"])
    p = module.params

    def work(conn):
        out = {"actions": []}
        if p["uuid"]:
            backend, actions = mdev.plan(fs, conn, p["uuid"], p["parent"], p["type"], p["state"], p["persistent"],
                                         p["backend"])
            out.update(backend=backend, actions=actions)
            if actions and not module.check_mode:
                mdev.apply(fs, conn, actions)
        return out

    out = connected(module, work, expected=(mdev.MdevError, OSError, IOError))
    module.exit_json(changed=bool(out["actions"]), **dict(out, **mdev.inventory(fs)))


if __name__ == "__main__":
    main()
