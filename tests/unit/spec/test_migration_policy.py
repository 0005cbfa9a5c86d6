# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""MigrationPolicy and VirtualMachineInstanceMigration -> typed objects for the migration module."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec import migration_policy as mp
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.errors import SpecError
from tests.support import kubevirt_conformance as kc


def test_conformance_policy():
    policy = mp.parse_migration_object((kc.DATA / "example-migration-policy.yaml").read_text())
    assert policy == mp.MigrationPolicy(
        name="example-migration-policy", allow_auto_converge=False, allow_post_copy=False,
        bandwidth_per_migration=2000 * 2 ** 20, completion_timeout_per_gib=123456789,
        selectors=mp.MigrationSelectors(namespace_selector={"namespace-key": "namespace-value"},
                                        virtual_machine_instance_selector={"vmi-key": "vmi-value"}))
    assert policy.matches({"vmi-key": "vmi-value", "other": "x"}, {"namespace-key": "namespace-value"})
    assert not policy.matches({"vmi-key": "other"}, {"namespace-key": "namespace-value"})
    assert policy.precedence == 2


def test_conformance_migration():
    job = mp.parse_migration_object(kc.load("migration-job.yaml"))
    assert job == mp.VirtualMachineInstanceMigration(name="migration-job", vmi_name="vmi-migratable",
                                                     namespace="default")


def test_every_conformance_file_parses_as_its_kind():
    from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec import manifest as mf
    for name in kc.files():
        kind = kc.load(name)["kind"]
        if kind in mf.VM_KINDS:
            mf.translate(kc.load(name), catalogue=kc.catalogue("/img"))
        else:
            mp.parse_migration_object(kc.load(name))


def test_unset_fields_are_none():
    policy = mp.parse_migration_policy({"apiVersion": "migrations.kubevirt.io/v1alpha1", "kind": "MigrationPolicy",
                                        "metadata": {"name": "p"}, "spec": {}})
    assert policy.allow_post_copy is None and policy.bandwidth_per_migration is None
    assert policy.matches({}, {})


@pytest.mark.parametrize("spec,path", [
    ({"allowPostCopy": "maybe"}, "spec.allowPostCopy"),
    ({"bandwidthPerMigration": "fast"}, "spec.bandwidthPerMigration"),
    ({"completionTimeoutPerGiB": -1}, "spec.completionTimeoutPerGiB"),
    ({"selectors": {"namespaceSelector": ["a"]}}, "spec.selectors.namespaceSelector"),
    ({"selectors": {"nodeSelector": {}}}, "spec.selectors.nodeSelector"),
    ({"allowAutoConvergence": True}, "spec.allowAutoConvergence"),
])
def test_bad_policy_names_the_path(spec, path):
    with pytest.raises(SpecError) as info:
        mp.parse_migration_policy({"apiVersion": "migrations.kubevirt.io/v1alpha1", "kind": "MigrationPolicy",
                                   "metadata": {"name": "p"}, "spec": spec})
    assert path in info.value.fields


@pytest.mark.parametrize("doc,path", [
    ({"kind": "VirtualMachineInstanceMigration", "metadata": {"name": "m"}, "spec": {}}, "spec.vmiName"),
    ({"kind": "VirtualMachineInstanceMigration", "metadata": {"name": "m"}, "spec": {"vmiName": "v", "sendTo": {}}},
     "spec.sendTo"),
    ({"kind": "Migration", "metadata": {"name": "m"}}, "kind"),
])
def test_bad_migration_names_the_path(doc, path):
    with pytest.raises(SpecError) as info:
        mp.parse_migration_object(doc)
    assert path in info.value.fields
