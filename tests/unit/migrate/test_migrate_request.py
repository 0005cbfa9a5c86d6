# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kv_migrate's request reader and the KubeVirt manifests it takes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.kvcompute.libvirt.plugins.module_utils.migrate.request import default_migrate_uri, read
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.errors import SpecError

POLICY = """
apiVersion: migrations.kubevirt.io/v1alpha1
kind: MigrationPolicy
metadata: {name: fast}
spec:
  allowAutoConverge: true
  bandwidthPerMigration: 128Mi
  completionTimeoutPerGiB: 60
  selectors:
    virtualMachineInstanceSelector: {workload: db}
"""
VMIM = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstanceMigration",
        "metadata": {"name": "move-web1", "namespace": "default"}, "spec": {"vmiName": "web1"}}


def params(**kw):
    base = {"name": "web1", "dest_uri": "qemu+tls://node2/system"}
    base.update(kw)
    return base


def problems(**kw):
    with pytest.raises(SpecError) as err:
        read(params(**kw))
    return dict(err.value.problems)


def test_defaults_are_kubevirts():
    req = read(params())
    assert req["mode"] == "peer2peer" and req["state"] == "migrated"
    assert req["policy"]["completion_timeout_per_gib"] == 150 and req["policy"]["progress_timeout"] == 150
    assert req["policy"]["bandwidth_mib"] == 0 and not req["policy"]["allow_post_copy"]
    assert req["migrate_uri"] == "tcp://node2" and req["dest_peer_uri"] == "qemu+tls://node2/system"


@pytest.mark.parametrize("uri, expected", [
    ("qemu+tcp://127.0.0.2/system", "tcp://127.0.0.2"),
    ("qemu+ssh://root@node3:2222/system", "tcp://node3"),
    ("qemu+tls://[fd00::2]/system", "tcp://[fd00::2]"),
    ("qemu:///system", None),
])
def test_migrate_uri_follows_the_destination(uri, expected):
    assert default_migrate_uri(uri) == expected


def test_policy_manifest_fills_what_the_task_leaves_open():
    req = read(params(migration_policy=POLICY, completion_timeout_per_gib=90))
    assert req["policy"]["allow_auto_converge"] is True
    assert req["policy"]["bandwidth_mib"] == 128
    assert req["policy"]["completion_timeout_per_gib"] == 90  # the task's option wins


def test_instance_migration_names_the_vm():
    req = read({"migration": VMIM, "dest_uri": "qemu+tls://node2/system"})
    assert req["name"] == "web1" and req["migration_name"] == "move-web1"


@pytest.mark.parametrize("kw, field", [
    ({"name": None}, "name"),
    ({"dest_uri": None}, "dest_uri"),
    ({"bandwidth_per_migration": "fast"}, "bandwidth_per_migration"),
    ({"bandwidth_per_migration": "100Ki"}, "bandwidth_per_migration"),
    ({"completion_timeout_per_gib": 0}, "completion_timeout_per_gib"),
    ({"max_downtime_ms": -5}, "max_downtime_ms"),
    ({"compression": "zstd"}, "compression"),
    ({"compression": "xbzrle", "parallel_connections": 4}, "compression"),
    ({"parallel_connections": 0}, "parallel_connections"),
    ({"mode": "managed", "dest_peer_uri": "qemu+tcp://x/system"}, "dest_peer_uri"),
    ({"shared_paths": ["relative/dir"]}, "shared_paths[0]"),
    ({"migrate_uri": "127.0.0.2"}, "migrate_uri"),
    ({"migration_policy": {"kind": "MigrationPolicy", "spec": {"allowPostCopy": "maybe"}}},
     "migration_policy.spec.allowPostCopy"),
    ({"migration_policy": {"kind": "MigrationPolicy", "spec": {"bandwidth": "1Gi"}}}, "migration_policy.spec.bandwidth"),
    ({"migration_policy": {"kind": "KubeVirt"}}, "migration_policy.kind"),
    ({"migration_policy": "a: [b"}, "migration_policy"),
    ({"migration": dict(VMIM, spec={"vmiName": "other"})}, "migration.spec.vmiName"),
])
def test_bad_input_names_the_field(kw, field):
    found = problems(**kw)
    assert field in found, found


def test_every_problem_at_once():
    found = problems(name=None, dest_uri=None, compression="zstd", completion_timeout_per_gib=0)
    assert set(found) == {"name", "dest_uri", "compression", "completion_timeout_per_gib"}


def test_status_needs_no_destination():
    assert read({"name": "web1", "state": "status"})["state"] == "status"
