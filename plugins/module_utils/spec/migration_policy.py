# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""KubeVirt's MigrationPolicy and VirtualMachineInstanceMigration as typed objects for the migration module.

Field names are KubeVirt's in snake_case. A value left out is None: the
migration module then takes the cluster-wide default (KubeVirt's `migrations`
configuration), as KubeVirt does. Errors name the manifest path.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from dataclasses import dataclass, field
from typing import Dict, Optional

from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.errors import SpecError
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.manifest import load
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.manifest_fields import ManifestFields

POLICY_API = ("migrations.kubevirt.io/v1alpha1",)
MIGRATION_API = ("kubevirt.io/v1", "kubevirt.io/v1alpha3")


@dataclass
class MigrationSelectors:
    namespace_selector: Dict[str, str] = field(default_factory=dict)
    virtual_machine_instance_selector: Dict[str, str] = field(default_factory=dict)


@dataclass
class MigrationPolicy:
    name: str
    allow_auto_converge: Optional[bool] = None
    allow_post_copy: Optional[bool] = None
    allow_workload_disruption: Optional[bool] = None
    bandwidth_per_migration: Optional[int] = None  # bytes per second; 0 is unlimited
    completion_timeout_per_gib: Optional[int] = None  # seconds per GiB of guest memory
    selectors: MigrationSelectors = field(default_factory=MigrationSelectors)

    def matches(self, vmi_labels, namespace_labels=None):
        """KubeVirt's rule: every selector label must be on the VMI (or its namespace)."""
        return (_subset(self.selectors.virtual_machine_instance_selector, vmi_labels)
                and _subset(self.selectors.namespace_selector, namespace_labels))

    @property
    def precedence(self):
        """KubeVirt picks, among matching policies, the one with the most selector labels."""
        return (len(self.selectors.namespace_selector) + len(self.selectors.virtual_machine_instance_selector))


@dataclass
class VirtualMachineInstanceMigration:
    name: str
    vmi_name: str
    namespace: str = "default"


def _subset(wanted, labels):
    labels = labels or {}
    return all(labels.get(k) == v for k, v in wanted.items())


def parse_migration_object(manifest):
    """A MigrationPolicy or VirtualMachineInstanceMigration manifest (mapping or YAML) -> its dataclass."""
    data = load(manifest)
    kind = data.get("kind")
    if kind == "MigrationPolicy":
        return parse_migration_policy(data)
    if kind == "VirtualMachineInstanceMigration":
        return parse_migration(data)
    raise SpecError([("kind", "%r is not MigrationPolicy or VirtualMachineInstanceMigration" % (kind,))])


def _header(data, kind, apis, problems):
    top = ManifestFields("", load(data), problems)
    top.text("kind", choices=(kind,))
    top.text("apiVersion", choices=apis)
    meta = top.sub("metadata")
    name = meta.text("name")
    if name is None:
        meta.fail("name", "is required")
    namespace = meta.text("namespace", "default")
    for key in ("labels", "annotations", "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields"):
        meta.ignore(key, "Kubernetes object metadata")
    meta.done()
    top.ignore("status", "status is written by KubeVirt")
    return top, name or "", namespace


def parse_migration_policy(data):
    problems = []
    top, name, _namespace = _header(data, "MigrationPolicy", POLICY_API, problems)
    spec = top.sub("spec")
    policy = MigrationPolicy(
        name=name,
        allow_auto_converge=spec.boolean("allowAutoConverge", None),
        allow_post_copy=spec.boolean("allowPostCopy", None),
        allow_workload_disruption=spec.boolean("allowWorkloadDisruption", None),
        bandwidth_per_migration=spec.size("bandwidthPerMigration", None),
        completion_timeout_per_gib=spec.integer("completionTimeoutPerGiB", None, minimum=0),
    )
    sel = spec.sub("selectors")
    policy.selectors = MigrationSelectors(namespace_selector=_labels(sel, "namespaceSelector"),
                                          virtual_machine_instance_selector=_labels(sel,
                                                                                    "virtualMachineInstanceSelector"))
    sel.done()
    spec.done()
    top.done()
    if problems:
        raise SpecError(problems)
    return policy


def _labels(f, key):
    value = f.raw(key) or {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        f.fail(key, "must be a mapping of label -> value (strings)")
        return {}
    return dict(value)


def parse_migration(data):
    problems = []
    top, name, namespace = _header(data, "VirtualMachineInstanceMigration", MIGRATION_API, problems)
    spec = top.sub("spec")
    vmi = spec.text("vmiName")
    if vmi is None:
        spec.fail("vmiName", "is required")
    spec.refuse("addedNodeSelector", "kv_migrate names the destination host itself")
    spec.refuse("sendTo", "decentralized migration is kv_migrate's peer2peer mode")
    spec.refuse("receive", "decentralized migration is kv_migrate's peer2peer mode")
    spec.done()
    top.done()
    if problems:
        raise SpecError(problems)
    return VirtualMachineInstanceMigration(name=name, vmi_name=vmi or "", namespace=namespace)
