"""kv_mdev's plan on the fake sysfs: idempotent by UUID, sysfs writes and boot rule, refusals, libvirt XML."""

import pytest

from ansible_collections.kvcompute.libvirt.plugins.module_utils.converge import mdev
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import parse
from tests.support import fake_sysfs as fake

NEW = "0b0e6d1c-3a4f-4c1e-8f7a-2d9b5e6c7a01"
EXISTING = "6b1f3f6e-8e5c-4b7a-9d55-000000000001"
PARENT = fake.MDEV_PARENTS[0]


@pytest.fixture
def host(tmp_path):
    return fake.scenario(tmp_path)


def test_inventory_lists_types_with_free_instances(host):
    inv = mdev.inventory(host.fs())
    assert inv["parents"][0] == {"parent": PARENT, "types": [
        {"type": "nvidia-63", "name": "GRID T4-1Q", "available_instances": 2, "device_api": "vfio-pci"},
        {"type": "nvidia-64", "name": "GRID T4-2Q", "available_instances": 1, "device_api": "vfio-pci"}]}
    assert inv["mdevs"] == [{"uuid": EXISTING, "parent": PARENT, "type": "nvidia-63"}]


def test_create_with_sysfs_writes_the_uuid_and_a_boot_rule(host):
    fs = host.fs()
    backend, actions = mdev.plan(fs, None, NEW, "81:00.0", "nvidia-63", backend="auto")
    assert backend == "sysfs", "a fake root never uses libvirt"
    assert [a["action"] for a in actions] == ["sysfs create", "write file"]
    mdev.apply(fs, None, actions)
    create = "/sys/class/mdev_bus/%s/mdev_supported_types/nvidia-63/create" % PARENT
    assert fs.writes[0] == (create, NEW)
    rule = host.read(mdev.RULE_FILE % NEW)
    assert 'KERNEL=="%s"' % PARENT in rule and "echo %s > %s" % (NEW, create) in rule


def test_an_existing_mdev_is_idempotent_by_uuid(host):
    fs = host.fs()
    _backend, actions = mdev.plan(fs, None, EXISTING.upper(), PARENT, "nvidia-63", persistent=False)
    assert actions == []
    _backend, actions = mdev.plan(fs, None, EXISTING, PARENT, "nvidia-63")
    assert [a["action"] for a in actions] == ["write file"], "only made persistent"
    mdev.apply(fs, None, actions)
    assert mdev.plan(fs, None, EXISTING, PARENT, "nvidia-63")[1] == []


def test_remove_with_sysfs(host):
    fs = host.fs()
    mdev.apply(fs, None, mdev.plan(fs, None, EXISTING, PARENT, "nvidia-63")[1])
    _backend, actions = mdev.plan(fs, None, EXISTING, state="absent")
    assert [a["action"] for a in actions] == ["sysfs remove", "remove file"]
    mdev.apply(fs, None, actions)
    assert fs.writes[-1] == ("/sys/bus/mdev/devices/%s/remove" % EXISTING, "1")
    assert not host.exists(mdev.RULE_FILE % EXISTING)
    assert mdev.plan(fs, None, NEW, state="absent")[1] == [], "absent already"


@pytest.mark.parametrize("args,message", [
    (("not-a-uuid", PARENT, "nvidia-63"), "uuid: 'not-a-uuid' is not a UUID"),
    ((NEW, None, "nvidia-63"), "parent and type are required"),
    ((NEW, "0000:06:00.0", "nvidia-63"), "parent: 0000:06:00.0 offers no mediated devices; parents here: 0000:81"),
    ((NEW, PARENT, "nvidia-99"), "type: 0000:81:00.0 does not offer 'nvidia-99'; it offers nvidia-63, nvidia-64"),
    ((NEW, fake.MDEV_PARENTS[1], "nvidia-63"), "type: no free instance of nvidia-63 (GRID T4-1Q) on 0000:82:00.0"),
    ((EXISTING, PARENT, "nvidia-64"), "exists with type nvidia-63 on parent 0000:81:00.0, not nvidia-64"),
])
def test_refusals_change_nothing(host, args, message):
    fs = host.fs()
    with pytest.raises(mdev.MdevError) as err:
        mdev.plan(fs, None, *args)
    assert message in str(err.value)
    assert fs.writes == []


def test_libvirt_node_device_xml():
    root = parse(mdev.node_xml(NEW, "0000:81:00.0", "nvidia-63"))
    assert root.findtext("parent") == "pci_0000_81_00_0"
    assert root.find("capability").get("type") == "mdev"
    assert root.find("capability/type").get("id") == "nvidia-63"
    assert root.findtext("capability/uuid") == NEW
