# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""KubeVirt `devices.disks` + `volumes` -> kv_vm `disks`, and the cloud-init seeds to write.

A disk names its volume; the volume says where the data is:
containerDisk -> an image of the user's catalogue (a file, overlaid per boot, or a
pool volume); cloudInit* -> a seed ISO kv_vm writes; persistentVolumeClaim /
dataVolume -> a volume of that name in a storage pool; hostDisk -> a file;
emptyDisk -> a new file, blank at every boot, deleted with the VM.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import json

from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.manifest_result import Seed

VOLUME_TYPES = ("containerDisk", "cloudInitNoCloud", "cloudInitConfigDrive", "persistentVolumeClaim", "dataVolume",
                "hostDisk", "emptyDisk")
REFUSED_VOLUMES = {
    "configMap": "ConfigMaps are Kubernetes objects; there are none on a libvirt host",
    "secret": "Secrets are Kubernetes objects; there are none on a libvirt host",
    "serviceAccount": "service accounts are Kubernetes objects; there are none on a libvirt host",
    "downwardAPI": "the downward API needs a Kubernetes pod",
    "downwardMetrics": "the downward metrics volume is not supported",
    "ephemeral": "ephemeral PVC overlays are not supported; use containerDisk",
    "memoryDump": "memory dumps are written by kv_memory_dump, not attached as volumes",
    "sysprep": "sysprep volumes are not supported",
}
SEED_LABELS = {"cloudInitNoCloud": "cidata", "cloudInitConfigDrive": "config-2"}
IMAGE_DIR = "/var/lib/libvirt/images"


class Catalogue:
    """image reference -> {'path': file} or {'pool', 'volume'}; the user's stand-in for a registry."""

    def __init__(self, data, problems):
        self.entries = {}
        if data is None:
            return
        if not isinstance(data, dict):
            problems.append(("image_catalogue", "must be a mapping of image reference -> file path or "
                                                "{pool, volume}"))
            return
        for image, value in data.items():
            where = "image_catalogue[%s]" % image
            if isinstance(value, str):
                value = {"path": value}
            if not isinstance(value, dict) or not (set(value) in ({"path"}, {"pool", "volume"})):
                problems.append((where, "must be an absolute path or {pool, volume}"))
            elif "path" in value and not str(value["path"]).startswith("/"):
                problems.append((where, "%r is not an absolute path" % value["path"]))
            else:
                self.entries[image] = dict(value)

    def lookup(self, image, f, key="image"):
        for candidate in (image, _untagged(image)):
            if candidate in self.entries:
                return self.entries[candidate]
        f.fail(key, "%r is not in image_catalogue (kv_vm pulls no images: map it to a local file or pool "
                    "volume%s)" % (image, "; known: " + ", ".join(sorted(self.entries)) if self.entries else ""))
        return None

    def directory(self, image, f):
        """The directory holding a container image's files (for kernelBoot)."""
        entry = self.lookup(image, f)
        if entry is not None and "path" not in entry:
            f.fail("image", "image_catalogue[%s] must be a directory path for kernelBoot" % image)
            return None
        return entry["path"] if entry else None

    def reverse(self, disk):
        """The image whose catalogue entry is this disk's source, or None (for export)."""
        for image, entry in sorted(self.entries.items()):
            if entry == ({"path": disk.path} if disk.path else {"pool": disk.pool, "volume": disk.volume}):
                return image
        return None


def _untagged(image):
    image = image.split("@", 1)[0]
    slash = image.rfind("/")
    colon = image.rfind(":")
    return image[:colon] if colon > slash else image


def disks(spec_f, devices_f, tr, ctx):
    """ctx: {'name', 'namespace', 'hostname', 'storage_pool', 'image_dir'}."""
    volumes = spec_f.named("volumes")
    used = set()
    out = []
    for df in devices_f.items("disks"):
        i = len(out)
        name = df.text("name")
        disk = {"name": name}
        tr.item("disks", i, df)
        _target(df, disk, tr, i)
        if name not in volumes:
            df.fail("name", "no volume named %r in volumes" % name)
            df.done()
            continue
        used.add(name)
        _source(volumes[name], disk, tr, i, ctx)
        df.done()
        out.append(disk)
    for name, vf in sorted(volumes.items()):
        if name not in used:
            vf.fail("name", "volume %r is used by no disk in domain.devices.disks" % name)
            _source(vf, {"name": name}, tr, len(out), ctx)  # still name what else is wrong with it
    if out:
        tr.options["disks"] = out


def _target(df, disk, tr, i):
    kind = df.one_of(("disk", "cdrom", "lun")) or "disk"
    target = df.sub(kind)
    if kind == "lun":
        df.fail("lun", "is not supported: SCSI LUN passthrough; use disk")
        return
    disk["device"] = kind
    if target.has("bus"):
        disk["bus"] = target.raw("bus")
        if disk["bus"] == "usb":
            target.fail("bus", "usb disks are not supported; use virtio, sata or scsi")
            del disk["bus"]
        tr.note("disks[%d].bus" % i, target.where("bus"))
    if kind == "disk" and target.boolean("readOnly", False):
        disk["readonly"] = True
        tr.note("disks[%d].readonly" % i, target.where("readOnly"))
    if kind == "cdrom":
        target.boolean("readonly", True)
        target.text("tray", "closed", choices=("closed",))
    target.refuse("pciAddress", "kv_vm keeps libvirt's PCI addresses")
    target.done()
    if df.has("bootOrder"):
        disk["boot_order"] = df.raw("bootOrder")
        tr.note("disks[%d].boot_order" % i, df.where("bootOrder"))
    for key, reason in (("serial", "disk serial numbers are not set by kv_vm"),
                        ("cache", "kv_vm keeps QEMU's default cache mode"),
                        ("io", "kv_vm keeps QEMU's default I/O mode"),
                        ("shareable", "shared disks are not supported"),
                        ("blockSize", "custom block sizes are not supported"),
                        ("errorPolicy", "kv_vm keeps QEMU's default error policy")):
        df.refuse(key, reason)
    df.ignore("dedicatedIOThread", "kv_vm gives disks no dedicated I/O threads")
    df.ignore("tag", "device role tags go to KubeVirt's metadata service, which does not exist here")


def _source(vf, disk, tr, i, ctx):
    for key, reason in REFUSED_VOLUMES.items():
        vf.refuse(key, reason)
    kind = vf.one_of(VOLUME_TYPES)
    if kind is None:
        if not any(vf.has(k) for k in REFUSED_VOLUMES):
            vf.fail(None, "needs one of %s" % ", ".join(VOLUME_TYPES))
        vf.done()
        return
    src = vf.sub(kind)
    where = "disks[%d]" % i
    tr.note(where + ".path", src.where(None))
    if kind == "containerDisk":
        entry = tr.catalogue.lookup(src.text("image"), src) if src.has("image") else None
        if not src.has("image"):
            src.fail("image", "is required")
        if entry:
            disk.update(entry)
            tr.note(where + ".path", src.where("image"))
            tr.note(where + ".pool", src.where("image"))
            tr.note(where + ".volume", src.where("image"))
            # KubeVirt's container disks are ephemeral: each boot starts from the image again.
            disk["transient"] = "path" in entry and disk.get("device", "disk") == "disk" and not disk.get("readonly")
        src.ignore("path", "the image_catalogue names the disk file itself")
        src.ignore("imagePullPolicy", "images come from the image_catalogue, not a registry")
        src.refuse("imagePullSecret", "images come from the image_catalogue, not a registry")
    elif kind in SEED_LABELS:
        _seed(src, kind, disk, tr, where, ctx)
    elif kind in ("persistentVolumeClaim", "dataVolume"):
        key = "claimName" if kind == "persistentVolumeClaim" else "name"
        claim = src.text(key)
        if claim is None:
            src.fail(key, "is required")
        disk.update(pool=ctx["storage_pool"], volume=claim)
        tr.note(where + ".volume", src.where(key))
        tr.note(where + ".pool", "storage_pool")
        if src.boolean("readOnly", False):
            disk["readonly"] = True
        src.refuse("hotpluggable", "volume hotplug is not supported")
    elif kind == "hostDisk":
        disk["path"] = src.text("path")
        tr.note(where + ".path", src.where("path"))
        mode = src.text("type", choices=("Disk", "DiskOrCreate"))
        if mode is None and not src.has("type"):
            src.fail("type", "is required: Disk or DiskOrCreate")
        if mode == "DiskOrCreate":
            if not src.has("capacity"):
                src.fail("capacity", "is required for type DiskOrCreate")
            disk.update(size=src.raw("capacity"), format="raw")  # KubeVirt's host disks are raw disk.img files
            tr.note(where + ".size", src.where("capacity"))
        elif src.has("capacity"):
            src.fail("capacity", "is only used with type DiskOrCreate")
        src.refuse("shared", "shared disks are not supported")
    elif kind == "emptyDisk":
        if not src.has("capacity"):
            src.fail("capacity", "is required")
        disk.update(path="%s/%s-%s.empty.qcow2" % (ctx["image_dir"], ctx["name"], disk["name"]),
                    size=src.raw("capacity"), format="qcow2", transient=True, ephemeral=True)
        tr.note(where + ".size", src.where("capacity"))
    src.done()
    vf.done()


def _seed(src, kind, disk, tr, where, ctx):
    problems_before = len(src.problems)
    user = _data(src, "userData", "userDataBase64", "secretRef")
    network = _data(src, "networkData", "networkDataBase64", "networkDataSecretRef")
    if user is None and network is None and len(src.problems) == problems_before:
        src.fail(None, "needs userData, userDataBase64, networkData or networkDataBase64")
    path = "%s/%s-%s.cidata.iso" % (ctx["image_dir"], ctx["name"], disk["name"])
    disk.update(path=path, format="raw", ephemeral=True)
    if disk.get("device", "disk") == "disk":
        disk["readonly"] = True  # the guest must not write the seed
    instance_id = "%s.%s" % (ctx["name"], ctx["namespace"])
    hostname = ctx["hostname"] or ctx["name"]
    if kind == "cloudInitNoCloud":
        files = {"meta-data": ("instance-id: %s\nlocal-hostname: %s\n" % (instance_id, hostname)).encode("utf-8")}
        if user is not None:
            files["user-data"] = user
        if network is not None:
            files["network-config"] = network
    else:
        meta = {"instance_id": instance_id, "uuid": instance_id, "hostname": hostname}
        files = {"openstack/latest/meta_data.json": json.dumps(meta, sort_keys=True).encode("utf-8")}
        if user is not None:
            files["openstack/latest/user_data"] = user
        if network is not None:
            files["openstack/latest/network_data.json"] = network
    tr.seeds.append(Seed(disk=disk["name"], path=path, label=SEED_LABELS[kind], files=files))


def _data(f, plain, encoded, secret):
    f.refuse(secret, "Kubernetes Secrets do not exist here; put the data in %s (and keep it in Ansible Vault)"
             % plain)
    if f.has(plain) and f.has(encoded):
        f.fail(encoded, "give %s or %s, not both" % (plain, encoded))
        return None
    if f.has(plain):
        text = f.text(plain)
        return text.encode("utf-8") if text is not None else None
    if f.has(encoded):
        text = f.text(encoded)
        try:
            return base64.b64decode(text or "", validate=True)
        except (binascii.Error, ValueError):
            f.fail(encoded, "is not valid base64")
    return None
