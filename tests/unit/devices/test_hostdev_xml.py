"""Host device and VSOCK XML: as KubeVirt writes it, parsed back to the same options, kept on merge."""

import copy

from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain import hostdev
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.merge import merge
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.parse import parse_options as parse_domain
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.render import render_tree
from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import etree, parse, tostring
from ansible_collections.kvcompute.libvirt.plugins.module_utils.plan.hardware import resolve
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.export import to_options
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.options import parse_options

HOST = {"arch": "x86_64", "kvm_usable": False, "machines": {"qemu": ["q35", "pc-q35-7.2"]}, "max_vcpus": {"qemu": 288}}
OPTIONS = {
    "name": "gpuvm", "domain_type": "qemu",
    "host_devices": [{"name": "t4", "device_name": "nvidia.com/TU104GL_Tesla_T4"},
                     {"name": "nic", "pci_address": "0000:06:00.0"},
                     {"name": "stick", "usb": {"vendor": "0781", "product": "5567"}}],
    "gpus": [{"name": "vgpu1", "device_name": "nvidia.com/GRID_T4-1Q"},
             {"name": "vgpu2", "device_name": "nvidia.com/GRID_T4-1Q"}],
    "autoattach_vsock": True,
}
ASSIGNED = [
    {"name": "t4", "type": "pci", "address": "0000:03:00.0"},
    {"name": "nic", "type": "pci", "address": "0000:06:00.0"},
    {"name": "stick", "type": "usb", "vendor": "0781", "product": "5567", "bus": 1, "device": 3},
    {"name": "vgpu1", "type": "mdev", "uuid": "6b1f3f6e-8e5c-4b7a-9d55-000000000001", "display": True},
    {"name": "vgpu2", "type": "mdev", "uuid": "6b1f3f6e-8e5c-4b7a-9d55-000000000002", "display": False},
]


def _render(options=None, assigned=None, cid=7):
    spec, plan = resolve(parse_options(OPTIONS if options is None else options), HOST, {})
    plan.hostdevs, plan.vsock_cid = copy.deepcopy(ASSIGNED if assigned is None else assigned), cid
    return spec, render_tree(spec, plan)


def test_every_kind_renders_as_kubevirt_does():
    _spec, root = _render()
    xml = tostring(root)
    assert ("<hostdev mode=\"subsystem\" type=\"pci\" managed=\"yes\"><source>"
            "<address domain=\"0x0000\" bus=\"0x03\" slot=\"0x00\" function=\"0x0\"/></source>"
            "<alias name=\"ua-t4\"/></hostdev>") in xml.replace("\n", "").replace("  ", "")
    usb = root.find("devices/hostdev[@type='usb']")
    assert usb.find("source/vendor").get("id") == "0x0781" and usb.find("source/product").get("id") == "0x5567"
    assert usb.find("source/address").attrib == {"bus": "1", "device": "3"}
    first, second = root.findall("devices/hostdev[@type='mdev']")
    assert dict(first.attrib) == {"mode": "subsystem", "type": "mdev", "model": "vfio-pci", "display": "on",
                                  "ramfb": "on"}
    assert "display" not in second.attrib and "ramfb" not in second.attrib
    assert first.find("source/address").get("uuid") == ASSIGNED[3]["uuid"]
    vsock = root.find("devices/vsock")
    assert vsock.get("model") == "virtio" and vsock.find("cid").attrib == {"auto": "no", "address": "7"}


def test_parse_back_gives_the_declared_options():
    spec, root = _render()
    assert parse_options(parse_domain(tostring(root))) == spec
    assert to_options(spec)["host_devices"][2] == {"name": "stick", "usb": {"vendor": "0781", "product": "5567"}}


def test_own_assignments_and_usage_are_read_from_the_xml():
    _spec, root = _render()
    held, cid = hostdev.own(root)
    assert cid == 7
    assert held["t4"] == {"type": "pci", "address": "0000:03:00.0"}
    assert held["stick"] == {"type": "usb", "vendor": "0781", "product": "5567", "bus": 1, "device": 3}
    used = hostdev.usage({"gpuvm": root})
    assert used["pci"] == {"0000:03:00.0": "gpuvm", "0000:06:00.0": "gpuvm"}
    assert used["usb"] == {(1, 3): "gpuvm"} and used["cid"] == {7: "gpuvm"}
    assert sorted(used["mdev"]) == [ASSIGNED[3]["uuid"], ASSIGNED[4]["uuid"]]


def test_a_hostdev_removed_from_the_xml_shows_as_a_difference():
    _spec, root = _render()
    devices = root.find("devices")
    devices.remove(devices.find("hostdev[@type='usb']"))
    names = [d["name"] for d in parse_domain(tostring(root))["host_devices"]]
    assert names == ["t4", "nic"]


def test_hostdevs_of_a_domain_we_did_not_write_parse_by_address():
    root = etree.Element("domain")
    devs = etree.SubElement(root, "devices")
    hostdev.render_hostdev(devs, {"name": "x", "type": "pci", "address": "0000:0a:1f.2"})
    hostdev.render_hostdev(devs, {"name": "y", "type": "usb", "vendor": "046d", "product": "c31c", "bus": None})
    out = {}
    hostdev.parse(parse(tostring(root)), out)
    assert out["host_devices"] == [{"name": "x", "pci_address": "0000:0a:1f.2"},
                                   {"name": "y", "usb": {"vendor": "046d", "product": "c31c"}}]


def test_no_display_without_a_video_device():
    options = dict(OPTIONS, video="none")
    assigned = [dict(a, display=False) if a["type"] == "mdev" else a for a in ASSIGNED]
    _spec, root = _render(options, assigned)
    assert all("display" not in el.attrib for el in root.findall("devices/hostdev"))


def test_merge_replaces_our_hostdevs_and_keeps_hand_added_ones():
    _spec, old = _render()
    hand = etree.SubElement(old.find("devices"), "hostdev", mode="subsystem", type="pci", managed="yes")
    etree.SubElement(etree.SubElement(hand, "source"), "address", domain="0x0000", bus="0x09", slot="0x00",
                     function="0x0")
    etree.SubElement(old.find("devices/hostdev[@type='pci']"), "address", type="pci", domain="0x0000", bus="0x07",
                     slot="0x00", function="0x0")
    _spec, new = _render(dict(OPTIONS, autoattach_vsock=False), ASSIGNED[:1], cid=None)
    merged = merge(new, old)
    pcis = merged.findall("devices/hostdev[@type='pci']")
    assert len(pcis) == 2, "ours (t4) once, the hand-added one kept"
    assert pcis[0].find("address").get("bus") == "0x07", "our hostdev keeps its guest PCI address"
    assert merged.find("devices/hostdev[@type='usb']") is None, "dropped from the spec, dropped from the domain"
    assert merged.find("devices/vsock") is None
