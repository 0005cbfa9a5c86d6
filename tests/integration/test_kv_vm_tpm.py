"""Persistent TPM + UEFI NVRAM against the real libvirtd: kept across stop/start, redefine and libvirtd
restart; kept or purged by state absent; backed up, restored and verified by kv_tpm.

The guest is UEFI with no disk (OVMF idles in its shell) under TCG (TESTBED: UEFI needs TCG here).
A booting guest legitimately writes both files (OVMF's monotonic counter, the TPM's reset count),
so checksums are compared with the VM shut off, and a start that must hand the guest exactly the kept
state is a paused start (the guest never runs a single instruction) followed by a forced stop.
"""

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.libvirtd import wait_until

pytestmark = pytest.mark.integration

SWTPM_ROOT = Path("/var/lib/libvirt/swtpm")
NVRAM_ROOT = Path("/var/lib/libvirt/qemu/nvram")


def virsh(*args, check=True):
    return subprocess.run(["virsh", "-c", "qemu:///system"] + list(args), check=check, capture_output=True,
                          text=True).stdout.strip()


def uefi_tpm_vm(name, **extra):
    vm = {"name": name, "domain_type": "qemu", "firmware": {"type": "efi"}, "memory": {"guest": "128Mi"},
          "video": "none", "serial": {"type": "none"}, "tpm": {"persistent": True}}
    vm.update(extra)
    return vm


def state_paths(name, uuid):
    return NVRAM_ROOT / ("%s_VARS.fd" % name), SWTPM_ROOT / uuid


def sums(name, uuid):
    """sha256 of the NVRAM file and every file of the swtpm state dir (the .lock excluded)."""
    nvram, swtpm = state_paths(name, uuid)
    out = {}
    if nvram.is_file():
        out["nvram"] = hashlib.sha256(nvram.read_bytes()).hexdigest()
    for path in sorted(swtpm.rglob("*")) if swtpm.is_dir() else []:
        if path.is_file() and path.name != ".lock":
            out[str(path.relative_to(swtpm))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def paused_start_and_stop(name):
    """Start without running the guest, then force it off: libvirt hands it the kept state, unchanged."""
    virsh("start", "--paused", name)
    wait_until("%s paused" % name, lambda: virsh("domstate", name) == "paused", 30)
    assert virsh("dumpxml", name).count("persistent_state='yes'") == 1
    virsh("destroy", name)
    wait_until("%s shut off" % name, lambda: virsh("domstate", name) == "shut off", 30)


@pytest.fixture
def orphan_state():
    """Paths of state files a test leaves behind on purpose (absent without purge); removed at teardown."""
    paths = []
    yield paths
    for path in paths:
        if path.is_dir():
            shutil.rmtree(str(path), ignore_errors=True)
        elif path.exists():
            path.unlink()


def test_state_survives_stop_start_redefine_and_libvirtd_restart(run_module, vm_names, restart_libvirtd):
    name = vm_names()
    vm = uefi_tpm_vm(name)
    first = run_module("kv_vm", dict(vm, state="running"))
    assert first["changed"] is True and first["state"] == "running", first.get("msg")
    uuid = virsh("domuuid", name)
    xml = virsh("dumpxml", "--inactive", name)
    assert "<tpm model='tpm-crb'>" in xml and "persistent_state='yes'" in xml
    nvram, swtpm = state_paths(name, uuid)
    wait_until("swtpm state", (swtpm / "tpm2" / "tpm2-00.permall").is_file, 30)
    assert nvram.is_file()
    assert run_module("kv_vm", dict(vm, state="running"))["changed"] is False  # round trip: nothing to do

    stopped = run_module("kv_vm", dict(vm, state="stopped", shutdown_timeout=0))
    assert stopped["changed"] is True
    kept = sums(name, uuid)
    assert set(kept) == {"nvram", "tpm2/tpm2-00.permall"}, kept

    paused_start_and_stop(name)
    assert sums(name, uuid) == kept, "a stop/start changed or reset the state"

    changed = run_module("kv_vm", dict(vm, state="stopped", memory={"guest": "160Mi"}))
    assert changed["changed"] is True and [c["field"] for c in changed["changes"]] == ["memory.guest"]
    assert virsh("domuuid", name) == uuid
    assert sums(name, uuid) == kept, "a redefine changed the state"
    paused_start_and_stop(name)
    assert sums(name, uuid) == kept

    restart_libvirtd()
    assert virsh("domstate", name) == "shut off"
    assert sums(name, uuid) == kept, "a libvirtd restart changed the state"
    paused_start_and_stop(name)
    assert sums(name, uuid) == kept

    # A running VM across a libvirtd restart: libvirtd reconnects to QEMU and swtpm, the state stays.
    assert run_module("kv_vm", dict(vm, memory={"guest": "160Mi"}, state="running"))["state"] == "running"
    restart_libvirtd()
    assert virsh("domstate", name) == "running"
    assert run_module("kv_vm", dict(vm, memory={"guest": "160Mi"}, state="stopped",
                                    shutdown_timeout=0))["changed"] is True
    assert set(sums(name, uuid)) == set(kept)


def test_backup_purge_redefine_restore(run_module, vm_names):
    name = vm_names()
    vm = uefi_tpm_vm(name)
    backup_dir = vm_names.dir / "tpm-backup"
    assert run_module("kv_vm", dict(vm, state="running"))["state"] == "running"
    uuid = virsh("domuuid", name)
    nvram, swtpm = state_paths(name, uuid)
    wait_until("swtpm state", (swtpm / "tpm2" / "tpm2-00.permall").is_file, 30)

    refused = run_module("kv_tpm", {"name": name, "action": "backup", "dest": str(backup_dir)})
    assert refused.get("failed") and "stop it before a backup" in refused["msg"]
    assert not backup_dir.exists()

    run_module("kv_vm", dict(vm, state="stopped", shutdown_timeout=0))
    kept = sums(name, uuid)

    predicted = run_module("kv_tpm", {"name": name, "action": "backup", "dest": str(backup_dir)}, check=True)
    assert predicted["changed"] is True and not backup_dir.exists()
    backup = run_module("kv_tpm", {"name": name, "action": "backup", "dest": str(backup_dir)})
    assert backup["changed"] is True, backup.get("msg")
    assert backup["files"] == ["nvram", "swtpm/tpm2/tpm2-00.permall"]
    for f in ("tpm-state.tar", "manifest.json"):
        assert (backup_dir / f).stat().st_mode & 0o777 == 0o600
    again = run_module("kv_tpm", {"name": name, "action": "backup", "dest": str(backup_dir)})
    assert again["changed"] is False
    verified = run_module("kv_tpm", {"name": name, "action": "verify", "src": str(backup_dir)})
    assert verified["match"] is True and not verified.get("failed")

    # Absent with purge_state: check mode says what it would remove and removes nothing.
    absent = dict(vm, state="absent", purge_state=True)
    check = run_module("kv_vm", absent, check=True)
    assert check["state_files"] == {"kept": [], "removed": [str(nvram), str(swtpm)]}
    assert nvram.exists() and swtpm.exists()
    gone = run_module("kv_vm", absent)
    assert gone["changed"] is True and gone["state_files"] == check["state_files"]
    assert not nvram.exists() and not swtpm.exists()
    assert virsh("domstate", name, check=False) == ""

    # Define the same name again (a new UUID, fresh state), restore, start: the state files are the backup's.
    assert run_module("kv_vm", dict(vm, state="present"))["changed"] is True
    new_uuid = virsh("domuuid", name)
    nvram, swtpm = state_paths(name, new_uuid)
    mismatch = run_module("kv_tpm", {"name": name, "action": "verify", "src": str(backup_dir)})
    assert mismatch.get("failed") and mismatch["match"] is False and "does not match" in mismatch["msg"]
    predicted = run_module("kv_tpm", {"name": name, "action": "restore", "src": str(backup_dir)}, check=True)
    assert predicted["changed"] is True and not swtpm.exists()
    restored = run_module("kv_tpm", {"name": name, "action": "restore", "src": str(backup_dir)})
    assert restored["changed"] is True, restored.get("msg")
    assert sums(name, new_uuid) == kept
    assert run_module("kv_tpm", {"name": name, "action": "restore", "src": str(backup_dir)})["changed"] is False

    paused_start_and_stop(name)
    assert sums(name, new_uuid) == kept, "libvirt did not hand the restored state to the VM"
    assert run_module("kv_tpm", {"name": name, "action": "verify", "src": str(backup_dir)})["match"] is True
    booted = run_module("kv_vm", dict(vm, state="running"))
    assert booted["state"] == "running" and virsh("domstate", name) == "running"

    # Restore into a running VM: refused, nothing changed (paused, so the guest itself writes nothing).
    run_module("kv_vm", dict(vm, state="stopped", shutdown_timeout=0))
    before = sums(name, new_uuid)
    virsh("start", "--paused", name)
    refused = run_module("kv_tpm", {"name": name, "action": "restore", "src": str(backup_dir)})
    assert refused.get("failed") and "restore only into a stopped VM" in refused["msg"]
    assert refused.get("changed") is not True
    virsh("destroy", name)
    assert sums(name, new_uuid) == before


def test_absent_without_purge_keeps_state(run_module, vm_names, orphan_state):
    name = vm_names()
    vm = uefi_tpm_vm(name)
    run_module("kv_vm", dict(vm, state="running"))
    uuid = virsh("domuuid", name)
    nvram, swtpm = state_paths(name, uuid)
    orphan_state.extend([nvram, swtpm])
    wait_until("swtpm state", (swtpm / "tpm2" / "tpm2-00.permall").is_file, 30)
    run_module("kv_vm", dict(vm, state="stopped", shutdown_timeout=0))
    kept = sums(name, uuid)
    gone = run_module("kv_vm", {"name": name, "state": "absent"})
    assert gone["changed"] is True
    assert gone["state_files"] == {"kept": [str(nvram), str(swtpm)], "removed": []}
    assert virsh("domstate", name, check=False) == ""
    assert sums(name, uuid) == kept


@pytest.mark.parametrize("args, words", [
    ({"action": "restore", "src": "/nonexistent/kv-tpm-backup"}, "does not exist"),
    ({"action": "rollback", "src": "/tmp"}, "value of action must be one of"),
    ({"action": "backup"}, "is required for action backup"),
    ({"action": "backup", "dest": "/tmp/x", "pool": "p", "volume": "v"}, "mutually exclusive"),
])
def test_bad_inputs(run_module, vm_names, host_snapshot, args, words):
    name = vm_names()
    run_module("kv_vm", dict(uefi_tpm_vm(name), state="present"))
    before = host_snapshot(only=lambda n: n == name)
    result = run_module("kv_tpm", dict(args, name=name))
    assert result.get("failed") and words in result["msg"], result.get("msg")
    assert result.get("changed") is not True
    assert host_snapshot(only=lambda n: n == name) == before
