# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """kv_vm's per-VM host devices, GPUs and VSOCK (KubeVirt's devices.hostDevices, gpus, autoattachVSOCK)."""

    DOCUMENTATION = r"""
options:
  host_devices:
    description:
      - Host devices passed to the VM (KubeVirt's C(devices.hostDevices)), each by exactly one of C(device_name)
        (resolved through O(permitted_host_devices)), C(pci_address) or C(usb).
      - A PCI device becomes a managed VFIO hostdev (C(<hostdev mode='subsystem' type='pci' managed='yes'>)), which
        libvirt detaches from its host driver when the VM starts. By C(device_name), only devices bound to vfio-pci (or to
        no driver) are taken; bind them with M(kvcompute.libvirt.kv_iommu).
      - A USB device becomes a USB hostdev by vendor and product, with its bus and device number so identical devices
        are told apart.
      - A device goes to one VM at a time - the defined domains of the host are the truth - and among identical
        devices the free one is taken. A VM keeps the device it holds across re-runs and restarts.
      - A VM with host devices cannot be live-migrated; M(kvcompute.libvirt.kv_vm_info) reports the
        C(HostDeviceNotLiveMigratable) condition. Adding or removing one on a running VM is restart-required.
    type: list
    elements: dict
    suboptions:
      name:
        description: The device's name in the VM (a DNS label), unique among O(host_devices) and O(gpus).
        type: str
        required: true
      device_name:
        description: A C(resource_name) of O(permitted_host_devices), for example V(nvidia.com/TU104GL_Tesla_T4).
        type: str
      pci_address:
        description: A host PCI address, V(0000:01:00.0) or V(01:00.0).
        type: str
      usb:
        description: A host USB device by C(vendor) and C(product) id (4 hex digits each).
        type: dict
  gpus:
    description:
      - GPUs for the VM (KubeVirt's C(devices.gpus)), by C(device_name) through O(permitted_host_devices).
      - A C(pci_host_devices) name gives a PCI passthrough GPU; a C(mediated_devices) name gives a vGPU
        (C(<hostdev mode='subsystem' type='mdev' model='vfio-pci'>)) - a free mediated device of that type, or a new
        one created (persistently, see M(kvcompute.libvirt.kv_mdev)) on the parent with the most free instances.
      - As in KubeVirt, the first vGPU gets C(display='on') and C(ramfb='on') when the VM has a display (O(video) is
        not V(none)).
    type: list
    elements: dict
    suboptions:
      name:
        description: The GPU's name in the VM (a DNS label).
        type: str
        required: true
      device_name:
        description: A C(resource_name) of O(permitted_host_devices).
        type: str
        required: true
  autoattach_vsock:
    description:
      - Give the VM a virtio VSOCK device (KubeVirt's C(devices.autoattachVSOCK)) with a context id (CID) of 3 or more
        that no other domain on the host has. The CID is kept in the domain, so it stays the same across re-runs,
        restarts and redefines; M(kvcompute.libvirt.kv_vm_info) reports it as C(vsock_cid).
      - Starting such a VM needs C(/dev/vhost-vsock) (kernel module vhost_vsock); without it the task fails before
        any change, naming it.
      - Per VM; default V(false).
    type: bool
"""
