# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Security rules over the whole collection, read from its source:

- every module parameter that can carry a secret is no_log (ansible-test's validate-modules also flags
  names it recognises; this covers ours, e.g. `value`, `passphrase`, `tls_key`);
- no role or playbook turns on unauthenticated TCP for libvirt (only the loopback test fixture
  scripts/second_libvirtd.sh may, and it is not shipped);
- files that hold guest memory or state are written 0600 by the code that writes them.
"""

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
MODULES = sorted((REPO / "plugins" / "modules").glob("*.py"))
SECRET_PARAM = re.compile(r"(passw|passphrase|secret_value|token|private_key|tls_key|^value$|^key$)")


def argument_specs(path):
    """(param name, its dict(...) call) for every parameter of every argument_spec in a module, nested too."""
    tree = ast.parse(path.read_text())
    found = []

    def walk_spec(call):
        for kw in call.keywords:
            if isinstance(kw.value, ast.Call) and getattr(kw.value.func, "id", None) == "dict":
                found.append((kw.arg, kw.value))
                for inner in kw.value.keywords:
                    if inner.arg == "options" and isinstance(inner.value, ast.Call):
                        walk_spec(inner.value)

    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "argument_spec" and isinstance(node.value, ast.Call):
            walk_spec(node.value)
    return found


def no_log(call):
    return any(kw.arg == "no_log" and getattr(kw.value, "value", None) is True for kw in call.keywords)


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.stem)
def test_secret_parameters_are_no_log(module):
    params = argument_specs(module)
    secret = [name for name, call in params if SECRET_PARAM.search(name) and not no_log(call)]
    assert secret == [], "%s: parameters that can carry secrets without no_log: %s" % (module.name, secret)


def test_the_scanner_sees_kv_secret_value():
    params = dict(argument_specs(REPO / "plugins" / "modules" / "kv_secret.py"))
    assert "value" in params and no_log(params["value"])


UNAUTHENTICATED = re.compile(r"auth_tcp\s*[=:]\s*[\"']?none|listen_tcp\s*[=:]\s*[\"']?1")


def shipped_text_files():
    for top in ("roles", "playbooks", "plugins"):
        for path in sorted((REPO / top).rglob("*")):
            if path.is_file() and path.suffix in (".yml", ".yaml", ".j2", ".py", ".conf", ".sh", ""):
                yield path


def test_no_unauthenticated_libvirt_tcp_in_what_ships():
    offenders = [str(p.relative_to(REPO)) for p in shipped_text_files()
                 if UNAUTHENTICATED.search(p.read_text(errors="replace"))]
    assert offenders == []


@pytest.mark.parametrize("source, why", [
    ("plugins/module_utils/converge/dump.py", "memory dumps"),
    ("plugins/module_utils/converge/tpm_archive.py", "TPM/NVRAM backups"),
    ("plugins/module_utils/converge/storage.py", "disk images"),
])
def test_writers_of_guest_state_use_0600(source, why):
    text = (REPO / source).read_text()
    assert "0o600" in text, "%s (%s) sets no 0600 mode" % (source, why)
