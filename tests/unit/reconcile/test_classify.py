# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible_collections.kvcompute.libvirt.plugins.module_utils.reconcile.classify import classify, is_live
from ansible_collections.kvcompute.libvirt.plugins.module_utils.reconcile.diff import differences
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.export import to_options
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.options import parse_options

BASE = to_options(parse_options({
    "name": "vm1",
    "cpu": {"cores": 2, "features": [{"name": "vmx"}]},
    "memory": {"guest": "1Gi"},
    "resources": {"requests": {"cpu": "500m"}},
    "disks": [{"name": "root", "path": "/r"}, {"name": "data", "path": "/d", "bus": "scsi"}],
    "interfaces": [{"name": "nic0", "mac": "52:54:00:00:00:01"}],
}))


def changed(**edits):
    """A copy of BASE with dotted-path edits applied (value None deletes)."""
    out = copy.deepcopy(BASE)
    for path, value in edits.items():
        keys = path.split("__")
        node = out
        for key in keys[:-1]:
            node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
        if value is None:
            node.pop(keys[-1], None)
        else:
            node[keys[-1]] = value
    return out


def test_no_differences_when_equal():
    assert list(differences(BASE, copy.deepcopy(BASE))) == []


def test_scalar_difference():
    assert list(differences(BASE, changed(memory__guest="2Gi"))) == [("memory.guest", "1Gi", "2Gi")]


def test_named_disk_field():
    after = changed()
    after["disks"][0]["bus"] = "sata"
    assert list(differences(BASE, after)) == [("disks[root].bus", "virtio", "sata")]


def test_named_items_compared_by_name_not_position():
    after = copy.deepcopy(BASE)
    after["disks"].reverse()
    assert list(differences(BASE, after)) == []


def test_added_and_removed_named_items():
    after = copy.deepcopy(BASE)
    removed = after["disks"].pop(1)
    added = {"name": "logs", "device": "disk", "bus": "virtio", "path": "/l"}
    after["disks"].append(added)
    assert list(differences(BASE, after)) == [("disks[data]", removed, None), ("disks[logs]", None, added)]


def test_interface_and_feature_by_name():
    after = copy.deepcopy(BASE)
    after["interfaces"][0]["model"] = "e1000e"
    after["cpu"]["features"][0]["policy"] = "disable"
    assert sorted(differences(BASE, after)) == [("cpu.features[vmx].policy", "require", "disable"),
                                                ("interfaces[nic0].model", "virtio", "e1000e")]


def test_added_and_removed_keys():
    after = changed(watchdog={"model": "ib700", "action": "reset"}, resources__requests__cpu=None)
    assert list(differences(BASE, after)) == [("resources.requests.cpu", "500m", None),
                                              ("watchdog", None, {"model": "ib700", "action": "reset"})]


def test_unnamed_lists_compared_whole():
    assert list(differences({"x": [1, 2]}, {"x": [2, 1]})) == [("x", [1, 2], [2, 1])]


def test_type_change():
    assert list(differences({"a": {"b": 1}}, {"a": 5})) == [("a", {"b": 1}, 5)]


def test_first_named_item_added_is_named():
    before = changed(disks=[])
    assert list(differences(before, BASE)) == [("disks[root]", None, BASE["disks"][0]),
                                               ("disks[data]", None, BASE["disks"][1])]


@pytest.mark.parametrize("field, live", [("resources", True), ("resources.requests.cpu", True),
                                         ("resources.limits.memory", True), ("resourcesx", False),
                                         ("cpu.cores", False), ("memory.guest", True), ("cpu.sockets", True),
                                         ("cpu.max_sockets", False), ("memory.max_guest", False),
                                         ("disks[root].bus", False)])
def test_is_live(field, live):
    assert is_live(field) is live


def test_classify_new_domain_has_no_changes():
    assert classify(BASE, None, running=False) == ([], [])


def test_classify_equal_is_none():
    assert classify(BASE, copy.deepcopy(BASE), running=True, booted=copy.deepcopy(BASE)) == ([], [])


def test_classify_define_when_not_running():
    desired = changed(cpu__cores=4, resources__requests__cpu="1")
    changes, pending = classify(desired, BASE, running=False, booted=BASE)
    assert changes == [
        {"field": "cpu.cores", "before": 2, "after": 4, "apply": "define"},
        {"field": "resources.requests.cpu", "before": "500m", "after": "1", "apply": "define"},
    ]
    assert pending == []


def test_classify_live_vs_restart_when_running():
    desired = changed(cpu__cores=4, resources__requests__cpu="1", resources__limits={"memory": "2Gi"})
    desired["disks"][0]["bus"] = "sata"
    changes, pending = classify(desired, BASE, running=True)
    assert [(c["field"], c["apply"]) for c in changes] == [
        ("cpu.cores", "restart"),
        ("disks[root].bus", "restart"),
        ("resources.limits", "live"),
        ("resources.requests.cpu", "live"),
    ]
    assert pending == []  # booted unknown


def test_pending_from_booted():
    """Definition already updated, running domain booted with the old spec: restart fields pending."""
    desired = changed(cpu__cores=4, resources__requests__cpu="1")
    desired["disks"][1]["bus"] = "virtio"
    changes, pending = classify(desired, copy.deepcopy(desired), running=True, booted=BASE)
    assert changes == []
    assert pending == ["cpu.cores", "disks[data].bus"]


def test_pending_ignored_when_not_running():
    desired = changed(cpu__cores=4)
    assert classify(desired, desired, running=False, booted=BASE) == ([], [])


def test_pending_and_changes_together():
    desired = changed(machine="pc-i440fx-7.2")
    changes, pending = classify(desired, BASE, running=True, booted=BASE)
    assert changes == [{"field": "machine", "before": BASE["machine"], "after": "pc-i440fx-7.2", "apply": "restart"}]
    assert pending == ["machine"]


def test_memory_guest_is_live_and_never_pending():
    desired = changed(memory__guest="2Gi")
    changes, pending = classify(desired, BASE, running=True, booted=BASE)
    assert changes == [{"field": "memory.guest", "before": "1Gi", "after": "2Gi", "apply": "live"}]
    assert pending == []


def test_classify_added_disk_running():
    desired = copy.deepcopy(BASE)
    desired["disks"].append({"name": "new", "device": "disk", "bus": "virtio", "path": "/n"})
    changes, _pending = classify(desired, BASE, running=True)
    assert changes == [{"field": "disks[new]", "before": None, "after": desired["disks"][-1], "apply": "restart"}]
