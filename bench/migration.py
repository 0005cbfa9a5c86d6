"""Live migration: kv_migrate (through ansible-playbook) against `virsh migrate --live --p2p` on one guest.

Both run in this one run on the same counting test guest, on the two-host loopback bed
(scripts/second_libvirtd.sh), alternating, there and back each round. Printed: the ratios
kv_migrate / virsh of the mean wall time (command start to end), of libvirt's own migration
time, and of the downtime. No thresholds (see docs/benchmarks.md).

    .venv/bin/python bench/migration.py [--rounds 2]
"""

import argparse
import shutil
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

# pylint: disable=wrong-import-position
import libvirt  # noqa: E402

from tests.support.ansible_task import run_task  # noqa: E402
from tests.support.guest import GuestConsole, build_guest  # noqa: E402
from tests.support.two_hosts import NODE1_MIGRATE_URI, SecondHost, guest_xml, remove_domains  # noqa: E402

NODE1 = "qemu:///system"


def kv_migrate(args, workdir):
    """One kv_migrate task through ansible-playbook, as a user runs it; its result."""
    return run_task("kvcompute.libvirt.kv_migrate", args, workdir)


def virsh_migrate(src_uri, name, dest_uri, migrate_uri):
    subprocess.run(["virsh", "-c", src_uri, "migrate", "--live", "--p2p", "--persistent", "--undefinesource",
                    name, dest_uri, migrate_uri], check=True, stdout=subprocess.DEVNULL)


def completed(uri, name):
    conn = libvirt.open(uri)
    try:
        return dict(conn.lookupByName(name).jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED))
    finally:
        conn.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    second = SecondHost.ensure()
    guest = build_guest()
    work = second.shared_dir("bench")
    for src in (guest.kernel, guest.initrd):
        shutil.copyfile(src, work / src.name)
    name = "kvbench-%s" % uuid.uuid4().hex[:6]
    console = GuestConsole(work / "console.log")
    conn = libvirt.open(NODE1)
    tmp = tempfile.mkdtemp(prefix="kvbench-")
    legs = {  # (source, destination as the controller sees it, as the source sees it, QEMU stream)
        "there": (NODE1, second.uri, second.uri, second.migrate_uri),
        "back": (second.uri, NODE1, second.node1_peer_uri, NODE1_MIGRATE_URI),
    }
    samples = {"kv_migrate": [], "virsh": []}
    try:
        conn.defineXML(guest_xml(name, work / "vmlinuz", work / "initrd.img", console.path,
                                 guest.cmdline(counter=1))).create()
        console.wait_for(r"KVGUEST tick=", timeout=300)
        for _round in range(args.rounds):
            for tool in ("kv_migrate", "virsh"):
                for leg in ("there", "back"):
                    src, dest, peer, stream = legs[leg]
                    start = time.monotonic()
                    if tool == "kv_migrate":
                        out = kv_migrate({"uri": src, "name": name, "dest_uri": dest, "dest_peer_uri": peer,
                                          "migrate_uri": stream, "shared_paths": [str(second.shared)]}, tmp)
                        stats = {"time_elapsed": out["total_time_ms"], "downtime": out["downtime_ms"]}
                    else:
                        virsh_migrate(src, name, peer, stream)
                        stats = completed(dest, name)
                    samples[tool].append({"wall": time.monotonic() - start, "total": stats["time_elapsed"] / 1000.0,
                                          "downtime": stats["downtime"] / 1000.0})
    finally:
        conn.close()
        remove_domains(NODE1, [name])
        remove_domains(second.uri, [name])
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
    print("migrations per tool: %d (%d rounds there and back)" % (len(samples["virsh"]), args.rounds))
    for key, label in (("wall", "wall time (command)"), ("total", "migration time (libvirt)"),
                       ("downtime", "downtime")):
        kv = statistics.mean(s[key] for s in samples["kv_migrate"])
        vs = statistics.mean(s[key] for s in samples["virsh"])
        print("%-26s kv_migrate %8.3f s  virsh %8.3f s  ratio %.2f" % (label, kv, vs, kv / vs if vs else float("nan")))


if __name__ == "__main__":
    main()
