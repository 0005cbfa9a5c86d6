# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared pytest fixtures for tests/unit and tests/integration.

Import path: ``$REPO/.cache/collections`` goes on sys.path (and into
ANSIBLE_COLLECTIONS_PATH for subprocesses), where
``ansible_collections/kvcompute/libvirt`` links back to the checkout, so tests
import ``ansible_collections.kvcompute.libvirt.plugins.module_utils...``.

Fixtures:
  libvirt_uri, libvirt_conn   the daemon under test (fails, never skips, if it is down)
  virt_type, linux_virt_type  'kvm' / 'qemu' domain types for test guests
  vm_names                    unique VM names, cleaned up (only those) at teardown
  host_snapshot               capture every domain's inactive XML to compare before/after
  host_files                  the managed files (NVRAM, swtpm, dumps, /etc/kvcompute), secrets, pools, networks
  run_module, run_playbook    run the collection through real ansible-playbook
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

from tests.support.guest import qemu_user

REPO = Path(__file__).resolve().parent.parent
COLLECTIONS = REPO / ".cache" / "collections"
COLLECTION_LINK = COLLECTIONS / "ansible_collections" / "kvcompute" / "libvirt"
FQCN_PREFIX = "kvcompute.libvirt."
VM_PREFIX = "kvt-"
# Per-test VM files live under libvirt's own images dir: QEMU runs as libvirt-qemu
# and cannot traverse pytest's tmp_path (/tmp/pytest-of-root is 0700).
VM_FILES_ROOT = Path(os.environ.get("KV_TEST_VM_DIR", "/var/lib/libvirt/images"))


def _ensure_collection_path():
    if not COLLECTION_LINK.is_symlink() or Path(os.readlink(COLLECTION_LINK)) != REPO:
        COLLECTION_LINK.parent.mkdir(parents=True, exist_ok=True)
        if COLLECTION_LINK.is_symlink() or COLLECTION_LINK.exists():
            COLLECTION_LINK.unlink()
        COLLECTION_LINK.symlink_to(REPO)
    if str(COLLECTIONS) not in sys.path:
        sys.path.insert(0, str(COLLECTIONS))
    os.environ["ANSIBLE_COLLECTIONS_PATH"] = str(COLLECTIONS)


_ensure_collection_path()

try:  # keep hypothesis' example database out of the work tree
    from hypothesis.configuration import set_hypothesis_home_dir

    set_hypothesis_home_dir(str(REPO / ".cache" / "hypothesis"))
except ImportError:  # pragma: no cover
    pass


# --------------------------------------------------------------------------- libvirt


@pytest.fixture(scope="session")
def libvirt_uri():
    """The libvirt URI under test: $KV_TEST_URI or qemu:///system; must answer."""
    uri = os.environ.get("KV_TEST_URI", "qemu:///system")
    try:
        import libvirt
    except ImportError as exc:
        pytest.fail("libvirt-python is not importable (%s): run scripts/testbed.sh" % exc, pytrace=False)
    # libvirt's default handler prints every error (e.g. expected "Domain not found"
    # on lookups) to stderr; errors still raise libvirtError.
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    try:
        conn = libvirt.open(uri)
    except libvirt.libvirtError as exc:
        pytest.fail(
            "libvirtd does not answer at %s: %s\n"
            "Start it with scripts/testbed.sh (or set KV_TEST_URI)." % (uri, exc),
            pytrace=False,
        )
    conn.close()
    return uri


class _ReconnectingConn:
    """A virConnect that opens itself again after libvirtd restarted (test_kv_vm_tpm restarts it)."""

    def __init__(self, uri):
        import libvirt

        self._uri, self._libvirt = uri, libvirt
        self._conn = libvirt.open(uri)

    def __getattr__(self, name):
        target = getattr(self._conn, name)
        if not callable(target):
            return target

        def call(*args, **kwargs):
            try:
                return getattr(self._conn, name)(*args, **kwargs)
            except self._libvirt.libvirtError:
                if self._conn.isAlive():
                    raise
                self._conn = self._libvirt.open(self._uri)
                return getattr(self._conn, name)(*args, **kwargs)

        return call


@pytest.fixture(scope="session")
def libvirt_conn(libvirt_uri):
    """One read-write libvirt connection for the whole session (reopened after a libvirtd restart)."""
    import libvirt

    conn = _ReconnectingConn(libvirt_uri)
    yield conn
    try:
        conn.close()
    except libvirt.libvirtError:
        pass


def _kvm_usable():
    """/dev/kvm opens read-write, and (as root, who can open anything) QEMU's user can too."""
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return False
    os.close(fd)
    if os.geteuid() != 0:
        return True
    st = os.stat("/dev/kvm")
    try:
        user = pwd.getpwnam(qemu_user())
    except KeyError:
        return False
    if user.pw_uid == 0 or st.st_mode & 0o006 == 0o006:
        return True
    if st.st_uid == user.pw_uid and st.st_mode & 0o600 == 0o600:
        return True
    groups = os.getgrouplist(user.pw_name, user.pw_gid)
    return st.st_gid in groups and st.st_mode & 0o060 == 0o060


@pytest.fixture(scope="session")
def virt_type():
    """'kvm' when QEMU can use /dev/kvm here, else 'qemu' (TCG)."""
    return "kvm" if _kvm_usable() else "qemu"


@pytest.fixture(scope="session")
def linux_virt_type():
    """Always 'qemu' (TCG), for UEFI and Linux guests.

    On the test machines (nested virtualization, see TESTBED.md) OVMF guests stop
    with a KVM internal error and a Linux kernel hangs silently under KVM, while
    both boot in < 20 s under TCG with <cpu mode='maximum'/>. Only tiny SeaBIOS
    guests with no disk are reliable under KVM; use virt_type for those.
    """
    return "qemu"


class VmNames:
    """Factory of unique VM names; cleans up exactly the domains it handed out."""

    def __init__(self, uri, test_name):
        self.uri = uri
        self.names = []
        self._dir = None
        self._test_name = re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name)[:60]

    def __call__(self):
        name = "%s%s" % (VM_PREFIX, uuid.uuid4().hex[:8])
        self.names.append(name)
        return name

    @property
    def dir(self):
        """A per-test directory QEMU can read (disks, kernels, serial logs); removed at teardown."""
        if self._dir is None:
            self._dir = VM_FILES_ROOT / ("kvt-%s-%s" % (self._test_name, uuid.uuid4().hex[:6]))
            self._dir.mkdir(parents=True, mode=0o755)
        return self._dir

    def cleanup(self):
        """Destroy and undefine the handed-out domains; remove the per-test dir."""
        import libvirt

        errors = []
        conn = libvirt.open(self.uri)
        try:
            for name in self.names:
                try:
                    _remove_domain(conn, name)
                except libvirt.libvirtError as exc:
                    errors.append("%s: %s" % (name, exc))
        finally:
            conn.close()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        self.names = []
        if errors:
            raise AssertionError("vm_names cleanup failed: " + "; ".join(errors))


def _remove_domain(conn, name):
    import libvirt

    try:
        dom = conn.lookupByName(name)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return
        raise
    if dom.isActive():
        try:
            dom.destroy()
        except libvirt.libvirtError as exc:
            if exc.get_error_code() not in (libvirt.VIR_ERR_NO_DOMAIN, libvirt.VIR_ERR_OPERATION_INVALID):
                raise
    if not dom.isPersistent():
        return
    flags = 0
    for flag in (
        "VIR_DOMAIN_UNDEFINE_MANAGED_SAVE",
        "VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA",
        "VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA",
        "VIR_DOMAIN_UNDEFINE_NVRAM",
        "VIR_DOMAIN_UNDEFINE_TPM",
    ):
        flags |= getattr(libvirt, flag, 0)
    try:
        dom.undefineFlags(flags)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return
        raise


@pytest.fixture
def vm_names(libvirt_uri, request):
    """``name = vm_names()`` -> 'kvt-<8 hex>'; ``vm_names.dir`` -> per-test file dir.

    At teardown only the domains named by this factory are destroyed (if running)
    and undefined with their managed save, snapshot/checkpoint metadata, NVRAM and
    TPM state. Nothing else on the host is touched.
    """
    factory = VmNames(libvirt_uri, request.node.name)
    yield factory
    factory.cleanup()


def _snapshot(conn, only=None):
    import libvirt

    xml = {}
    for dom in conn.listAllDomains(0):
        if only is not None and not only(dom.name()):
            continue
        try:
            xml[dom.name()] = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
        except libvirt.libvirtError as exc:  # vanished between list and read
            if exc.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                raise
    return {"names": sorted(xml), "xml": xml}


@pytest.fixture
def host_snapshot(libvirt_conn):
    """``snap = host_snapshot()`` -> {'names': [...], 'xml': {name: inactive XML}}.

    Take one before and one after: ``assert host_snapshot() == before``.
    ``host_snapshot(only=lambda name: ...)`` restricts it to some domains: tests that
    run in parallel (pytest -n) or beside other users of the same libvirtd see
    their domains come and go.
    """
    return lambda only=None: _snapshot(libvirt_conn, only)


# Host state the collection manages besides domains: compared byte for byte by the reliability suite.
MANAGED_DIRS = ("/var/lib/libvirt/qemu/nvram", "/var/lib/libvirt/swtpm", "/var/lib/libvirt/qemu/dump",
                "/etc/kvcompute", "/etc/libvirt/qemu.conf", "/etc/libvirt/libvirtd.conf")


def _file_digests(paths):
    import hashlib

    out = {}
    for top in paths:
        for path in [Path(top)] + (sorted(Path(top).rglob("*")) if Path(top).is_dir() else []):
            if path.is_file() and path.name != ".lock":
                st = path.stat()
                out[str(path)] = (hashlib.sha256(path.read_bytes()).hexdigest(), st.st_mode, st.st_uid)
            elif path.is_dir():
                out[str(path)] = ("dir", path.stat().st_mode)
    return out


@pytest.fixture
def host_files(libvirt_conn):
    """``snap = host_files()`` -> every managed file (sha256, mode, owner), libvirt secrets, pools, networks.

    With host_snapshot it is the whole host as the collection sees it; compare before and after.
    """

    def snap():
        return {"files": _file_digests(MANAGED_DIRS),
                "secrets": sorted(s.XMLDesc(0) for s in libvirt_conn.listAllSecrets(0)),
                "pools": sorted(p.XMLDesc(0) for p in libvirt_conn.listAllStoragePools(0)),
                "networks": sorted(n.XMLDesc(0) for n in libvirt_conn.listAllNetworks(0))}

    return snap


# --------------------------------------------------------------------------- ansible

# ansible-core 2.19 ships no JSON stdout callback (ansible.posix.json is not installed
# and needs Galaxy), so the tests bring a small one. Output shape as ansible.posix.json:
# {"plays": [{"play": {...}, "tasks": [{"task": {...}, "hosts": {host: result}}]}], "stats": {...}}
CALLBACK_DIR = REPO / ".cache" / "pytest-callbacks"
CALLBACK_SOURCE = '''\
# Generated by tests/conftest.py: JSON stdout callback for the test fixtures.
from __future__ import annotations

import json

from ansible.plugins.callback import CallbackBase

try:
    from ansible.module_utils._internal._json._profiles._fallback_to_str import Encoder as _Encoder
except ImportError:  # pragma: no cover - other ansible-core versions
    _Encoder = None

DOCUMENTATION = """
name: kv_json
type: stdout
short_description: JSON output for the kvcompute.libvirt test fixtures
description: [Prints one JSON document for the whole run.]
"""

_KEEP = ("diff", "warnings", "deprecations", "exception")


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "kv_json"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.plays = []

    def v2_playbook_on_play_start(self, play):
        self.plays.append({"play": {"name": play.get_name()}, "tasks": []})

    def _task_start(self, task, **kwargs):
        self.plays[-1]["tasks"].append({"task": {"name": task.get_name(), "action": task.action}, "hosts": {}})

    v2_playbook_on_task_start = _task_start
    v2_playbook_on_handler_task_start = _task_start

    def _record(self, result, **extra):
        raw = result.result
        data = self._dump_results(raw, keep_invocation=True, serialize=False)
        for key in _KEEP:
            if key in raw:
                data[key] = raw[key]
        data.update(extra)
        self.plays[-1]["tasks"][-1]["hosts"][result.host.get_name()] = data

    def v2_runner_on_ok(self, result, **kwargs):
        self._record(result)

    def v2_runner_on_failed(self, result, ignore_errors=False, **kwargs):
        self._record(result, failed=True)

    def v2_runner_on_skipped(self, result, **kwargs):
        self._record(result, skipped=True)

    def v2_runner_on_unreachable(self, result, **kwargs):
        self._record(result, unreachable=True)

    def v2_playbook_on_stats(self, stats):
        summary = {h: stats.summarize(h) for h in sorted(stats.processed)}
        out = {"plays": self.plays, "stats": summary}
        if _Encoder is not None:
            text = json.dumps(out, cls=_Encoder, indent=2, sort_keys=True)
        else:
            text = json.dumps(out, default=str, indent=2, sort_keys=True)
        self._display.display(text)
'''


def _ensure_callback():
    path = CALLBACK_DIR / "kv_json.py"
    if not path.exists() or path.read_text() != CALLBACK_SOURCE:
        CALLBACK_DIR.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".%d.tmp" % os.getpid())
        tmp.write_text(CALLBACK_SOURCE)
        os.replace(tmp, path)  # atomic: xdist workers may race here
    return CALLBACK_DIR


def _ansible_playbook_bin():
    for candidate in (Path(sys.executable).parent / "ansible-playbook", REPO / ".venv" / "bin" / "ansible-playbook"):
        if candidate.exists():
            return str(candidate)
    found = shutil.which("ansible-playbook")
    if not found:
        pytest.fail("ansible-playbook not found: run scripts/testbed.sh", pytrace=False)
    return found


class PlaybookRunner:
    def __init__(self, tmp):
        self.tmp = tmp
        # An empty config of our own: no ansible.cfg from the cwd or home leaks in.
        self.cfg = self.tmp / "ansible.cfg"
        self.cfg.write_text("[defaults]\n")
        self.count = 0
        self.last = None  # CompletedProcess of the last run, for debugging

    def env(self):
        env = {k: v for k, v in os.environ.items() if k not in ("ANSIBLE_CALLBACKS_ENABLED", "ANSIBLE_CONFIG")}
        env.update(
            ANSIBLE_STDOUT_CALLBACK="kv_json",
            ANSIBLE_CALLBACK_PLUGINS=str(_ensure_callback()),
            ANSIBLE_PYTHON_INTERPRETER=sys.executable,
            ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
            ANSIBLE_LOCAL_TEMP=str(self.tmp / "local"),
            ANSIBLE_REMOTE_TMP=str(self.tmp / "remote"),
            ANSIBLE_RETRY_FILES_ENABLED="0",
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_GATHERING="explicit",
            ANSIBLE_LOCALHOST_WARNING="0",
            ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
            ANSIBLE_DEPRECATION_WARNINGS="0",
            ANSIBLE_CONFIG=str(self.cfg),
        )
        return env

    def command(self, playbook, check=False, diff=False, extra_vars=None):
        """The ansible-playbook command line for a playbook (YAML text or list of plays)."""
        if not isinstance(playbook, str):
            playbook = yaml.safe_dump(playbook, sort_keys=False)
        self.count += 1
        path = self.tmp / ("play%03d.yml" % self.count)
        path.write_text(playbook)
        cmd = [_ansible_playbook_bin(), "-i", "localhost,", "-c", "local", str(path)]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        if extra_vars:
            cmd += ["-e", json.dumps(extra_vars)]
        return cmd

    def run(self, playbook, check=False, diff=False, extra_vars=None):
        """Run a playbook (YAML text or list of plays); return (task results, exit code)."""
        cmd = self.command(playbook, check, diff, extra_vars)
        proc = subprocess.run(cmd, cwd=str(self.tmp), env=self.env(), capture_output=True, text=True, check=False)
        self.last = proc
        return self.results(proc.stdout, proc.stderr, proc.returncode), proc.returncode

    def start(self, playbook):
        """Start a playbook in the background: a Popen; ``results(*proc.communicate(), proc.returncode)``."""
        return subprocess.Popen(self.command(playbook), cwd=str(self.tmp), env=self.env(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    @staticmethod
    def results(stdout, stderr, returncode):
        try:
            out = json.loads(stdout[stdout.index("{"):])
        except ValueError:
            raise AssertionError(
                "ansible-playbook gave no JSON (rc=%d)\n--- stdout\n%s\n--- stderr\n%s"
                % (returncode, stdout, stderr)
            ) from None
        results = []
        for play in out.get("plays", []):
            for task in play.get("tasks", []):
                for host, result in task.get("hosts", {}).items():
                    result = dict(result)
                    result.setdefault("_task", task["task"]["name"])
                    result.setdefault("_host", host)
                    results.append(result)
        return results

    def module(self, module_name, args=None, check=False, diff=False):
        if "." not in module_name:
            module_name = FQCN_PREFIX + module_name
        play = [
            {
                "hosts": "localhost",
                "gather_facts": False,
                "tasks": [
                    {"name": "under test", module_name: args or {}, "register": "r", "ignore_errors": True},
                ],
            }
        ]
        results, rc = self.run(play, check=check, diff=diff)
        if not results:
            proc = self.last
            raise AssertionError(
                "task %s did not run (rc=%d)\n--- stdout\n%s\n--- stderr\n%s"
                % (module_name, rc, proc.stdout, proc.stderr)
            )
        return results[0]


@pytest.fixture(scope="session")
def _playbook_runner(tmp_path_factory):
    return PlaybookRunner(tmp_path_factory.mktemp("ansible"))


@pytest.fixture(scope="session")
def run_playbook(_playbook_runner):
    """``results, rc = run_playbook(yaml_or_plays, check=False, diff=False, extra_vars=None)``.

    Each result is the host's task result with '_task' (task name) and '_host' added.
    Session-scoped, so module- and session-scoped fixtures can use it too.
    """
    return _playbook_runner.run


@pytest.fixture(scope="session")
def playbook_runner(_playbook_runner):
    """The runner itself, for what run_playbook cannot do: ``proc = playbook_runner.start(plays)`` runs one
    in the background (fault tests kill things under it)."""
    return _playbook_runner


@pytest.fixture(scope="session")
def run_module(_playbook_runner):
    """``r = run_module('kv_vm', {...}, check=False, diff=False)`` -> the task result dict.

    A short name gets the 'kvcompute.libvirt.' prefix. The task has ignore_errors,
    so a failing module returns its result (r['failed'], r['msg']) instead of raising.
    Session-scoped, so module- and session-scoped fixtures can use it too.
    """
    return _playbook_runner.module
