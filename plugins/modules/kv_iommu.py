#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: kv_iommu
short_description: Report the IOMMU and bind PCI devices to vfio-pci for passthrough
version_added: 0.2.0
description:
  - Reports whether the IOMMU is active (from sysfs - C(/sys/class/iommu) units and C(/sys/kernel/iommu_groups) -
    not from dmesg or the kernel command line) and every IOMMU group with its PCI devices and their drivers.
  - With O(devices), binds those PCI devices to C(vfio-pci) (O(state=bound)) or gives them back to their host
    drivers (O(state=released)), by C(driver_override), unbind and C(drivers_probe), one device at a time.
    Devices with the same vendor:device that are not selected are never touched.
  - Refuses, listing the culprits, when an IOMMU group of a selected device still holds other devices in use by
    host drivers (PCI bridges excepted), since a guest always gets the whole group. Nothing is written then.
  - With O(persistent=true) the binding also holds at every boot - one udev rule per device address in
    C(/etc/udev/rules.d/90-kvcompute-vfio.rules) sets C(driver_override) when the device appears and re-probes it,
    and C(/etc/modules-load.d/kvcompute-vfio.conf) loads vfio-pci.
  - Needs an active IOMMU; the M(kvcompute.libvirt.kv_kernel_args) module, through the C(kvcompute.libvirt.iommu)
    role, sets the kernel arguments for it.
author:
  - kvcompute.libvirt contributors (!UNKNOWN)
extends_documentation_fragment:
  - kvcompute.libvirt.host_root
options:
  devices:
    description:
      - PCI devices to bind or release, each a PCI address (V(0000:01:00.0) or V(01:00.0)) or a
        vendor:device id (V(10de:1eb8), meaning every device with that id).
      - Without it the module only reports.
    type: list
    elements: str
    default: []
  state:
    description:
      - V(bound) binds O(devices) to vfio-pci; V(released) clears their override and re-probes them, so their
        host drivers take them back.
    type: str
    choices: [bound, released]
    default: bound
  persistent:
    description: Also write (or remove) the boot-time udev rule of each device.
    type: bool
    default: true
attributes:
  check_mode:
    description: Reports the sysfs writes and file changes a real run would make, and makes none.
    support: full
  diff_mode:
    description: Shows the boot-time files (udev rule, modules-load.d) before and after.
    support: full
notes:
  - Check mode reports the sysfs writes and file changes a real run would make, in RV(writes) and RV(files).
  - libvirt's C(managed) PCI host devices (what M(kvcompute.libvirt.kv_vm) defines) are detached from their host
    driver by libvirt when the VM starts; binding them beforehand, as KubeVirt's device plugin expects, keeps
    the host from ever using them.
seealso:
  - module: kvcompute.libvirt.kv_vm
  - module: kvcompute.libvirt.kv_mdev
"""

EXAMPLES = r"""
- name: Report the IOMMU groups
  kvcompute.libvirt.kv_iommu:
  register: iommu

- name: Bind a GPU and its audio function (same IOMMU group) to vfio-pci, now and at boot
  kvcompute.libvirt.kv_iommu:
    devices:
      - "0000:01:00.0"
      - "0000:01:00.1"

- name: Bind every Tesla T4
  kvcompute.libvirt.kv_iommu:
    devices: ["10de:1eb8"]

- name: Give a device back to the host
  kvcompute.libvirt.kv_iommu:
    devices: ["0000:01:00.0"]
    state: released
"""

RETURN = r"""
iommu:
  description: The IOMMU as sysfs shows it, after the task.
  returned: always
  type: dict
  contains:
    active:
      description: Whether the kernel has an active IOMMU.
      type: bool
    units:
      description: The IOMMU units (C(/sys/class/iommu)), e.g. C(dmar0).
      type: list
      elements: str
    groups:
      description: >-
        Each group's C(id) and C(devices) (C(address), C(vendor), C(device), C(vendor_device), C(class), C(driver),
        C(driver_override), C(iommu_group)).
      type: list
      elements: dict
devices:
  description: The PCI addresses O(devices) selected.
  returned: always
  type: list
  elements: str
  sample: ["0000:01:00.0", "0000:01:00.1"]
writes:
  description: The sysfs writes made (or, in check mode, to be made), in order, as C(path) and C(value).
  returned: always
  type: list
  elements: dict
  sample: [{"path": "/sys/bus/pci/devices/0000:01:00.0/driver_override", "value": "vfio-pci"}]
files:
  description: The boot-time files written or removed.
  returned: always
  type: list
  elements: str
  sample: ["/etc/udev/rules.d/90-kvcompute-vfio.rules"]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kvcompute.libvirt.plugins.module_utils.host import pci, vfio
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.hostfs import HostFS


def main():
    module = AnsibleModule(
        argument_spec=dict(
            devices=dict(type="list", elements="str", default=[]),
            state=dict(type="str", choices=["bound", "released"], default="bound"),
            persistent=dict(type="bool", default=True),
            root=dict(type="path", default="/"),
        ),
        supports_check_mode=True,
    )
    fs = HostFS(module.params["root"])
    planned = {"devices": [], "writes": [], "files": {}}
    if module.params["devices"]:
        plan = vfio.plan_bind if module.params["state"] == "bound" else vfio.plan_release
        try:
            planned = plan(fs, module.params["devices"], module.params["persistent"])
        except vfio.BindError as err:
            module.fail_json(msg=str(err), changed=False, iommu=pci.read_iommu(fs))
    changed = bool(planned["writes"] or planned["files"])
    if changed and not module.check_mode:
        try:
            vfio.apply(fs, planned)
        except (OSError, IOError) as err:
            module.fail_json(msg="writing %s failed: %s" % (getattr(err, "filename", "") or "a host file", err),
                             iommu=pci.read_iommu(fs))
    diff = [{"before_header": path, "after_header": path, "before": before or "", "after": after or ""}
            for path, (before, after) in sorted(planned["files"].items())]
    module.exit_json(changed=changed, iommu=pci.read_iommu(fs), devices=planned["devices"],
                     writes=[{"path": p, "value": v} for p, v in planned["writes"]],
                     files=sorted(planned["files"]), diff=diff)


if __name__ == "__main__":
    main()
