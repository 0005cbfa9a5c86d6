"""CPU hotplug: "kv_vm task -> the guest sees the new CPU" against `virsh setvcpus` on the same VM.

Both paths run in this one run on one guest, alternating, and the ratio of
their mean times is printed (no threshold: see docs/benchmarks.md).

    .venv/bin/python bench/hotplug.py [--rounds 3]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / ".cache" / "collections"))

from tests.support.ansible_task import run_task  # noqa: E402  pylint: disable=wrong-import-position
from tests.support.guest import GuestConsole, build_guest  # noqa: E402  pylint: disable=wrong-import-position

VM_DIR = Path("/var/lib/libvirt/images")


def kv_vm(args, workdir):
    """One kv_vm task through ansible-playbook, as a user runs it."""
    run_task("kvcompute.libvirt.kv_vm", args, workdir)


def timed(action, console, cpus):
    mark = console.mark()
    start = time.monotonic()
    action()
    console.wait_for(cpus=cpus, timeout=120, since=mark)
    return time.monotonic() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    guest = build_guest()
    name = "kvbench-%s" % uuid.uuid4().hex[:6]
    work = Path(tempfile.mkdtemp(prefix="kvbench-", dir=str(VM_DIR)))
    os.chmod(work, 0o755)
    console = GuestConsole(work / "console.log")
    max_sockets = 1 + 2 * args.rounds
    vm = {"name": name, "state": "running", "domain_type": "qemu", "video": "none", "shutdown_timeout": 0,
          "cpu": {"sockets": 1, "max_sockets": max_sockets}, "memory": {"guest": "256Mi"},
          "kernel_boot": guest.kernel_boot(), "serial": {"type": "file", "path": str(console.path)}}
    kv, virsh = [], []
    try:
        kv_vm(vm, work)
        console.wait_for(cpus=1, timeout=180)
        sockets = 1
        for _round in range(args.rounds):
            sockets += 1
            vm["cpu"] = {"sockets": sockets, "max_sockets": max_sockets}
            kv.append(timed(lambda: kv_vm(vm, work), console, sockets))
            sockets += 1
            vm["cpu"] = {"sockets": sockets, "max_sockets": max_sockets}
            virsh.append(timed(lambda: subprocess.run(
                ["virsh", "-q", "-c", "qemu:///system", "setvcpus", name, str(sockets), "--live", "--config"],
                check=True, stdout=subprocess.DEVNULL), console, sockets))
    finally:
        kv_vm({"name": name, "state": "absent", "shutdown_timeout": 0}, work)
        subprocess.run(["rm", "-rf", str(work)], check=False)
    ratio = statistics.mean(kv) / statistics.mean(virsh)
    print("hotplug: kv_vm task -> guest sees the CPU %.2fs (mean of %d), virsh setvcpus -> guest %.2fs; ratio %.2f"
          % (statistics.mean(kv), len(kv), statistics.mean(virsh), ratio))


if __name__ == "__main__":
    main()
