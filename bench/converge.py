"""Converge: the same shut-off VMs declared four ways, first run and no-op re-run, in one run.

  (a) kv_vm, every VM in one task (`vms:`)
  (b) kv_vm, one task per VM
  (c) community.libvirt.virt `command: define` with an XML template, one looped task
      (community.libvirt from PyPI's `ansible` package, bench/requirements.txt)
  (d) a plain libvirt-python script that defines the same XML

Then growth: (a) at --count and at --grow VMs, the marginal cost per extra VM.
Ratios only, no thresholds (docs/benchmarks.md).

    .venv/bin/python bench/converge.py [--count 50] [--grow 200]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = REPO / ".venv" / "bin"
CACHE = REPO / ".cache" / "bench"
OURS = REPO / ".cache" / "collections"
URI = "qemu:///system"

TEMPLATE = """<domain type='qemu'>
  <name>{{ item }}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices><serial type='pty'/></devices>
</domain>
"""

# A hand-written script's idea of idempotence: define what is not defined yet.
DEFINE_SCRIPT = """
import sys, libvirt
libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
conn = libvirt.open(sys.argv[1])
xml = open(sys.argv[2]).read()
have = set(d.name() for d in conn.listAllDomains(0))
for name in sys.argv[3:]:
    if name not in have:
        conn.defineXML(xml.replace('{{ item }}', name))
"""


def pinned_ansible():
    for line in (REPO / "bench" / "requirements.txt").read_text().splitlines():
        if line.startswith("ansible=="):
            return line.strip()
    raise SystemExit("bench/requirements.txt pins no ansible==")


def community_libvirt():
    """community.libvirt out of the pinned `ansible` wheel (only that collection is unpacked)."""
    pin = pinned_ansible()
    target = CACHE / "collections"
    stamp = target / ("." + pin)
    if stamp.exists():
        return target
    dl = CACHE / "download"
    dl.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(VENV_BIN / "pip"), "download", "-q", "--no-deps", "-d", str(dl), pin], check=True)
    wheel = next(dl.glob("ansible-%s-*.whl" % pin.split("==")[1]))
    prefix = "ansible_collections/community/libvirt/"
    with zipfile.ZipFile(str(wheel)) as whl:
        for member in whl.namelist():
            if member.startswith(prefix) and not member.endswith("/"):
                whl.extract(member, str(target))
    stamp.touch()
    return target


def playbook(tasks, workdir, extra_paths=()):
    path = Path(workdir) / ("play-%s.json" % uuid.uuid4().hex[:6])
    path.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}]))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=":".join([str(OURS)] + [str(p) for p in extra_paths]),
               ANSIBLE_PYTHON_INTERPRETER=str(VENV_BIN / "python"))
    start = time.monotonic()
    proc = subprocess.run([str(VENV_BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(path)],
                          env=env, capture_output=True, text=True, check=False)
    took = time.monotonic() - start
    if proc.returncode:
        raise SystemExit("playbook failed:\n%s" % proc.stdout[-3000:])
    return took


def kv_args(name):
    return {"name": name, "state": "present", "domain_type": "qemu", "memory": {"guest": "64Mi"},
            "video": "none"}


def way_a(names, work, _):
    return playbook([{"name": "all", "kvcompute.libvirt.kv_vm": {"vms": [kv_args(n) for n in names]}}], work)


def way_b(names, work, _):
    return playbook([{"name": n, "kvcompute.libvirt.kv_vm": kv_args(n)} for n in names], work)


def way_c(names, work, collections):
    template = Path(work) / "vm.xml.j2"
    template.write_text(TEMPLATE)
    task = {"name": "define", "community.libvirt.virt": {
        "command": "define", "uri": URI, "xml": "{{ lookup('ansible.builtin.template', '%s') }}" % template},
        "loop": names}
    return playbook([task], work, extra_paths=[collections])


def way_d(names, work, _):
    template = Path(work) / "vm.xml.j2"
    template.write_text(TEMPLATE)
    script = Path(work) / "define.py"
    script.write_text(DEFINE_SCRIPT)
    start = time.monotonic()
    subprocess.run([str(VENV_BIN / "python"), str(script), URI, str(template)] + names, check=True)
    return time.monotonic() - start


def undefine(names):
    import libvirt  # pylint: disable=import-outside-toplevel
    conn = libvirt.open(URI)
    try:
        for name in names:
            try:
                conn.lookupByName(name).undefineFlags(0)
            except libvirt.libvirtError:
                pass
    finally:
        conn.close()


def first_and_noop(way, names, work, collections):
    try:
        return way(names, work, collections), way(names, work, collections)
    finally:
        undefine(names)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--grow", type=int, default=200)
    args = parser.parse_args()
    sys.path.insert(0, str(OURS))
    collections = community_libvirt()
    run = uuid.uuid4().hex[:6]
    names = ["kvbench-%s-%03d" % (run, i) for i in range(args.count)]
    ways = [("a", "kv_vm, one task", way_a), ("b", "kv_vm, task per VM", way_b),
            ("c", "community.libvirt.virt define", way_c), ("d", "libvirt-python script", way_d)]
    times = {}
    with tempfile.TemporaryDirectory(prefix="kvbench-") as work:
        for key, label, way in ways:
            times[key] = first_and_noop(way, names, work, collections)
            print("(%s) %-32s %3d VMs: first %6.2f s, no-op re-run %6.2f s" % ((key, label, args.count) + times[key]))
        big = ["kvbench-%s-g%03d" % (run, i) for i in range(args.grow)]
        grown = first_and_noop(way_a, big, work, None)
        fixed = min(playbook([{"name": "nothing", "ansible.builtin.meta": "noop"}], work) for _ in range(3))
    print("ansible-playbook's own start-up and a no-op task: %.2f s (in (a), (b), (c))" % fixed)
    a, c, d = times["a"], times["c"], times["d"]
    print("ratio no-op (a)/(c) = %.2f   (a)/(d) = %.2f" % (a[1] / c[1], a[1] / d[1]))
    print("ratio no-op less start-up (a-s)/(c-s) = %.2f   (a-s)/(d) = %.2f" % (
        (a[1] - fixed) / (c[1] - fixed), (a[1] - fixed) / d[1]))
    print("ratio first (a)/(c) = %.2f   (a)/(d) = %.2f   (b)/(a) = %.2f" % (
        a[0] / c[0], a[0] / d[0], times["b"][0] / a[0]))
    extra = args.grow - args.count
    print("growth (a) %d -> %d VMs: first %.2f -> %.2f s, marginal %.1f ms/VM; no-op %.2f -> %.2f s, "
          "marginal %.1f ms/VM" % (args.count, args.grow, a[0], grown[0], 1000 * (grown[0] - a[0]) / extra,
                                   a[1], grown[1], 1000 * (grown[1] - a[1]) / extra))


if __name__ == "__main__":
    main()
