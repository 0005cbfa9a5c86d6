"""The tiny Linux test guest (scripts/guest/) booted through kv_vm under TCG: console protocol, self-poweroff."""

import time
import uuid

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.libvirt, pytest.mark.tcg, pytest.mark.guest]

READY = r"KVGUEST READY"


def guest_vm(name, linux_guest, console, kernel_boot=None, **extra):
    vm = {
        "name": name,
        "state": "running",
        "domain_type": "qemu",
        "cpu": {"model": "maximum"},
        "memory": {"guest": "256Mi"},
        "kernel_boot": kernel_boot or linux_guest.kernel_boot(),
        "serial": {"type": "file", "path": str(console.path)},
        "video": "none",
    }
    vm.update(extra)
    return vm


def wait_domain_state(conn, name, wanted, timeout):
    """Poll libvirt until the domain's state is ``wanted`` (a VIR_DOMAIN_* int); return seconds waited."""
    start = time.monotonic()
    while True:
        state, reason = conn.lookupByName(name).state()
        if state == wanted:
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise AssertionError("%s: state %s (reason %s), not %s after %ss" % (name, state, reason, wanted, timeout))
        time.sleep(0.2)


def test_guest_build_is_cached(linux_guest):
    stamp = linux_guest.stamp
    assert stamp["kernel_package"].startswith("linux-image-") and stamp["kernel_version"]
    assert stamp["modules"].split()[:6] == ["virtio_ring", "virtio", "virtio_pci_modern_dev", "virtio_pci_legacy_dev",
                                            "virtio_pci", "virtio_mem"]
    assert linux_guest.initrd.stat().st_size < 4 * 1024 * 1024
    assert linux_guest.cmdline(marker="m1", poweroff_after=3) == (
        "console=ttyS0 memhp_default_state=online kv.marker=m1 kv.poweroff_after=3")


def test_guest_boots_and_reports_state(run_module, vm_names, linux_guest, guest_console, record_property):
    name = vm_names()
    console = guest_console()
    marker = "kvt-marker-%s" % uuid.uuid4().hex[:12]
    vm = guest_vm(name, linux_guest, console, kernel_boot=linux_guest.kernel_boot(marker=marker),
                  cpu={"model": "maximum", "sockets": 2})

    start = time.monotonic()
    result = run_module("kv_vm", vm)
    assert result.get("failed") is not True, result
    assert result["state"] == "running"
    started = time.monotonic()

    console.wait_for(READY, timeout=120)
    ready = time.monotonic()
    state = console.wait_for(cpus=2, marker=marker, timeout=60)
    record_property("guest_boot_to_ready_s", round(ready - started, 1))
    record_property("guest_module_run_s", round(started - start, 1))
    print("guest: kv_vm %.1fs, start->READY %.1fs" % (started - start, ready - started))

    # 256 MiB minus what the kernel keeps: ~205 MiB, or ~140 MiB when a memory-hotplug range
    # above 4 GiB makes it reserve a 64 MiB SWIOTLB (docs/test-guest.md).
    assert 100 * 1024 < state["memtotal_kb"] <= 256 * 1024, state
    assert console.text().count("KVGUEST READY") == 1


def test_guest_without_marker_reports_none(run_module, vm_names, linux_guest, guest_console):
    name = vm_names()
    console = guest_console()
    result = run_module("kv_vm", guest_vm(name, linux_guest, console))
    assert result.get("failed") is not True, result
    state = console.wait_for(timeout=120)
    assert state == {"cpus": 1, "memtotal_kb": state["memtotal_kb"], "marker": "none"}
    # Only changes are printed: nothing changes here, so one state line so far.
    assert len(console.states()) == 1


def test_guest_powers_itself_off(run_module, vm_names, linux_guest, guest_console, libvirt_conn):
    import libvirt

    name = vm_names()
    console = guest_console()
    vm = guest_vm(name, linux_guest, console, kernel_boot=linux_guest.kernel_boot(poweroff_after=3))
    result = run_module("kv_vm", vm)
    assert result.get("failed") is not True, result
    console.wait_for(READY, timeout=120)
    wait_domain_state(libvirt_conn, name, libvirt.VIR_DOMAIN_SHUTOFF, timeout=60)
    state, reason = libvirt_conn.lookupByName(name).state()
    assert reason == libvirt.VIR_DOMAIN_SHUTOFF_SHUTDOWN, (state, reason)  # the guest's own shutdown, not destroy
    assert "KVGUEST POWEROFF after=3" in console.text()


def test_guest_acpi_power_button_stops_it_gracefully(run_module, vm_names, linux_guest, guest_console):
    name = vm_names()
    console = guest_console()
    vm = guest_vm(name, linux_guest, console)
    assert run_module("kv_vm", vm).get("failed") is not True
    console.wait_for(timeout=120)

    stopped = run_module("kv_vm", dict(vm, state="stopped", shutdown_timeout=60))
    assert stopped["changed"] is True and stopped["state"] == "shutoff", stopped
    assert "shut down" in stopped["done"] and not any("forced" in a for a in stopped["done"]), stopped["done"]
    assert "KVGUEST POWEROFF acpi" in console.text()
