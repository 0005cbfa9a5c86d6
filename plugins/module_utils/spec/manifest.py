# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Front door 2: a KubeVirt VirtualMachine / VirtualMachineInstance -> the same VMSpec as the options.

The manifest is translated into kv_vm options (camelCase -> snake_case, volumes
-> disks, networks -> NICs), which parse_options then judges: one spec, one
validator. Every error names the manifest path (`spec.template.spec.domain.cpu.cores`).
Fields meaningless on one libvirt host are accepted and listed in `ignored` with
the reason; the table of docs/kubevirt-mapping.md says which.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec import manifest_domain, manifest_networks
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec import manifest_volumes
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.errors import SpecError
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.manifest_fields import ManifestFields
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.manifest_result import Translation, remap
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.options import parse_options

try:
    import yaml

    HAS_YAML = True
except ImportError:  # pragma: no cover - ansible-core brings PyYAML
    HAS_YAML = False

API_VERSIONS = ("kubevirt.io/v1", "kubevirt.io/v1alpha3")
VM_KINDS = ("VirtualMachine", "VirtualMachineInstance")
RUN_STRATEGIES = ("Always", "RerunOnFailure", "Once", "Manual", "Halted")
# The annotation that carries kv_vm options KubeVirt has no field for (written by the export).
OPTIONS_ANNOTATION = "kvcompute.dev/libvirt-options"

SCHEDULING = "scheduling across nodes is kv_place's job; on one libvirt host it has no meaning"
IGNORED_SPEC = {
    "nodeSelector": SCHEDULING,
    "affinity": SCHEDULING,
    "tolerations": SCHEDULING,
    "topologySpreadConstraints": SCHEDULING,
    "schedulerName": SCHEDULING,
    "priorityClassName": SCHEDULING,
    "evictionStrategy": "node drains are playbooks here (playbooks/drain.yml), not a cluster controller",
    "readinessGates": "pod readiness gates need Kubernetes",
    "dnsPolicy": "cluster DNS does not exist here; the guest uses the network's DNS",
    "dnsConfig": "cluster DNS does not exist here; the guest uses the network's DNS",
    "subdomain": "cluster DNS does not exist here",
}
REFUSED_SPEC = {
    "livenessProbe": "kv_vm runs no health probes",
    "readinessProbe": "kv_vm runs no health probes",
    "accessCredentials": "credentials from Kubernetes Secrets are not supported; use cloud-init userData",
    "startStrategy": "a paused start is not supported",
}
OBJECT_META_IGNORED = ("namespace", "labels", "annotations", "uid", "resourceVersion", "generation",
                       "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields",
                       "finalizers", "ownerReferences", "selfLink", "generateName")


def load(manifest):
    """A manifest given as a mapping or a YAML/JSON string -> a mapping, or SpecError."""
    if isinstance(manifest, str):
        if not HAS_YAML:
            raise SpecError([("manifest", "a YAML string needs PyYAML on the host; give a mapping")])
        try:
            docs = [d for d in yaml.safe_load_all(manifest) if d is not None]
        except yaml.YAMLError as err:
            raise SpecError([("manifest", "is not valid YAML: %s" % err)])
        if len(docs) != 1:
            raise SpecError([("manifest", "must hold exactly one document, found %d" % len(docs))])
        manifest = docs[0]
    if not isinstance(manifest, dict):
        raise SpecError([("manifest", "must be a mapping (a KubeVirt object), not %s" % type(manifest).__name__)])
    return manifest


def kind_of(manifest):
    return manifest.get("kind") if isinstance(manifest, dict) else None


def translate(manifest, name=None, catalogue=None, storage_pool="default", image_dir=manifest_volumes.IMAGE_DIR):
    """Manifest -> Translation (options with their origins), or SpecError naming manifest paths."""
    manifest = load(manifest)
    problems = []
    top = ManifestFields("", manifest, problems)
    kind = top.text("kind", choices=VM_KINDS)
    if not top.has("kind"):
        top.fail("kind", "is required: VirtualMachine or VirtualMachineInstance")
    top.text("apiVersion", choices=API_VERSIONS)
    tr = Translation(kind=kind or "", root="spec.template.spec" if kind == "VirtualMachine" else "spec",
                     ignored=top.ignored)
    tr.catalogue = manifest_volumes.Catalogue(catalogue, problems)
    meta = top.sub("metadata")
    vm_name = meta.text("name")
    vm_name = name or vm_name
    if vm_name is None:
        meta.fail("name", "is required (or give kv_vm's name)")
    tr.options["name"] = vm_name
    tr.note("name", "name" if name else meta.where("name"))
    ctx = {"name": vm_name or "", "namespace": meta.text("namespace") or "default",
           "storage_pool": storage_pool, "image_dir": image_dir.rstrip("/") or "/", "hostname": None}
    _annotations(meta, tr)
    for key in OBJECT_META_IGNORED:
        if key == "annotations" and tr.extra is not None and len(meta.raw(key)) == 1:
            continue  # only ours, and honoured
        if key == "namespace":
            continue  # honoured: the cloud-init instance-id is <name>.<namespace>
        meta.ignore(key, "Kubernetes object metadata; kv_vm keeps only the name")
    meta.done()
    top.ignore("status", "status is written by KubeVirt; kv_vm_info reports the VM's state")
    if kind == "VirtualMachine":
        _vm_spec(top.sub("spec"), tr, ctx)
    elif kind == "VirtualMachineInstance":
        _vmi_spec(top.sub("spec"), tr, ctx)
    else:
        top.raw("spec")
    top.done()
    if problems:
        raise SpecError(problems)
    return tr


def to_spec(manifest, name=None, catalogue=None, storage_pool="default", image_dir=manifest_volumes.IMAGE_DIR):
    """Manifest -> (VMSpec, Translation): the VMSpec parse_options gives for the translated options."""
    tr = translate(manifest, name, catalogue, storage_pool, image_dir)
    try:
        return parse_options(tr.options), tr
    except SpecError as err:
        raise SpecError(remap(tr, err.problems))


def _annotations(meta, tr):
    extra = (meta.raw("annotations") or {}).get(OPTIONS_ANNOTATION) if isinstance(meta.raw("annotations"),
                                                                                  dict) else None
    if extra is None:
        return
    where = "%s[%s]" % (meta.where("annotations"), OPTIONS_ANNOTATION)
    try:
        extra = json.loads(extra)
    except (TypeError, ValueError):
        meta.problems.append((where, "must be a JSON object of kv_vm options"))
        return
    if not isinstance(extra, dict):
        meta.problems.append((where, "must be a JSON object of kv_vm options"))
        return
    tr.extra = extra
    tr.extra_origin = where


def _vm_spec(f, tr, ctx):
    strategy = f.text("runStrategy", choices=RUN_STRATEGIES)
    running = f.boolean("running", None)
    if strategy is not None and running is not None:
        f.fail("running", "give runStrategy or running, not both (running is deprecated)")
    if running is not None:
        strategy = "Always" if running else "Halted"
    if strategy is not None:
        # A spec field (the domain keeps it) that kv_vm also takes beside state: in both.
        tr.run["run_strategy"] = tr.options["run_strategy"] = strategy
        tr.note("run_strategy", f.where("running" if running is not None else "runStrategy"))
    template = f.sub("template")
    tmeta = template.sub("metadata")
    for key in OBJECT_META_IGNORED + ("name",):
        tmeta.ignore(key, "the template's object metadata means nothing without a pod")
    tmeta.done()
    if not template.has("spec"):
        template.fail("spec", "is required")
    _vmi_spec(template.sub("spec"), tr, ctx)
    template.done()
    f.refuse("dataVolumeTemplates", "CDI does not exist here; create the pool volume first (e.g. with "
                                    "community.libvirt) and use a dataVolume or persistentVolumeClaim volume")
    f.refuse("instancetype", "instance types are cluster objects; write the resources into the domain")
    f.refuse("preference", "preferences are cluster objects; write them into the domain")
    f.ignore("updateVolumesStrategy", "volume migration strategies need CDI")
    f.done()


def _vmi_spec(f, tr, ctx):
    for key, reason in IGNORED_SPEC.items():
        f.ignore(key, reason)
    for key, reason in REFUSED_SPEC.items():
        f.refuse(key, reason)
    f.text("architecture", "amd64", choices=("amd64",))  # kv_vm defines x86_64 domains
    ctx["hostname"] = f.text("hostname")
    if f.has("terminationGracePeriodSeconds"):
        tr.run["shutdown_timeout"] = f.raw("terminationGracePeriodSeconds")
        tr.note("shutdown_timeout", f.where("terminationGracePeriodSeconds"))
    domain = f.sub("domain")
    if not f.has("domain"):
        f.fail("domain", "is required")
    manifest_domain.domain(domain, tr)
    devices = domain.sub("devices")
    manifest_volumes.disks(f, devices, tr, ctx)
    manifest_networks.interfaces(f, devices, tr)
    f.done()
    _apply_extra(tr)


def _apply_extra(tr):
    """Options KubeVirt has no field for, from the annotation the export writes; they replace whole keys."""
    extra = tr.extra
    if not extra:
        return
    for key, value in extra.items():
        if key == "name":
            tr.ignored.append({"field": tr.extra_origin + ".name", "reason": "the name is metadata.name"})
            continue
        tr.options[key] = value
        tr.note(key, "%s.%s" % (tr.extra_origin, key))
