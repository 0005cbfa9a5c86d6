"""What the libvirt_host role leaves on this machine (with or without systemd)."""

import json


def test_daemons_run(host):
    for daemon in ("virtlogd", "libvirtd"):
        assert host.process.filter(comm=daemon), daemon + " does not run"


def test_libvirt_answers_with_the_default_pool(host):
    info = host.check_output("virsh --connect qemu:///system pool-info default")
    assert "State:          running" in info
    assert "Autostart:      yes" in info


def test_kvm_device_usable_by_qemu(host):
    kvm = host.file("/dev/kvm")
    if not kvm.exists:
        return
    assert kvm.group == "kvm"
    assert kvm.mode == 0o660


def test_hugetlbfs_mounted(host):
    mount = host.mount_point("/dev/hugepages")
    assert mount.exists
    assert mount.filesystem == "hugetlbfs"


def test_module_venv_imports_what_the_modules_need(host):
    out = host.check_output(
        "/opt/kvcompute/venv/bin/python -c 'import json, bitmath, libvirt, lxml; "
        "print(json.dumps(sorted(m.__name__ for m in (bitmath, libvirt, lxml))))'"
    )
    assert json.loads(out) == ["bitmath", "libvirt", "lxml"]
