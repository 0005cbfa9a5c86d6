# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""VMSpec -> a KubeVirt VirtualMachine manifest (kv_vm_info format=kubevirt).

Built from the kv_vm options of the spec, so fields added by other features
(dedicated CPUs, hugepages, host devices) export by their option names. What
KubeVirt has no field for (domain_type, a bridge NIC, an empty cdrom ...) goes
into one annotation holding those kv_vm options; importing the manifest again
gives the same spec.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec import manifest as mf
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.errors import SpecError
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.export import to_options
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.manifest_volumes import IMAGE_DIR, Catalogue
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.options import parse_options

CPU_KEYS = (("sockets", "sockets"), ("cores", "cores"), ("threads", "threads"), ("model", "model"),
            ("features", "features"), ("max_sockets", "maxSockets"),
            ("dedicated_cpu_placement", "dedicatedCpuPlacement"), ("isolate_emulator_thread", "isolateEmulatorThread"))
SEED_KINDS = {"cidata": "cloudInitNoCloud", "config-2": "cloudInitConfigDrive"}
SEED_FILES = {"cidata": ("user-data", "network-config"),
              "config-2": ("openstack/latest/user_data", "openstack/latest/network_data.json")}


def to_manifest(spec, seeds=None, catalogue=None, storage_pool="default", image_dir=IMAGE_DIR, run=None):
    """seeds: {disk name: (label, {iso path: bytes})} read back from the seed ISOs; run: {run_strategy,
    shutdown_timeout} when known. Returns a VirtualMachine mapping."""
    opts = to_options(spec)
    seeds = seeds or {}
    run = dict((k, v) for k, v in (run or {}).items() if v is not None)
    if "run_strategy" in opts:
        run.setdefault("run_strategy", opts["run_strategy"])
    vmi = {"domain": _domain(opts)}
    devices = vmi["domain"]["devices"]
    volumes, disks = [], []
    cat = Catalogue(catalogue, [])
    for disk, option in zip(spec.disks, opts.get("disks", [])):
        volume = _volume(disk, option, seeds.get(disk.name), cat, storage_pool)
        if volume is not None:
            volumes.append(volume)
            disks.append(_disk_target(option))
    if disks:
        devices["disks"] = disks
    if volumes:
        vmi["volumes"] = volumes
    nics, networks = [], []
    for nic in opts.get("interfaces", []):
        if nic.get("type", "user") == "bridge":
            continue  # no KubeVirt network is a host bridge: the annotation carries it
        nics.append(_nic(nic))
        networks.append({"name": nic["name"], "pod": {}} if nic.get("type", "user") == "user"
                        else {"name": nic["name"], "multus": {"networkName": nic["source"]}})
    if nics:
        devices["interfaces"] = nics
        vmi["networks"] = networks
    elif not opts.get("interfaces"):
        devices["autoattachPodInterface"] = False
    if "shutdown_timeout" in run:
        vmi["terminationGracePeriodSeconds"] = run["shutdown_timeout"]
    out = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": spec.name},
           "spec": {"template": {"spec": vmi}}}
    if "run_strategy" in run:
        out["spec"]["runStrategy"] = run["run_strategy"]
    extra = _not_expressed(out, opts, catalogue, storage_pool, image_dir)
    if extra:
        out["metadata"]["annotations"] = {mf.OPTIONS_ANNOTATION: json.dumps(extra, sort_keys=True)}
    return out


def _domain(opts):
    cpu = dict((kv, opts["cpu"][key]) for key, kv in CPU_KEYS if opts.get("cpu", {}).get(key) not in (None, []))
    if opts.get("cpu", {}).get("numa", {}).get("guest_mapping_passthrough"):
        cpu["numa"] = {"guestMappingPassthrough": {}}
    memory = {"guest": opts["memory"]["guest"]}
    if "max_guest" in opts["memory"]:
        memory["maxGuest"] = opts["memory"]["max_guest"]
    if opts["memory"].get("hugepages", {}).get("page_size"):
        memory["hugepages"] = {"pageSize": opts["memory"]["hugepages"]["page_size"]}
    domain = {"cpu": cpu, "memory": memory, "machine": {"type": opts["machine"]}, "devices": {}}
    if opts.get("resources"):
        domain["resources"] = opts["resources"]
    if opts["firmware"]["type"] == "efi":
        domain["firmware"] = {"bootloader": {"efi": {"secureBoot": opts["firmware"]["secure_boot"]}}}
    devices = domain["devices"]
    if opts.get("rng"):
        devices["rng"] = {}
    if opts.get("watchdog"):
        devices["watchdog"] = {"name": "watchdog", "i6300esb": {"action": opts["watchdog"]["action"]}}
    if opts.get("tpm") is not None:
        devices["tpm"] = {"persistent": opts["tpm"]["persistent"]}
    if opts.get("video") == "none":
        devices["autoattachGraphicsDevice"] = False
    elif opts.get("video") not in (None, "auto"):
        devices["video"] = {"type": opts["video"]}
    if opts.get("serial", {}).get("type") == "none":
        devices["autoattachSerialConsole"] = False
    if opts.get("autoattach_vsock"):
        devices["autoattachVSOCK"] = True
    for option, key in (("host_devices", "hostDevices"), ("gpus", "gpus")):
        if opts.get(option):
            devices[key] = [{"name": d["name"], "deviceName": d["device_name"]}
                            for d in opts[option] if d.get("device_name")]
    return domain


def _disk_target(option):
    kind = option.get("device", "disk")
    target = {"bus": option["bus"]}
    if kind == "disk" and option.get("readonly"):
        target["readOnly"] = True
    out = {"name": option["name"], kind: target}
    if option.get("boot_order") is not None:
        out["bootOrder"] = option["boot_order"]
    return out


def _volume(disk, option, seed, cat, storage_pool):
    name = {"name": disk.name}
    if seed is not None and seed[0] in SEED_KINDS:
        label, files = seed
        user, network = (files.get(p) for p in SEED_FILES[label])
        body = {}
        if user is not None:
            body["userData"] = user.decode("utf-8", "replace")
        if network is not None:
            body["networkData"] = network.decode("utf-8", "replace")
        return dict(name, **{SEED_KINDS[label]: body})
    if disk.transient and disk.ephemeral and disk.path:
        return dict(name, emptyDisk={"capacity": option.get("size")})
    image = cat.reverse(disk) if (disk.transient or disk.pool) else None  # a container disk is overlaid per boot
    if image is not None:
        return dict(name, containerDisk={"image": image})
    if disk.pool:
        claim = {"claimName": disk.volume}
        if disk.readonly:
            claim["readOnly"] = True
        return dict(name, persistentVolumeClaim=claim)
    if disk.path:
        if option.get("size"):
            return dict(name, hostDisk={"path": disk.path, "type": "DiskOrCreate", "capacity": option["size"]})
        return dict(name, hostDisk={"path": disk.path, "type": "Disk"})
    return None  # an empty cdrom: the annotation carries it


def _nic(nic):
    out = {"name": nic["name"], ("masquerade" if nic.get("type", "user") == "user" else "bridge"): {}}
    if nic.get("model"):
        out["model"] = nic["model"]
    if nic.get("mac"):
        out["macAddress"] = nic["mac"]
    return out


def _not_expressed(manifest, opts, catalogue, storage_pool, image_dir):
    """The top-level kv_vm options whose value the manifest does not give back on import."""
    try:
        tr = mf.translate(manifest, catalogue=catalogue, storage_pool=storage_pool, image_dir=image_dir)
        again = to_options(parse_options(tr.options))
    except SpecError:
        again = {}
    return dict((k, v) for k, v in opts.items() if k != "name" and again.get(k) != v)
