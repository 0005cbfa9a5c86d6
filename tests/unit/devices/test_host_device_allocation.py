"""Resolution of host_devices / gpus through permitted_host_devices, and allocation on the fake host."""

from pathlib import Path

import pytest
import yaml

from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain import hostdev
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import etree, parse, tostring
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host import mdev, pci, usb
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.hostfs import HostFS
from ansible_collections.kvcompute.libvirt.plugins.module_utils.plan import host_devices, vsock
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.errors import SpecError
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.options import parse_options
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.permitted import check_requested, parse_permitted
from tests.support import fake_sysfs as fake

CONFORMANCE = Path(__file__).resolve().parents[4] / "shared" / "kubevirt-conformance"
if not CONFORMANCE.is_dir():  # a worktree sits in /work/wt/<stream>; main in /work/main
    CONFORMANCE = Path("/work/shared/kubevirt-conformance")

PERMITTED = {
    "pci_host_devices": [
        {"pci_vendor_selector": "10de:1b38", "resource_name": "nvidia.com/GP102GL_Tesla_P40"},
        {"pci_vendor_selector": "10DE:1EB8", "resource_name": "nvidia.com/TU104GL_Tesla_T4"},
    ],
    "mediated_devices": [
        {"mdev_name_selector": "GRID T4-1Q", "resource_name": "nvidia.com/GRID_T4-1Q"},
        {"mdev_name_selector": "GRID T4-2Q", "resource_name": "nvidia.com/GRID_T4-2Q"},
    ],
    "usb": [
        {"resource_name": "kubevirt.io/storage", "selectors": [{"vendor": "0781", "product": "5567"}]},
        {"resource_name": "kubevirt.io/desk", "selectors": [{"vendor": "0781", "product": "5567"},
                                                            {"vendor": "046d", "product": "c31c"}]},
    ],
}


@pytest.fixture
def inventory(tmp_path):
    fake.scenario(tmp_path)
    fs = HostFS(str(tmp_path))
    return {"pci": pci.read_devices(fs), "usb": usb.read_devices(fs), "mdev_types": mdev.read_parents(fs),
            "mdevs": mdev.read_mdevs(fs)}


def _usage(*domains):
    """Usage as converge reads it: from the rendered XML of other VMs."""
    roots = {}
    for i, assignments in enumerate(domains):
        root = etree.Element("domain")
        devs = etree.SubElement(root, "devices")
        for a in assignments:
            hostdev.render_hostdev(devs, a)
        roots["vm%d" % i] = parse(tostring(root))
    return hostdev.usage(roots)


def _resolve(options, inventory, usage=None, own=None, permitted=None):
    spec = parse_options(dict({"name": "vm"}, **options))
    allowed = parse_permitted(PERMITTED if permitted is None else permitted)
    assert check_requested(spec, allowed) == []
    return host_devices.resolve(spec, allowed, inventory, usage or _usage(), own or {}, "vm")


def test_identical_gpus_the_free_one_is_taken_and_never_twice(inventory):
    want = {"host_devices": [{"name": "t4", "device_name": "nvidia.com/TU104GL_Tesla_T4"}]}
    first, problems = _resolve(want, inventory)
    assert problems == [] and first == [{"name": "t4", "type": "pci", "address": "0000:03:00.0"}]
    second, unused = _resolve(want, inventory, usage=_usage(first))
    assert second[0]["address"] == "0000:04:00.0", "the first T4 is held by vm0"
    third, unused = _resolve(want, inventory, usage=_usage(first, second))
    assert third[0]["address"] == "0000:05:00.0"
    none, problems = _resolve(want, inventory, usage=_usage(first, second, third))
    assert none == []
    (fld, message), = problems
    assert fld == "host_devices[0].device_name"
    assert "no free PCI device for nvidia.com/TU104GL_Tesla_T4 (10de:1eb8)" in message
    assert "0000:03:00.0 is assigned to vm0" in message and "0000:05:00.0 is assigned to vm2" in message
    assert "0000:81:00.0 is bound to the host driver nvidia (bind it to vfio-pci with kv_iommu)" in message


def test_two_devices_of_one_vm_get_two_gpus(inventory):
    found, problems = _resolve({"host_devices": [{"name": "a", "device_name": "nvidia.com/TU104GL_Tesla_T4"}],
                                "gpus": [{"name": "b", "device_name": "nvidia.com/TU104GL_Tesla_T4"}]}, inventory)
    assert problems == [] and [f["address"] for f in found] == ["0000:03:00.0", "0000:04:00.0"]


def test_a_vm_keeps_its_device_on_a_rerun(inventory):
    want = {"host_devices": [{"name": "t4", "device_name": "nvidia.com/TU104GL_Tesla_T4"}]}
    own = {"t4": {"type": "pci", "address": "0000:05:00.0"}}
    found, unused = _resolve(want, inventory, own=own)
    assert found[0]["address"] == "0000:05:00.0"
    # ... unless another domain took it meanwhile (edited by hand): then a free one
    found, unused = _resolve(want, inventory, own=own, usage=_usage([{"name": "x", "type": "pci", "address": "0000:05:00.0"}]))
    assert found[0]["address"] == "0000:03:00.0"


def test_explicit_pci_address(inventory):
    found, problems = _resolve({"host_devices": [{"name": "nic", "pci_address": "06:00.0"}]}, inventory)
    assert problems == [] and found[0]["address"] == "0000:06:00.0"
    held = _usage([{"name": "n", "type": "pci", "address": "0000:06:00.0"}])
    unused, problems = _resolve({"host_devices": [{"name": "nic", "pci_address": "0000:06:00.0"}]}, inventory, usage=held)
    assert problems == [("host_devices[0].pci_address", "0000:06:00.0 is already assigned to vm0")]
    unused, problems = _resolve({"host_devices": [{"name": "nic", "pci_address": "0000:09:00.0"}]}, inventory)
    assert problems == [("host_devices[0].pci_address", "no PCI device 0000:09:00.0 on this host")]


def test_usb_identical_sticks_by_bus_and_device(inventory):
    want = {"host_devices": [{"name": "stick", "usb": {"vendor": "0x0781", "product": "5567"}}]}
    first, unused = _resolve(want, inventory)
    assert first == [{"name": "stick", "type": "usb", "vendor": "0781", "product": "5567", "bus": 1, "device": 2}]
    second, unused = _resolve(want, inventory, usage=_usage(first))
    assert (second[0]["bus"], second[0]["device"]) == (1, 3)
    unused, problems = _resolve(want, inventory, usage=_usage(first, second))
    assert problems[0][0] == "host_devices[0].usb"
    assert "every USB device 0781:5567 is assigned already: bus 1 device 2 to vm0, bus 1 device 3 to vm1" in problems[0][1]
    unused, problems = _resolve({"host_devices": [{"name": "x", "usb": {"vendor": "dead", "product": "beef"}}]}, inventory)
    assert problems == [("host_devices[0].usb", "no USB device dead:beef on this host")]


def test_a_usb_resource_gets_one_device_per_selector(inventory):
    found, problems = _resolve({"host_devices": [{"name": "desk", "device_name": "kubevirt.io/desk"}]}, inventory)
    assert problems == []
    assert [(f["name"], f["vendor"], f["bus"], f["device"]) for f in found] == [
        ("desk", "0781", 1, 2), ("desk-1", "046d", 2, 2)]


def test_vgpu_an_existing_free_mdev_first_then_a_new_one_on_the_parent_with_room(inventory):
    want = {"gpus": [{"name": "vgpu", "device_name": "nvidia.com/GRID_T4-1Q"}]}
    first, problems = _resolve(want, inventory)
    assert problems == []
    assert first == [{"name": "vgpu", "type": "mdev", "uuid": "6b1f3f6e-8e5c-4b7a-9d55-000000000001", "create": None,
                      "display": True}]
    second, unused = _resolve(want, inventory, usage=_usage(first))
    assert second[0]["create"] == {"parent": fake.MDEV_PARENTS[0], "type": "nvidia-63"}, "0000:82 has none free"
    again, unused = _resolve(want, inventory, usage=_usage(first))
    assert again[0]["uuid"] == second[0]["uuid"], "a new mdev's UUID is derived, so check mode and the run agree"


def test_vgpu_creation_counts_what_this_task_already_planned(inventory):
    want = {"gpus": [{"name": "a", "device_name": "nvidia.com/GRID_T4-1Q"},
                     {"name": "b", "device_name": "nvidia.com/GRID_T4-1Q"},
                     {"name": "c", "device_name": "nvidia.com/GRID_T4-1Q"},
                     {"name": "d", "device_name": "nvidia.com/GRID_T4-1Q"}]}
    found, problems = _resolve(want, inventory)
    # one existing + two free instances on 0000:81:00.0, none on 0000:82:00.0
    assert [f["create"] is None for f in found] == [True, False, False]
    assert [f["display"] for f in found] == [True, False, False], "display and ramfb on the first vGPU only"
    assert problems and problems[0][0] == "gpus[3].device_name"
    assert "every instance is in use" in problems[0][1]


def test_vgpus_of_the_other_type_spread_over_parents(inventory):
    want = {"gpus": [{"name": "a", "device_name": "nvidia.com/GRID_T4-2Q"},
                     {"name": "b", "device_name": "nvidia.com/GRID_T4-2Q"}]}
    found, problems = _resolve(want, inventory)
    assert problems == []
    assert [f["create"]["parent"] for f in found] == list(fake.MDEV_PARENTS)
    assert found[0]["uuid"] != found[1]["uuid"]


def test_permitted_map_errors_name_the_field():
    with pytest.raises(SpecError) as err:
        parse_permitted({"pci_host_devices": [{"pci_vendor_selector": "10de", "resource_name": "a/b"}],
                         "mediated_devices": [{"resource_name": "x/y"}],
                         "usb": [{"resource_name": "u/v", "selectors": []}], "pci": []})
    fields = err.value.fields
    assert "permitted_host_devices.pci_host_devices[0].pci_vendor_selector" in fields
    assert "permitted_host_devices.mediated_devices[0].mdev_name_selector" in fields
    assert "permitted_host_devices.usb[0].selectors" in fields
    assert "permitted_host_devices.pci" in fields


def test_device_names_must_be_permitted():
    spec = parse_options({"name": "vm", "gpus": [{"name": "g", "device_name": "nvidia.com/GRID_T4_1Q"}]})
    problems = check_requested(spec, parse_permitted(PERMITTED))
    assert problems[0][0] == "gpus[0].device_name"
    assert "did you mean 'nvidia.com/GRID_T4-1Q'" in problems[0][1]


def test_host_device_options_errors():
    with pytest.raises(SpecError) as err:
        parse_options({"name": "vm", "host_devices": [
            {"name": "a", "pci_address": "01:00.0", "device_name": "x/y"},
            {"name": "B"},
            {"name": "c", "usb": {"vendor": "xyz"}},
            {"name": "d", "pci_address": "1:0.0"}],
            "gpus": [{"name": "a"}]})
    problems = dict(err.value.problems)
    assert "give exactly one of device_name, pci_address or usb (got device_name, pci_address)" in problems["host_devices[0]"]
    assert "host_devices[1].name" in problems
    assert "host_devices[2].usb.vendor" in problems and "host_devices[2].usb.product" in problems
    assert "host_devices[3].pci_address" in problems
    assert problems["gpus[0].device_name"] == "is required"
    assert "used twice" in problems["gpus"]


def _kubevirt_devices(manifest):
    devices = yaml.safe_load(manifest.read_text())["spec"]["domain"]["devices"]
    return {key: [{"name": d["name"], "device_name": d["deviceName"]} for d in devices.get(kv, [])]
            for key, kv in (("host_devices", "hostDevices"), ("gpus", "gpus"))}


@pytest.mark.parametrize("manifest,kind", [("vmi-usb.yaml", "usb"), ("vmi-gpu.yaml", "pci")])
def test_conformance_manifests_resolve_through_the_permitted_map(manifest, kind, inventory):
    options = _kubevirt_devices(CONFORMANCE / manifest)
    found, problems = _resolve(options, inventory)
    assert problems == [] and len(found) == 1 and found[0]["type"] == kind
    if kind == "usb":
        assert found[0]["name"] == "node-usb-to-vmi-storage" and (found[0]["bus"], found[0]["device"]) == (1, 2)
    else:
        assert found[0] == {"name": "gpu1", "type": "pci", "address": fake.CLEAN_GPU}, "the vfio-bound P40"


def test_vsock_cid_unique_and_stable():
    assert vsock.choose_cid(None, set()) == 3
    assert vsock.choose_cid(None, {3, 4, 6}) == 5
    assert vsock.choose_cid(7, {3, 4}) == 7, "a VM keeps its CID"
    assert vsock.choose_cid(4, {3, 4}) == 5, "unless another VM holds it"
    assert vsock.choose_cid(2, set()) == 3, "0-2 are reserved"
