# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The few fields kv_migrate reads from KubeVirt's MigrationPolicy and VirtualMachineInstanceMigration.

A stop-gap until the manifest stream's typed parsers (spec/migration_policy.py) land: then these
two readers should become thin calls into them. Unknown keys are refused, as everywhere.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.fields import Fields

try:
    import yaml

    HAS_YAML = True
except ImportError:  # pragma: no cover - ansible-core brings PyYAML
    HAS_YAML = False

# MigrationPolicy.spec (camelCase) -> kv_migrate option (snake_case).
POLICY_FIELDS = (
    ("allowAutoConverge", "allow_auto_converge"),
    ("allowPostCopy", "allow_post_copy"),
    ("bandwidthPerMigration", "bandwidth_per_migration"),
    ("completionTimeoutPerGiB", "completion_timeout_per_gib"),
)


def load(value, field, problems):
    """A manifest given as a mapping or as YAML text -> a mapping (or None with a problem recorded)."""
    if isinstance(value, str):
        if not HAS_YAML:
            problems.append((field, "a YAML string needs PyYAML; give a mapping"))
            return None
        try:
            value = yaml.safe_load(value)
        except yaml.YAMLError as err:
            problems.append((field, "is not valid YAML: %s" % err))
            return None
    if not isinstance(value, dict):
        problems.append((field, "must be a KubeVirt manifest (a mapping or YAML text)"))
        return None
    return value


def _header(doc, kind, field, problems):
    top = Fields(field, doc, problems)
    api = top.text("apiVersion")
    if api is not None and not api.startswith(("migrations.kubevirt.io/", "kubevirt.io/")):
        top.fail("apiVersion", "%r is not a KubeVirt API group" % api)
    got = top.text("kind")
    if got != kind:
        top.fail("kind", "must be %s, got %r" % (kind, got))
    meta = top.sub("metadata")
    name = meta.text("name")
    for key in ("namespace", "labels", "annotations", "uid", "resourceVersion", "generation",
                "creationTimestamp", "generateName"):
        meta.seen.add(key)
    meta.done()
    top.seen.add("status")
    return top, name


def _read(value, kind, field, problems):
    """(top Fields, metadata.name, spec Fields) of a manifest of that kind, or None when unreadable."""
    doc = load(value, field, problems)
    if doc is None:
        return None
    top, name = _header(doc, kind, field, problems)
    return top, name, top.sub("spec")


def migration_policy(value, field="migration_policy", problems=None):
    """MigrationPolicy -> {option: value} of the fields it sets (spec.selectors are the caller's business)."""
    read = _read(value, "MigrationPolicy", field, [] if problems is None else problems)
    if read is None:
        return {}
    top, _name, spec = read
    out = {}
    for camel, snake in POLICY_FIELDS:
        if not spec.has(camel):
            continue
        raw = spec.data[camel]
        if snake.startswith("allow_"):
            out[snake] = spec.boolean(camel)
        elif snake == "completion_timeout_per_gib":
            out[snake] = spec.integer(camel, minimum=1)
        else:
            out[snake] = raw if isinstance(raw, str) else str(raw)
    spec.seen.update(("selectors", "allowWorkloadDisruption"))
    spec.done()
    top.done()
    return out


def instance_migration(value, field="migration", problems=None):
    """VirtualMachineInstanceMigration -> {'name': spec.vmiName, 'migration_name': metadata.name}."""
    read = _read(value, "VirtualMachineInstanceMigration", field, [] if problems is None else problems)
    if read is None:
        return {}
    top, name, spec = read
    vmi = spec.text("vmiName")
    if vmi is None:
        spec.fail("vmiName", "is required: the VM to migrate")
    spec.seen.add("addedNodeSelector")
    spec.done()
    top.done()
    return {"name": vmi, "migration_name": name}
