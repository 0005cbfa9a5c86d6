# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""<os> loader/nvram (UEFI, secure boot) and direct kernel boot."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import sub, text


def render(root, spec, plan):
    os_el = root.find("os")
    if spec.firmware.type == "efi":
        loader = plan.loader
        sub(os_el, "loader", loader["code"], readonly="yes", type="pflash",
            secure="yes" if spec.firmware.secure_boot else "no")
        sub(os_el, "nvram", plan.nvram, template=loader.get("vars_template"))
    kb = spec.kernel_boot
    if kb is not None:
        sub(os_el, "kernel", kb.kernel)
        if kb.initrd:
            sub(os_el, "initrd", kb.initrd)
        if kb.cmdline:
            sub(os_el, "cmdline", kb.cmdline)


def parse(root, out):
    loader = root.find("os/loader")
    efi = root.find("os").get("firmware") == "efi" or (loader is not None and loader.get("type") == "pflash")
    secure = loader is not None and loader.get("secure") == "yes"
    out["firmware"] = {"type": "efi" if efi else "bios", "secure_boot": secure}
    kernel = text(root, "os/kernel")
    if kernel:
        cmdline = root.find("os/cmdline")
        out["kernel_boot"] = {"kernel": kernel, "initrd": text(root, "os/initrd"),
                              "cmdline": cmdline.text if cmdline is not None else None}


def parse_loader(root):
    """The loader and nvram of an existing UEFI domain, kept on redefine."""
    loader = root.find("os/loader")
    if loader is None or loader.get("type") != "pflash":
        return None, None
    nvram = root.find("os/nvram")
    found = {"code": (loader.text or "").strip(),
             "vars_template": nvram.get("template") if nvram is not None else None}
    return found, text(root, "os/nvram")
