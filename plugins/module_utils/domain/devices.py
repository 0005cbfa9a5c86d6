# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small devices: video (+ a VNC display on loopback), serial console, rng, watchdog, TPM."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import attr, sub


def render(devices, spec, plan):
    if spec.video != "none":
        # A display only on loopback: reach it through an SSH tunnel, never the network.
        graphics = sub(devices, "graphics", type="vnc", port=-1, autoport="yes", listen="127.0.0.1")
        sub(graphics, "listen", type="address", address="127.0.0.1")
        video = sub(devices, "video")
        sub(video, "model", type=spec.video, primary="yes")
    serial = spec.serial
    if serial.type != "none":
        el = sub(devices, "serial", type=serial.type)
        if serial.type == "file":
            sub(el, "source", path=serial.path, append="on")
        sub(el, "target", port=0)
        console = sub(devices, "console", type=serial.type)
        if serial.type == "file":
            sub(console, "source", path=serial.path, append="on")
        sub(console, "target", type="serial", port=0)
    if spec.rng:
        rng = sub(devices, "rng", model="virtio")
        sub(rng, "backend", "/dev/urandom", model="random")
    if spec.watchdog is not None:
        sub(devices, "watchdog", model=spec.watchdog.model, action=spec.watchdog.action)
    if spec.tpm is not None:
        render_tpm(devices, spec.tpm)


def render_tpm(devices, tpm):
    """KubeVirt's TPM: a swtpm TPM 2.0; persistent -> tpm-crb with persistent_state (as virt-launcher does)."""
    if tpm.persistent:
        el = sub(devices, "tpm", model="tpm-crb")
        backend = sub(el, "backend", type="emulator", version="2.0", persistent_state="yes")
    else:
        el = sub(devices, "tpm", model="tpm-tis")
        backend = sub(el, "backend", type="emulator", version="2.0")
    if tpm.encryption_secret:
        sub(backend, "encryption", secret=tpm.encryption_secret)
    return el


def parse(root, out):
    video = attr(root, "devices/video/model", "type")
    out["video"] = video if video else "none"
    serial = root.find("devices/serial")
    if serial is None:
        out["serial"] = {"type": "none"}
    else:
        kind = serial.get("type")
        # A running pty serial shows its /dev/pts path: not part of the spec.
        out["serial"] = {"type": kind, "path": attr(serial, "source", "path") if kind == "file" else None}
    out["rng"] = root.find("devices/rng") is not None
    wd = root.find("devices/watchdog")
    if wd is not None:
        out["watchdog"] = {"model": wd.get("model"), "action": wd.get("action", "reset")}
    tpm = root.find("devices/tpm")
    if tpm is not None:
        out["tpm"] = {"persistent": attr(tpm, "backend", "persistent_state") == "yes",
                      "encryption_secret": attr(tpm, "backend/encryption", "secret")}
