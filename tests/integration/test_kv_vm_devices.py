"""Disks of every kind, NICs of every kind, and secure boot on the real libvirtd."""

import subprocess

import pytest

pytestmark = pytest.mark.integration


def virsh(*args, check=True):
    return subprocess.run(["virsh", "-c", "qemu:///system"] + list(args), check=check, capture_output=True,
                          text=True)


@pytest.fixture
def pool(vm_names):
    """A dir pool of the test's own, removed afterwards."""
    name = "kvt-pool-%s" % vm_names().split("-")[1]
    path = vm_names.dir / "pool"
    path.mkdir()
    virsh("pool-define-as", name, "dir", "--target", str(path))
    virsh("pool-start", name)
    yield name
    virsh("pool-destroy", name, check=False)
    virsh("pool-undefine", name, check=False)


def test_every_disk_kind_and_nic_kind(run_module, vm_names, pool):
    name = vm_names()
    raw = vm_names.dir / "existing.raw"
    raw.write_bytes(b"\0" * 1024 * 1024)
    iso = vm_names.dir / "install.iso"
    iso.write_bytes(b"\0" * 64 * 1024)
    vm = {
        "name": name, "state": "present", "domain_type": "qemu", "memory": {"guest": "64Mi"},
        "disks": [
            {"name": "root", "pool": pool, "volume": "root.qcow2", "size": "16Mi", "boot_order": 1},
            {"name": "data", "path": str(raw), "bus": "scsi", "readonly": True},
            {"name": "legacy", "path": str(vm_names.dir / "legacy.qcow2"), "size": "8Mi", "bus": "sata"},
            {"name": "install", "device": "cdrom", "path": str(iso), "boot_order": 2},
            {"name": "empty", "device": "cdrom"},
        ],
        "interfaces": [
            {"name": "user"},
            {"name": "lan", "type": "network", "source": "default", "model": "e1000e"},
            {"name": "br", "type": "bridge", "source": "kvtbr0", "mac": "52:54:00:aa:bb:cc"},
        ],
    }
    first = run_module("kv_vm", vm)
    assert first["changed"] is True, first.get("msg")
    assert [c["field"] for c in first["changes"] if c["apply"] == "create"] == ["disks[legacy]", "disks[root]"]
    disks = {d["name"]: d for d in first["spec"]["disks"]}
    assert disks["data"]["format"] == "raw", "an existing raw image is detected as raw"
    assert disks["root"]["format"] == "qcow2" and disks["legacy"]["format"] == "qcow2"
    xml = virsh("dumpxml", "--inactive", name).stdout
    assert "<source pool='%s' volume='root.qcow2'/>" % pool in xml
    assert "<target dev='vda' bus='virtio'/>" in xml and "<target dev='sda' bus='scsi'/>" in xml
    assert "<target dev='sdb' bus='sata'/>" in xml and "model='virtio-scsi'" in xml
    assert virsh("vol-info", "--pool", pool, "root.qcow2").returncode == 0

    macs = {n["name"]: n["mac"] for n in first["spec"]["interfaces"]}
    assert macs["br"] == "52:54:00:aa:bb:cc"
    again = run_module("kv_vm", vm)
    assert again["changed"] is False, again["changes"]
    assert {n["name"]: n["mac"] for n in again["spec"]["interfaces"]} == macs

    # Reordering NICs and redefining keeps each NIC's MAC and each disk's target.
    vm["interfaces"] = list(reversed(vm["interfaces"]))
    vm["cpu"] = {"cores": 2}
    changed = run_module("kv_vm", vm)
    assert changed["changed"] is True
    assert {n["name"]: n["mac"] for n in changed["spec"]["interfaces"]} == macs
    assert "<target dev='vda' bus='virtio'/>" in virsh("dumpxml", "--inactive", name).stdout


def test_secure_boot_xml_and_the_hosts_refusal(run_module, vm_names):
    name = vm_names()
    vm = {"name": name, "domain_type": "qemu", "memory": {"guest": "64Mi"}, "video": "none",
          "firmware": {"type": "efi", "secure_boot": True}}
    defined = run_module("kv_vm", dict(vm, state="present"))
    assert defined["changed"] is True, defined
    xml = virsh("dumpxml", "--inactive", name).stdout
    assert "secure='yes'" in xml and "<smm state='on'/>" in xml
    assert "template='/usr/share/OVMF/OVMF_VARS_4M.ms.fd'" in xml, "enrolled keys are preferred"
    assert run_module("kv_vm", dict(vm, state="present"))["changed"] is False
    # This test machine has no SMM: starting must fail with libvirt's reason, the definition kept.
    started = run_module("kv_vm", dict(vm, state="running", wait_timeout=30))
    if started.get("failed"):
        assert "cannot start %s" % name in started["msg"]
        assert virsh("domstate", name).stdout.strip() == "shut off"
    else:  # a host with SMM runs it
        assert started["state"] == "running"
