"""What the libvirt_host role leaves on a real booted Debian 12 guest."""

import json

MODULE_PYTHON = "/opt/kvcompute/venv/bin/python"


def test_libvirtd_answers_and_starts_at_boot(host):
    """Debian 12 socket-activates libvirtd, which exits after two idle minutes: the socket is what runs."""
    for unit in ("virtlogd.socket", "libvirtd.socket"):
        assert host.service(unit).is_running, unit
        assert host.service(unit).is_enabled, unit
    with host.sudo():
        assert host.check_output("virsh --connect qemu:///system uri") == "qemu:///system"


def test_libvirt_answers_with_the_default_pool(host):
    with host.sudo():
        info = host.check_output("virsh --connect qemu:///system pool-info default")
    assert "State:          running" in info
    assert "Autostart:      yes" in info


def test_hugetlbfs_mounted_and_persisted(host):
    mount = host.mount_point("/dev/hugepages")
    assert mount.exists
    assert mount.filesystem == "hugetlbfs"
    assert host.file("/etc/fstab").contains(r"^hugetlbfs\s+/dev/hugepages\s+hugetlbfs")


def test_kvm_udev_rule(host):
    rule = host.file("/etc/udev/rules.d/65-kvm.rules")
    assert rule.exists
    assert rule.contains('GROUP="kvm", MODE="0660"')


def test_module_venv_imports_what_the_modules_need(host):
    out = host.check_output(
        MODULE_PYTHON + " -c 'import json, bitmath, libvirt, lxml; "
        "print(json.dumps({m.__name__: m.__file__ for m in (bitmath, libvirt, lxml)}))'"
    )
    where = json.loads(out)
    assert where["bitmath"].startswith("/opt/kvcompute/venv/")
    assert where["libvirt"].startswith("/usr/lib/python3/dist-packages/")


def test_crash_dump_dir_is_private(host):
    with host.sudo():
        dump = host.file("/var/lib/libvirt/qemu/dump")
        assert dump.is_directory
        assert dump.mode == 0o700
        assert host.file("/etc/libvirt/qemu.conf").contains(
            '^auto_dump_path = "/var/lib/libvirt/qemu/dump"'
        )
