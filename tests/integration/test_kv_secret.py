"""Encrypted swtpm state through a libvirt vtpm secret, on the real libvirtd: kv_secret defines it
(value never returned), kv_vm points a persistent TPM at it, swtpm starts with it, kv_tpm backs the
encrypted files up and restores them; removing a secret in use is refused without force."""

import json
import subprocess
import time

import pytest

pytestmark = pytest.mark.integration

PASSPHRASE = "kv-test-passphrase-93f1"


def virsh(*args, check=True):
    return subprocess.run(["virsh", "-c", "qemu:///system"] + list(args), check=check, capture_output=True,
                          text=True).stdout.strip()


def secret_uuid(name):
    for line in virsh("secret-list").splitlines()[2:]:
        parts = line.split(None, 1)
        if len(parts) == 2 and parts[1].strip() == "vtpm %s" % name:
            return parts[0]
    return None


@pytest.fixture
def secret_name(vm_names):
    name = vm_names() + "-vtpm"
    yield name
    uuid = secret_uuid(name)
    if uuid:
        virsh("secret-undefine", uuid, check=False)


def wait_until(what, condition, timeout=60):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))
        time.sleep(0.2)


def test_secret_lifecycle_and_encrypted_tpm(run_module, vm_names, secret_name, host_snapshot):
    args = {"name": secret_name, "value": PASSPHRASE, "description": "kv test"}
    predicted = run_module("kv_secret", args, check=True)
    assert predicted["changed"] is True and predicted["uuid"] is None and secret_uuid(secret_name) is None
    created = run_module("kv_secret", args, diff=True)
    assert created["changed"] is True and created["value_set"] is True
    assert created["uuid"] == secret_uuid(secret_name)
    assert PASSPHRASE not in json.dumps(created)
    again = run_module("kv_secret", args)
    assert again["changed"] is False and again["value_set"] is False
    assert run_module("kv_secret", dict(args, update_value="always"))["changed"] is True

    name = vm_names()
    vm = {"name": name, "domain_type": "qemu", "firmware": {"type": "efi"}, "memory": {"guest": "128Mi"},
          "video": "none", "serial": {"type": "none"},
          "tpm": {"persistent": True, "encryption_secret": secret_name}}
    defined = run_module("kv_vm", dict(vm, state="present"))
    assert defined["changed"] is True, defined.get("msg")
    assert "<encryption secret='%s'/>" % created["uuid"] in virsh("dumpxml", name)
    assert run_module("kv_vm", dict(vm, state="present"))["changed"] is False
    # swtpm needs the key to create and read the state: a paused start proves libvirt handed it over.
    virsh("start", "--paused", name)
    uuid = virsh("domuuid", name)
    permall = "/var/lib/libvirt/swtpm/%s/tpm2/tpm2-00.permall" % uuid
    wait_until("encrypted swtpm state", lambda: subprocess.run(["test", "-s", permall]).returncode == 0, 30)
    virsh("destroy", name)

    backup_dir = vm_names.dir / "enc-backup"
    assert run_module("kv_tpm", {"name": name, "action": "backup", "dest": str(backup_dir)})["changed"] is True

    before = host_snapshot()
    refused = run_module("kv_secret", {"name": secret_name, "state": "absent"})
    assert refused.get("failed") and name in refused["msg"] and "force=true" in refused["msg"]
    assert secret_uuid(secret_name) == created["uuid"] and host_snapshot() == before

    run_module("kv_vm", dict(vm, state="absent", purge_state=True))
    run_module("kv_vm", dict(vm, state="present"))
    restored = run_module("kv_tpm", {"name": name, "action": "restore", "src": str(backup_dir)})
    assert restored["changed"] is True, restored.get("msg")
    virsh("start", "--paused", name)
    assert virsh("domstate", name) == "paused"
    virsh("destroy", name)
    run_module("kv_vm", dict(vm, state="absent", purge_state=True))

    gone = run_module("kv_secret", {"name": secret_name, "state": "absent"})
    assert gone["changed"] is True and gone["used_by"] == [] and secret_uuid(secret_name) is None


def test_unknown_secret_is_refused_before_any_change(run_module, vm_names, host_snapshot):
    name = vm_names()
    before = host_snapshot()
    result = run_module("kv_vm", {"name": name, "domain_type": "qemu", "video": "none",
                                  "tpm": {"persistent": True, "encryption_secret": name + "-nope"}})
    assert result.get("failed") and "tpm.encryption_secret" in result["msg"] and "kv_secret" in result["msg"]
    assert host_snapshot() == before


@pytest.mark.parametrize("args, words", [
    ({"value": PASSPHRASE, "name": "0c4b5c1e-7a35-4d5e-9d1a-2f1e0c7e5a11"}, "usage name, not a UUID"),
    ({}, "value: is required"),
    ({"value": PASSPHRASE, "update_value": "sometimes"}, "update_value must be one of"),
])
def test_secret_bad_input(run_module, secret_name, host_snapshot, args, words):
    before = host_snapshot()
    result = run_module("kv_secret", dict({"name": secret_name}, **args))
    assert result.get("failed") and words in result["msg"], result.get("msg")
    assert secret_uuid(secret_name) is None and host_snapshot() == before
