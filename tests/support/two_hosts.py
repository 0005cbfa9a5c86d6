# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The two-host bed (scripts/second_libvirtd.sh), shared by the integration tests and bench/.

  SecondHost.ensure()   starts the second libvirtd if needed and returns a SecondHost:
                        ``uri`` (qemu+tcp://127.0.0.2/system), ``migrate_uri`` (tcp://127.0.0.2),
                        ``node1_peer_uri`` (how the second host's libvirtd reaches the first),
                        ``shared`` (a folder both hosts see at the same path, QEMU-traversable)
  shared_dir()          a fresh per-test folder under ``shared`` (0755)
  remove_domains()      destroy + undefine named domains on one host (only those)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "second_libvirtd.sh"
# The first host as QEMU's migration stream sees it (the address its QEMU listens on).
NODE1_MIGRATE_URI = "tcp://127.0.0.1"


class SecondHost:
    def __init__(self, status, started):
        self.uri = status["uri"]
        self.migrate_uri = status["migrate_uri"]
        self.node1_peer_uri = status["node1_peer_uri"]
        self.node = Path(status["node"])
        self.shared = Path(status["shared"])
        self.started = started  # True when ensure() started it (so the caller stops it)

    @staticmethod
    def _run(action):
        return subprocess.run(["bash", str(SCRIPT), action], capture_output=True, text=True, check=False)

    @classmethod
    def status(cls):
        proc = cls._run("status")
        if proc.returncode != 0:
            return None
        return dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)

    @classmethod
    def ensure(cls):
        found = cls.status()
        if found is not None:
            return cls(found, started=False)
        proc = cls._run("start")
        if proc.returncode != 0:
            raise RuntimeError("scripts/second_libvirtd.sh start failed:\n%s%s" % (proc.stdout, proc.stderr))
        return cls(cls.status(), started=True)

    def stop(self):
        self._run("stop")

    def shared_dir(self, label="t"):
        path = self.shared / ("kvt-%s-%s" % (label[:40], uuid.uuid4().hex[:6]))
        path.mkdir(parents=True, mode=0o755)
        os.chmod(path, 0o755)
        return path

    def libvirtd_pid(self):
        try:
            return int((self.node / "libvirtd.pid").read_text().strip())
        except (OSError, ValueError):
            return None


def remove_domains(uri, names):
    """Destroy and undefine exactly ``names`` on ``uri`` (with NVRAM and TPM state)."""
    import libvirt

    conn = libvirt.open(uri)
    try:
        for name in names:
            try:
                dom = conn.lookupByName(name)
            except libvirt.libvirtError:
                continue
            try:
                if dom.isActive():
                    dom.destroy()
            except libvirt.libvirtError:
                pass
            flags = 0
            for flag in ("VIR_DOMAIN_UNDEFINE_MANAGED_SAVE", "VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA",
                         "VIR_DOMAIN_UNDEFINE_NVRAM", "VIR_DOMAIN_UNDEFINE_TPM"):
                flags |= getattr(libvirt, flag, 0)
            try:
                if dom.isPersistent():
                    dom.undefineFlags(flags)
            except libvirt.libvirtError:
                pass
    finally:
        conn.close()


def remove_dir(path):
    shutil.rmtree(path, ignore_errors=True)


def guest_xml(name, kernel, initrd, console, cmdline, memory_mib=256, vcpus=1, hugepages=False, tpm=False,
              uefi=False, pins=None, nvram_dir="/var/lib/libvirt/qemu/nvram", disks=()):
    """Domain XML of the tiny Linux test guest (TCG), its serial console on ``console`` (a shared path).

    uefi: OVMF (no secure boot) with an NVRAM file; tpm: persistent swtpm TPM 2.0; pins: {vcpu: cpu};
    disks: raw image paths, attached as vda, vdb, ... (the guest never mounts them).
    """
    loader = ""
    if uefi:
        loader = ("<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>"
                  "<nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'>%s/%s_VARS.fd</nvram>" % (nvram_dir, name))
    backing = "<memoryBacking><hugepages><page size='2048' unit='KiB'/></hugepages></memoryBacking>" if hugepages else ""
    tpm_xml = ("<tpm model='tpm-crb'><backend type='emulator' version='2.0' persistent_state='yes'/></tpm>"
               if tpm else "")
    cputune = ""
    if pins:
        cputune = "<cputune>%s</cputune>" % "".join(
            "<vcpupin vcpu='%d' cpuset='%d'/>" % (v, c) for v, c in sorted(pins.items()))
    return """<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>{mem}</memory>
  <vcpu>{vcpus}</vcpu>
  {cputune}
  {backing}
  <os><type arch='x86_64' machine='q35'>hvm</type>{loader}
    <kernel>{kernel}</kernel><initrd>{initrd}</initrd><cmdline>{cmdline}</cmdline></os>
  <features><acpi/></features>
  <cpu mode='custom' match='exact'><model fallback='forbid'>qemu64</model></cpu>
  <devices>
    <serial type='file'><source path='{console}' append='on'/><target port='0'/></serial>
    {tpm}
    {disks}
    <memballoon model='none'/>
  </devices>
</domain>""".format(name=name, mem=memory_mib, vcpus=vcpus, cputune=cputune, backing=backing, loader=loader,
                    kernel=kernel, initrd=initrd, cmdline=cmdline, console=console, tpm=tpm_xml,
                    disks="".join("<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                                  "<source file='%s'/><target dev='vd%s' bus='virtio'/></disk>" % (path, chr(97 + i))
                                  for i, path in enumerate(disks)))
