# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""KubeVirt manifests -> the same VMSpec as the options; every refusal names the manifest path."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
import json

import pytest
import yaml

from ansible_collections.kvcompute.libvirt.plugins.module_utils.converge.vm import read_request
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec import manifest as mf
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.errors import SpecError
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.export import to_options
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.options import parse_options
from tests.support import kubevirt_conformance as kc
from tests.support.bad_manifest import set_path

CAT = kc.catalogue("/img")


def vmi(**spec):
    base = {"domain": {"memory": {"guest": "128Mi"}, "devices": {}}}
    base.update(spec)
    return {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance", "metadata": {"name": "vm1"},
            "spec": base}


def vm(**spec):
    template = vmi(**spec)["spec"]
    return {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": "vm1"},
            "spec": {"template": {"spec": template}}}


def errors(manifest, **kw):
    """The problems kv_vm names for a manifest VM (its whole front door: spec and run options)."""
    item = {"manifest": manifest, "image_catalogue": CAT}
    item.update(kw)
    with pytest.raises(SpecError) as info:
        read_request(item, {})
    return dict(info.value.problems)


# ---------------------------------------------------------------- conformance files


def test_the_copies_are_the_shared_manifests():
    if not kc.SHARED.is_dir():
        pytest.skip("no ../shared/kubevirt-conformance beside this checkout")
    for name in sorted(p.name for p in kc.SHARED.iterdir()):
        assert (kc.DATA / name).read_bytes() == (kc.SHARED / name).read_bytes(), name


@pytest.mark.parametrize("name", kc.vm_files())
def test_conformance_manifest_is_a_kv_vm_request(name):
    """Through kv_vm's own front door (read_request): spec and run options."""
    manifest = kc.load(name)
    missing = kc.missing(name)
    if missing:
        with pytest.raises(SpecError) as info:
            read_request({"manifest": manifest, "image_catalogue": CAT}, {})
        problems = dict(info.value.problems)
        assert sorted(problems) == sorted(p for p, _o, _s in missing), problems
        for path, option, _stream in missing:
            assert "kv_vm option %r" % option in problems[path]
        manifest = kc.without(manifest, [p for p, _o, _s in missing])
    request = read_request({"manifest": manifest, "image_catalogue": CAT, "state": "present"}, {})
    assert request.name == manifest["metadata"]["name"]
    assert request.shutdown_timeout == 0  # terminationGracePeriodSeconds: 0
    assert request.spec == mf.to_spec(manifest, catalogue=CAT)[0]


def test_cirros_in_detail():
    spec, tr = mf.to_spec(kc.load("vm-cirros.yaml"), catalogue=CAT, name="kvt-1", image_dir="/seeds")
    opts = to_options(spec)
    assert opts["name"] == "kvt-1"
    assert opts["memory"]["guest"] == "128Mi"
    root, seed = opts["disks"]
    assert root == {"name": "containerdisk", "device": "disk", "bus": "virtio",
                    "path": "/img/cirros-container-disk-demo.qcow2", "transient": True}
    assert seed == {"name": "cloudinitdisk", "device": "disk", "bus": "virtio", "format": "raw",
                    "path": "/seeds/kvt-1-cloudinitdisk.cidata.iso", "readonly": True, "ephemeral": True}
    assert opts["interfaces"] == [{"name": "default", "type": "user", "model": "virtio"}]
    assert tr.run == {"run_strategy": "Halted", "shutdown_timeout": 0}
    (iso,) = tr.seeds
    assert iso.label == "cidata" and iso.path == seed["path"]
    assert iso.files["user-data"].startswith(b"#!/bin/sh\n")
    assert iso.files["meta-data"] == b"instance-id: kvt-1.default\nlocal-hostname: kvt-1\n"
    assert {"field": "metadata.labels", "reason": "Kubernetes object metadata; kv_vm keeps only the name"} \
        in tr.ignored


def test_memory_in_decimal_megabytes_is_rounded_up_and_said_so():
    spec, tr = mf.to_spec(kc.load("vmi-usb.yaml") if not kc.missing("vmi-usb.yaml") else
                          kc.without(kc.load("vmi-usb.yaml"), ["spec.domain.devices.hostDevices"]), catalogue=CAT)
    assert spec.memory.guest == 977 * 2 ** 20  # 1024M = 976.56 MiB
    assert any(i["field"] == "spec.domain.memory.guest" and "977Mi" in i["reason"] for i in tr.ignored)


def test_kernel_boot_from_a_catalogue_directory():
    spec, _tr = mf.to_spec(kc.load("vmi-kernel-boot.yaml"), catalogue=CAT)
    assert spec.kernel_boot.kernel == "/img/kernel-boot/boot/vmlinuz-virt"
    assert spec.kernel_boot.initrd == "/img/kernel-boot/boot/initramfs-virt"
    assert spec.kernel_boot.cmdline == "console=ttyS0"


def test_efi_without_and_with_secure_boot():
    spec, _tr = mf.to_spec(kc.load("vmi-alpine-efi.yaml"), catalogue=CAT)
    assert (spec.firmware.type, spec.firmware.secure_boot) == ("efi", False)
    m = vmi(domain={"memory": {"guest": "1Gi"}, "firmware": {"bootloader": {"efi": {}}}})
    spec, _tr = mf.to_spec(m)
    assert spec.firmware.secure_boot is True  # KubeVirt's default


def test_host_disk_or_create_is_a_raw_image_of_its_capacity():
    spec, _tr = mf.to_spec(kc.load("vmi-host-disk.yaml"))
    (disk,) = spec.disks
    assert (disk.path, disk.size, disk.format) == ("/var/data/disk.img", 2 ** 30, "raw")


def test_pod_network_is_user_mode():
    spec, _tr = mf.to_spec(kc.load("vmi-migratable.yaml"), catalogue=CAT)
    assert [(n.name, n.type) for n in spec.interfaces] == [("default", "user")]


def test_default_features_and_utc_clock_spelled_out_change_nothing():
    """Manifests often write the defaults (`acpi: {}`, `clock: {utc: {}}`): the same spec as without them."""
    plain = kc.load("vmi-migratable.yaml")
    spelled = copy.deepcopy(plain)
    spelled["spec"]["domain"]["features"] = {"acpi": {}, "apic": {"enabled": True}, "smm": {}}
    spelled["spec"]["domain"]["clock"] = {"utc": {}}
    assert mf.to_spec(spelled, catalogue=CAT)[0] == mf.to_spec(plain, catalogue=CAT)[0]


def test_yaml_string_and_mapping_give_the_same_spec():
    text = (kc.DATA / "vmi-migratable.yaml").read_text()
    assert mf.to_spec(text, catalogue=CAT)[0] == mf.to_spec(yaml.safe_load(text), catalogue=CAT)[0]


# ---------------------------------------------------------------- one spec, two front doors


def test_manifest_and_options_give_the_same_spec():
    devices = {"rng": {}, "tpm": {"persistent": True},
               "watchdog": {"name": "w", "i6300esb": {"action": "poweroff"}},
               "autoattachGraphicsDevice": False, "autoattachSerialConsole": False,
               "disks": [{"name": "root", "disk": {"bus": "scsi"}, "bootOrder": 1},
                         {"name": "data", "disk": {}},
                         {"name": "iso", "cdrom": {"bus": "sata"}}],
               "interfaces": [{"name": "nat", "masquerade": {}, "model": "e1000e", "macAddress": "52:54:00:aa:bb:cc"},
                              {"name": "lan", "bridge": {}}]}
    m = vm(domain={"cpu": {"sockets": 2, "cores": 2, "threads": 1, "model": "host-passthrough",
                           "features": [{"name": "vmx", "policy": "require"}], "maxSockets": 4},
                   "memory": {"guest": "1Gi", "maxGuest": "2Gi"},
                   "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "2"}},
                   "machine": {"type": "q35"},
                   "firmware": {"bootloader": {"efi": {"secureBoot": False}}},
                   "devices": devices},
           volumes=[{"name": "root", "persistentVolumeClaim": {"claimName": "root-pvc"}},
                    {"name": "data", "dataVolume": {"name": "data-dv"}},
                    {"name": "iso", "hostDisk": {"path": "/srv/install.iso", "type": "Disk"}}],
           networks=[{"name": "nat", "pod": {}}, {"name": "lan", "multus": {"networkName": "isolated"}}])
    from_manifest, _tr = mf.to_spec(m, storage_pool="fast")
    from_options = parse_options({
        "name": "vm1", "machine": "q35", "firmware": {"type": "efi", "secure_boot": False},
        "cpu": {"sockets": 2, "cores": 2, "threads": 1, "model": "host-passthrough",
                "features": [{"name": "vmx"}], "max_sockets": 4},
        "memory": {"guest": "1Gi", "max_guest": "2Gi"},
        "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": 2}},
        "disks": [{"name": "root", "bus": "scsi", "pool": "fast", "volume": "root-pvc", "boot_order": 1},
                  {"name": "data", "pool": "fast", "volume": "data-dv"},
                  {"name": "iso", "device": "cdrom", "path": "/srv/install.iso"}],
        "interfaces": [{"name": "nat", "type": "user", "model": "e1000e", "mac": "52:54:00:aa:bb:cc"},
                       {"name": "lan", "type": "network", "source": "isolated"}],
        "video": "none", "serial": {"type": "none"}, "rng": True, "tpm": {"persistent": True},
        "watchdog": {"model": "i6300esb", "action": "poweroff"}})
    assert from_manifest == from_options


def test_cpu_from_the_cpu_request_without_a_topology():
    spec, _tr = mf.to_spec(vmi(domain={"memory": {"guest": "1Gi"}, "resources": {"limits": {"cpu": "1500m"}}}))
    assert spec.cpu.sockets == 2


def test_guest_memory_from_the_memory_request():
    spec, tr = mf.to_spec(vmi(domain={"resources": {"requests": {"memory": "256Mi"}}}))
    assert spec.memory.guest == 256 * 2 ** 20
    assert tr.where("memory.guest") == "spec.domain.resources.requests.memory"


def test_empty_disk_is_transient_and_ephemeral():
    m = vmi(domain={"memory": {"guest": "128Mi"}, "devices": {"disks": [{"name": "scratch"}]}},
            volumes=[{"name": "scratch", "emptyDisk": {"capacity": "2Gi"}}])
    spec, _tr = mf.to_spec(m, image_dir="/var/lib/kv")
    (disk,) = spec.disks
    assert (disk.path, disk.size, disk.format, disk.transient, disk.ephemeral) == (
        "/var/lib/kv/vm1-scratch.empty.qcow2", 2 * 2 ** 30, "qcow2", True, True)


def test_config_drive_and_base64_user_data():
    user = base64.b64encode(b"#cloud-config\npassword: x\n").decode()
    drive = {"userDataBase64": user, "networkData": "version: 2"}
    m = vmi(domain={"memory": {"guest": "128Mi"}, "devices": {"disks": [{"name": "cfg", "cdrom": {}}]}},
            hostname="web", volumes=[{"name": "cfg", "cloudInitConfigDrive": drive}])
    spec, tr = mf.to_spec(m)
    (seed,) = tr.seeds
    assert seed.label == "config-2"
    assert seed.files["openstack/latest/user_data"] == b"#cloud-config\npassword: x\n"
    assert seed.files["openstack/latest/network_data.json"] == b"version: 2"
    assert json.loads(seed.files["openstack/latest/meta_data.json"].decode())["hostname"] == "web"
    assert spec.disks[0].device == "cdrom"


def test_catalogue_pool_entry_and_untagged_lookup():
    cat = {"quay.io/x/fedora": {"pool": "images", "volume": "fedora.qcow2"}}
    m = vmi(domain={"memory": {"guest": "128Mi"}, "devices": {"disks": [{"name": "root"}]}},
            volumes=[{"name": "root", "containerDisk": {"image": "quay.io/x/fedora:40"}}])
    spec, _tr = mf.to_spec(m, catalogue=cat)
    assert (spec.disks[0].pool, spec.disks[0].volume, spec.disks[0].transient) == ("images", "fedora.qcow2", False)


def test_other_streams_options_are_mapped_by_their_contract_names():
    m = vmi(domain={"memory": {"guest": "1Gi", "hugepages": {"pageSize": "2Mi"}},
                    "cpu": {"cores": 2, "dedicatedCpuPlacement": True, "isolateEmulatorThread": True,
                            "numa": {"guestMappingPassthrough": {}}},
                    "devices": {"autoattachVSOCK": True,
                                "hostDevices": [{"name": "nic", "deviceName": "intel.com/x710"}],
                                "gpus": [{"name": "g", "deviceName": "nvidia.com/T4"}]}})
    tr = mf.translate(m)
    assert tr.options["cpu"] == {"cores": 2, "dedicated_cpu_placement": True, "isolate_emulator_thread": True,
                                 "numa": {"guest_mapping_passthrough": True}}
    assert tr.options["memory"]["hugepages"] == {"page_size": "2Mi"}
    assert tr.options["autoattach_vsock"] is True
    assert tr.options["host_devices"] == [{"name": "nic", "device_name": "intel.com/x710"}]
    assert tr.options["gpus"] == [{"name": "g", "device_name": "nvidia.com/T4"}]
    assert tr.where("gpus[0].device_name") == "spec.domain.devices.gpus[0].deviceName"
    assert tr.where("cpu.numa") == "spec.domain.cpu.numa.guestMappingPassthrough"


def test_ignored_fields_are_reported_not_dropped():
    m = vm(nodeSelector={"a": "b"}, tolerations=[], evictionStrategy="LiveMigrate")
    m["status"] = {"ready": True}
    _spec, tr = mf.to_spec(m)
    fields = [i["field"] for i in tr.ignored]
    assert "spec.template.spec.nodeSelector" in fields
    assert "spec.template.spec.evictionStrategy" in fields
    assert "status" in fields


def test_running_true_is_always():
    m = vm()
    m["spec"]["running"] = True
    assert mf.translate(m).run["run_strategy"] == "Always"


# ---------------------------------------------------------------- bad manifests


_set = set_path


BAD = [
    # (change to a valid VM, the manifest path named)
    (lambda m: _set(m, "kind", "Pod"), "kind"),
    (lambda m: _set(m, "apiVersion", "kubevirt.io/v2"), "apiVersion"),
    (lambda m: _set(m, "spec.template.spec.domain.cpu.cores", "two"), "spec.template.spec.domain.cpu.cores"),
    (lambda m: _set(m, "spec.template.spec.domain.cpu.cores", 0), "spec.template.spec.domain.cpu.cores"),
    (lambda m: _set(m, "spec.template.spec.domain.cpu.corez", 2), "spec.template.spec.domain.cpu.corez"),
    (lambda m: _set(m, "spec.template.spec.domain.memory.guest", "lots"), "spec.template.spec.domain.memory.guest"),
    (lambda m: _set(m, "spec.template.spec.domain.memory", {}), "spec.template.spec.domain.memory.guest"),
    (lambda m: _set(m, "spec.template.spec.domain.devices.rgn", {}), "spec.template.spec.domain.devices.rgn"),
    (lambda m: _set(m, "spec.template.spec.domain.clock", {"timezone": "Europe/Paris"}),
     "spec.template.spec.domain.clock.timezone"),
    (lambda m: _set(m, "spec.template.spec.domain.clock", {"utc": {"offsetSeconds": 60}}),
     "spec.template.spec.domain.clock.utc.offsetSeconds"),
    (lambda m: _set(m, "spec.template.spec.domain.clock", {"timer": {"hpet": {"present": False}}}),
     "spec.template.spec.domain.clock.timer"),
    (lambda m: _set(m, "spec.template.spec.domain.features", {"acpi": {"enabled": False}}),
     "spec.template.spec.domain.features.acpi.enabled"),
    (lambda m: _set(m, "spec.template.spec.domain.features", {"hyperv": {"relaxed": {}}}),
     "spec.template.spec.domain.features.hyperv"),
    (lambda m: _set(m, "spec.template.spec.domain.features", {"apic": {"endOfInterrupt": True}}),
     "spec.template.spec.domain.features.apic.endOfInterrupt"),
    (lambda m: _set(m, "spec.template.spec.domain.features", {"acpii": {}}),
     "spec.template.spec.domain.features.acpii"),
    (lambda m: _set(m, "spec.template.spec.livenessProbe", {}), "spec.template.spec.livenessProbe"),
    (lambda m: _set(m, "spec.runStrategy", "Sometimes"), "spec.runStrategy"),
    (lambda m: _set(m, "spec.template.spec.terminationGracePeriodSeconds", -1),
     "spec.template.spec.terminationGracePeriodSeconds"),
    (lambda m: _set(m, "spec.template.spec.domain.resources.limits.memory", "64Mi"),
     "spec.template.spec.domain.resources.limits.memory"),
    (lambda m: _set(m, "spec.template.spec.domain.firmware.bootloader", {"efi": {}, "bios": {}}),
     "spec.template.spec.domain.firmware.bootloader"),
    (lambda m: _set(_set(m, "spec.template.spec.domain.devices.disks", [{"name": "root", "disk": {"bus": "usb"}}]),
                    "spec.template.spec.volumes", [{"name": "root", "dataVolume": {"name": "root"}}]),
     "spec.template.spec.domain.devices.disks[0].disk.bus"),
    (lambda m: _set(_set(m, "spec.template.spec.domain.devices.disks", [{"name": "root", "disk": {"bus": "ide"}}]),
                    "spec.template.spec.volumes", [{"name": "root", "dataVolume": {"name": "root"}}]),
     "spec.template.spec.domain.devices.disks[0].disk.bus"),
    (lambda m: _set(m, "spec.template.spec.domain.devices.disks", [{"name": "nowhere"}]),
     "spec.template.spec.domain.devices.disks[0].name"),
    (lambda m: _set(m, "spec.template.spec.volumes", [{"name": "cm", "configMap": {"name": "x"}}]),
     "spec.template.spec.volumes[0].configMap"),
    (lambda m: _set(m, "spec.template.spec.volumes", [{"name": "x", "gitRepo": {}}]),
     "spec.template.spec.volumes[0].gitRepo"),
    (lambda m: _set(m, "spec.template.spec.domain.devices.interfaces", [{"name": "n", "sriov": {}}]),
     "spec.template.spec.domain.devices.interfaces[0].sriov"),
    (lambda m: _set(m, "spec.template.spec.networks", [{"name": "n", "multus": {"networkName": "ns/net"}}]),
     "spec.template.spec.networks[0].multus.networkName"),
    (lambda m: _set(m, "spec.dataVolumeTemplates", [{}]), "spec.dataVolumeTemplates"),
    (lambda m: _set(m, "metadata.name", "Not A Name!"), "metadata.name"),
]


@pytest.mark.parametrize("change,path", BAD, ids=[p for _c, p in BAD])
def test_bad_manifest_names_the_path(change, path):
    m = change(vm())
    problems = errors(m)
    assert path in problems, problems


def test_bad_volumes_name_the_path():
    def with_volume(volume, disk=None):
        return vm(domain={"memory": {"guest": "128Mi"}, "devices": {"disks": [disk or {"name": "v"}]}},
                  volumes=[dict(volume, name="v")])

    cases = [
        (with_volume({"containerDisk": {"image": "quay.io/nowhere:1"}}), "spec.template.spec.volumes[0].containerDisk.image",
         "not in image_catalogue"),
        (with_volume({"hostDisk": {"path": "/x.img", "type": "Maybe"}}), "spec.template.spec.volumes[0].hostDisk.type",
         "allowed"),
        (with_volume({"hostDisk": {"path": "/x.img", "type": "DiskOrCreate"}}),
         "spec.template.spec.volumes[0].hostDisk.capacity", "required"),
        (with_volume({"emptyDisk": {"capacity": "big"}}), "spec.template.spec.volumes[0].emptyDisk.capacity", ""),
        (with_volume({"cloudInitNoCloud": {"userDataBase64": "***"}}),
         "spec.template.spec.volumes[0].cloudInitNoCloud.userDataBase64", "base64"),
        (with_volume({"cloudInitNoCloud": {"secretRef": {"name": "s"}}}),
         "spec.template.spec.volumes[0].cloudInitNoCloud.secretRef", "Secrets"),
        (with_volume({"persistentVolumeClaim": {"claimName": "c"}, "dataVolume": {"name": "d"}}),
         "spec.template.spec.volumes[0]", "only one"),
        (with_volume({"hostDisk": {"path": "/x.img", "type": "Disk"}}, {"name": "v", "lun": {}}),
         "spec.template.spec.domain.devices.disks[0].lun", "LUN"),
    ]
    for manifest, path, words in cases:
        problems = errors(manifest)
        assert path in problems and words in problems[path], (path, problems)


def test_wrong_kind_of_document():
    assert "manifest" in errors("- a\n- b\n")
    assert "manifest" in errors("a: [")
    assert "manifest" in errors("kind: VirtualMachine\n---\nkind: VirtualMachine\n")
    assert errors({"kind": "MigrationPolicy"})["kind"].startswith("'MigrationPolicy' is not allowed")


def test_a_bad_catalogue_is_named():
    assert "image_catalogue[x]" in errors(vm(), image_catalogue={"x": "relative/path"})


def test_host_errors_map_back_to_manifest_paths():
    spec, tr = mf.to_spec(kc.load("vmi-host-disk.yaml"))
    assert tr.where("disks[0].path") == "spec.volumes[0].hostDisk.path"
    assert tr.where("disks[0].size") == "spec.volumes[0].hostDisk.capacity"
    assert tr.where("disks[0].bus") == "spec.domain.devices.disks[0].disk.bus"
    assert tr.where("cpu.model") == "spec (kv_vm option cpu.model)"
    spec, tr = mf.to_spec(vm(), storage_pool="p")
    assert errors(vm(), cpu={"cores": 2}) == {
        "cpu": "cannot be given beside manifest: the manifest declares the VM's hardware"}
    assert tr.where("memory.guest") == "spec.template.spec.domain.memory.guest"


def test_the_options_annotation_is_checked():
    m = vm()
    m["metadata"]["annotations"] = {mf.OPTIONS_ANNOTATION: "{not json"}
    assert "metadata.annotations[%s]" % mf.OPTIONS_ANNOTATION in errors(m)
    m["metadata"]["annotations"] = {mf.OPTIONS_ANNOTATION: json.dumps({"domain_type": "xen"})}
    assert "metadata.annotations[%s].domain_type" % mf.OPTIONS_ANNOTATION in errors(m)


def test_translation_does_not_change_the_input():
    m = kc.load("vm-cirros.yaml")
    before = copy.deepcopy(m)
    mf.to_spec(m, catalogue=CAT)
    assert m == before


def test_every_refused_and_ignored_field_is_in_the_documented_table():
    from pathlib import Path

    from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec import manifest_domain as md
    from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec import manifest_volumes as mv

    doc = (Path(kc.DATA).parents[2] / "docs" / "kubevirt-mapping.md").read_text()
    table = doc[doc.index("## The table"):]
    keys = (list(md.REFUSED_DOMAIN) + list(md.REFUSED_DEVICES) + list(md.IGNORED_DEVICES) + list(mf.IGNORED_SPEC)
            + list(mf.REFUSED_SPEC) + list(mv.REFUSED_VOLUMES) + list(mf.OBJECT_META_IGNORED)
            + list(md.REFUSED_FEATURES))
    assert [k for k in keys if "`%s`" % k not in table and "%s`" % k not in table] == []


def test_run_options_come_from_one_place():
    m = kc.load("vmi-host-disk.yaml")
    assert errors(m, shutdown_timeout=5) == {
        "shutdown_timeout": "is also given by the manifest (spec.terminationGracePeriodSeconds); give it in one place"}
    # a fleet's top-level value is a default: the manifest's own value wins
    request = read_request({"manifest": m}, {"shutdown_timeout": 5})
    assert request.shutdown_timeout == 0
