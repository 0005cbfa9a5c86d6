# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run strategies for real: kv_vm + the kv-runstrategy service (from this checkout) + the real libvirtd.

The service runs per test (fixture ``runstrategy``), with its own pid file and log under tmp and
``--only`` the test's own domains: other streams share this libvirtd and their VMs are none of its
business. It is stopped before ``vm_names`` cleans up (else it would start an Always VM that the
cleanup destroys). Each wait is on a condition (libvirt state, QEMU pid, the service's log, the
guest's console), with a timeout.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ansible_collections.kvcompute.libvirt.plugins.module_utils.runstrategy import policy
from test_guest import READY, guest_vm  # noqa: E402 pylint: disable=wrong-import-position
from tests.support.libvirtd import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.libvirt]

REPO = Path(__file__).resolve().parents[2]
SERVICE = REPO / "roles" / "libvirt_host" / "files" / "kv-runstrategy"
RESTART_WITHIN = 30  # the acceptance criterion: running again within 30 s of kill -9


class RunningService:
    """A kv-runstrategy daemon of one test: its pid file and log."""

    def __init__(self, directory, uri, names):
        self.pid_file = directory / "kv-runstrategy.pid"
        self.log = directory / "kv-runstrategy.log"
        cmd = [sys.executable, str(SERVICE), "--daemon", "--uri", uri, "--pid-file", str(self.pid_file),
               "--log-file", str(self.log)]
        for name in names:
            cmd += ["--only", name]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        assert proc.returncode == 0 and "started" in proc.stdout, (proc.stdout, proc.stderr)
        self.pid = int(self.pid_file.read_text())
        self.wait_log(r"listening for lifecycle events")

    def text(self):
        try:
            return self.log.read_text()
        except FileNotFoundError:
            return ""

    def mark(self):
        return len(self.text())

    def wait_log(self, pattern, since=0, timeout=60):
        """Wait until the log (after offset `since`) matches; return the match."""
        regex, found = re.compile(pattern), []

        def seen():
            found[:] = [regex.search(self.text()[since:])]
            return found[0]

        try:
            wait_until("service log line %r" % pattern, seen, timeout, interval=0.1)
        except AssertionError as err:
            raise AssertionError("%s\n--- service log\n%s" % (err, self.text())) from None
        return found[0]

    def stop(self):
        proc = subprocess.run([sys.executable, str(SERVICE), "--stop", "--pid-file", str(self.pid_file)],
                              capture_output=True, text=True, check=False)
        assert proc.returncode == 0, (proc.stdout, proc.stderr)


@pytest.fixture
def runstrategy(vm_names, tmp_path, libvirt_uri):
    """``svc = runstrategy(name, ...)``: start the service for these domains; stopped at teardown (before vm_names)."""
    started = []

    def start(*names):
        svc = RunningService(tmp_path, libvirt_uri, names)
        started.append(svc)
        return svc

    yield start
    for svc in started:
        svc.stop()
        print("--- kv-runstrategy log\n" + svc.text())


def qemu_pid(name):
    try:
        return int(Path("/run/libvirt/qemu/%s.pid" % name).read_text().strip())
    except (OSError, ValueError):
        return None


def kill_qemu(conn, name):
    """kill -9 the domain's QEMU; return (its pid, when)."""
    import libvirt

    wait_until("%s running" % name, lambda: conn.lookupByName(name).state()[0] == libvirt.VIR_DOMAIN_RUNNING, 60)
    pid = qemu_pid(name)
    assert pid, "no QEMU pid for %s" % name
    os.kill(pid, signal.SIGKILL)
    return pid, time.monotonic()


def wait_running_again(conn, name, old_pid, since, timeout=RESTART_WITHIN):
    """Seconds from `since` until the domain runs again in a new QEMU process."""
    import libvirt

    def again():
        pid = qemu_pid(name)
        return pid and pid != old_pid and conn.lookupByName(name).state()[0] == libvirt.VIR_DOMAIN_RUNNING

    wait_until("%s running again after kill -9 of QEMU %d" % (name, old_pid), again, timeout, interval=0.05)
    return time.monotonic() - since


def shutoff_reason(conn, name):
    import libvirt

    state, reason = conn.lookupByName(name).state()
    return reason if state == libvirt.VIR_DOMAIN_SHUTOFF else None


def stored_strategy(conn, name):
    import libvirt

    text = conn.lookupByName(name).metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, policy.NS,
                                            libvirt.VIR_DOMAIN_AFFECT_CONFIG)
    return policy.parse_element(text)


def tiny_vm(name, **extra):
    """A disk-less SeaBIOS VM under TCG (KVM here refuses some MSRs: TESTBED): enough for QEMU to be killed."""
    vm = {"name": name, "domain_type": "qemu", "memory": {"guest": "64Mi"}, "video": "none",
          "serial": {"type": "none"}, "shutdown_timeout": 0}
    vm.update(extra)
    return vm


def ok(result):
    assert result.get("failed") is not True, result
    return result


# --------------------------------------------------------------------------- kv_vm's side


def test_strategy_is_stored_started_and_idempotent(run_module, vm_names, libvirt_conn):
    name = vm_names()
    vm = tiny_vm(name, run_strategy="Always")
    check = ok(run_module("kv_vm", vm, check=True))
    assert check["actions"] == ["define", "start", "autostart on"] and check["state"] == "running"
    first = ok(run_module("kv_vm", vm))
    assert first["actions"] == check["actions"] and first["run_strategy"] == "Always"
    assert first["done"] == ["defined", "autostart on", "started"]
    dom = libvirt_conn.lookupByName(name)
    assert dom.autostart() == 1 and dom.isActive()
    assert "<on_crash>restart</on_crash>" in dom.XMLDesc(0) and "<panic model='isa'" in dom.XMLDesc(0)
    again = ok(run_module("kv_vm", vm))
    assert again["changed"] is False and again["actions"] == [], again
    info = ok(run_module("kv_vm_info", {"name": name}))["vms"][0]
    assert info["run_strategy"] == "Always" and info["autostart"] is True and info["spec"]["run_strategy"] == "Always"


def test_change_is_live_and_omitted_keeps_it(run_module, vm_names, libvirt_conn):
    name = vm_names()
    ok(run_module("kv_vm", tiny_vm(name, run_strategy="Always")))
    changed = ok(run_module("kv_vm", tiny_vm(name, run_strategy="Manual")))
    assert changed["changes"] == [{"field": "run_strategy", "before": "Always", "after": "Manual", "apply": "live"}]
    assert changed["actions"] == ["redefine", "autostart off", "set on_crash live"]
    assert changed["restart_required"] is False and changed["state"] == "running"
    dom = libvirt_conn.lookupByName(name)
    assert "<on_crash>destroy</on_crash>" in dom.XMLDesc(0) and dom.autostart() == 0
    omitted = ok(run_module("kv_vm", tiny_vm(name)))
    assert omitted["changed"] is False and omitted["run_strategy"] == "Manual"


def test_bad_strategy_is_refused_before_any_change(run_module, vm_names, host_snapshot):
    name = vm_names()
    before = host_snapshot(only=lambda n: n == name)
    bad = run_module("kv_vm", tiny_vm(name, run_strategy="Sometimes"))
    assert bad.get("failed") is True and "run_strategy" in bad["msg"] and "RerunOnFailure" in bad["msg"], bad
    assert host_snapshot(only=lambda n: n == name) == before


# --------------------------------------------------------------------------- QEMU killed


@pytest.mark.slow
def test_kill9_always_and_rerun_on_failure_run_again(run_module, vm_names, libvirt_conn, runstrategy,
                                                     record_property):
    always, rerun, manual = vm_names(), vm_names(), vm_names()
    svc = runstrategy(always, rerun, manual)
    for name, strategy in ((always, "Always"), (rerun, "RerunOnFailure"), (manual, "Manual")):
        ok(run_module("kv_vm", tiny_vm(name, run_strategy=strategy, state="running")))
    for name in (always, rerun):
        pid, killed = kill_qemu(libvirt_conn, name)
        took = wait_running_again(libvirt_conn, name, pid, killed)
        record_property("restart_after_kill9_%s_s" % ("always" if name == always else "rerun"), round(took, 2))
        print("%s: running again %.2fs after kill -9" % (name, took))
        svc.wait_log(r"%s: started again" % name)
    mark = svc.mark()
    kill_qemu(libvirt_conn, manual)
    svc.wait_log(r"%s: event STOPPED/FAILED \(failed\): Manual leaves it off" % manual, since=mark)
    assert shutoff_reason(libvirt_conn, manual) == 3  # VIR_DOMAIN_SHUTOFF_CRASHED


@pytest.mark.slow
@pytest.mark.tcg
@pytest.mark.guest
def test_guest_poweroff_always_restarts_rerun_and_once_stay_off(run_module, vm_names, linux_guest, guest_console,
                                                                libvirt_conn, runstrategy, record_property):
    import libvirt

    names = {"Always": vm_names(), "RerunOnFailure": vm_names(), "Once": vm_names()}
    svc = runstrategy(*names.values())  # before the guests boot: it sees their poweroff events
    consoles = {}
    for strategy, name in names.items():
        consoles[strategy] = guest_console(strategy)
        vm = guest_vm(name, linux_guest, consoles[strategy], kernel_boot=linux_guest.kernel_boot(poweroff_after=2),
                      run_strategy=strategy)
        vm.pop("state")  # present: Always, RerunOnFailure and Once start when first defined
        assert ok(run_module("kv_vm", vm))["state"] == "running"
    for strategy, name in names.items():
        consoles[strategy].wait_for("KVGUEST POWEROFF after=2", timeout=180)
        svc.wait_log(r"%s: event STOPPED/SHUTDOWN \(succeeded\): %s" % (name, strategy), timeout=60)
    # Always: booted again (a second READY on its console); the other two stay off.
    again = svc.wait_log(r"%s: started again (\S+)s after it went down" % names["Always"])
    record_property("restart_after_guest_poweroff_always_s", float(again.group(1)))
    wait_until("a second boot of the Always VM", lambda: consoles["Always"].text().count(READY) >= 2, 180)
    for strategy in ("RerunOnFailure", "Once"):
        assert shutoff_reason(libvirt_conn, names[strategy]) == libvirt.VIR_DOMAIN_SHUTOFF_SHUTDOWN
        assert "%s: event STOPPED/SHUTDOWN (succeeded): %s leaves it off" % (names[strategy], strategy) in svc.text()
        assert consoles[strategy].text().count(READY) == 1


# --------------------------------------------------------------------------- Halted


@pytest.mark.slow
@pytest.mark.tcg
@pytest.mark.guest
def test_stop_moves_always_to_halted_and_it_stays_off(run_module, vm_names, linux_guest, guest_console,
                                                      libvirt_conn, runstrategy):
    import libvirt

    name = vm_names()
    console = guest_console()
    vm = guest_vm(name, linux_guest, console, run_strategy="Always")
    svc = runstrategy(name)
    ok(run_module("kv_vm", vm))
    console.wait_for(READY, timeout=180)  # acpid runs: the stop below is a clean guest shutdown

    stopped = ok(run_module("kv_vm", dict(vm, state="stopped", shutdown_timeout=120)))
    assert stopped["run_strategy"] == "Halted" and stopped["state"] == "shutoff"
    assert stopped["run_strategy_moved"] == "state stopped moves run_strategy Always to Halted, as virtctl stop does"
    assert [c for c in stopped["changes"] if c["field"] == "run_strategy"] == [{
        "field": "run_strategy", "before": "Always", "after": "Halted", "apply": "live",
        "reason": stopped["run_strategy_moved"]}]
    assert "shut down" in stopped["done"] and "autostart off" in stopped["done"]
    svc.wait_log(r"%s: event STOPPED/SHUTDOWN \(succeeded\): Halted leaves it off" % name)
    assert shutoff_reason(libvirt_conn, name) == libvirt.VIR_DOMAIN_SHUTOFF_SHUTDOWN
    # The same task again: nothing to do (state stopped on Halted stays Halted).
    assert ok(run_module("kv_vm", dict(vm, state="stopped")))["changed"] is False

    # Halted and started by hand, then its QEMU dies: it stays off.
    libvirt_conn.lookupByName(name).create()
    mark = svc.mark()
    kill_qemu(libvirt_conn, name)
    svc.wait_log(r"%s: event STOPPED/FAILED \(failed\): Halted leaves it off" % name, since=mark)
    assert shutoff_reason(libvirt_conn, name) == libvirt.VIR_DOMAIN_SHUTOFF_CRASHED
    # Without run_strategy the VM keeps Halted: present keeps it stopped, running moves it back to Always.
    kept = dict((k, v) for k, v in vm.items() if k != "run_strategy")
    assert ok(run_module("kv_vm", dict(kept, state="present")))["changed"] is False
    started = ok(run_module("kv_vm", dict(kept, state="running")))
    assert started["run_strategy"] == "Always" and "virtctl start" in started["run_strategy_moved"]


# --------------------------------------------------------------------------- kv_vm's own stops are held


@pytest.mark.slow
def test_restart_and_absent_of_always_are_not_undone_by_the_service(run_module, vm_names, libvirt_conn, runstrategy):
    name = vm_names()
    vm = tiny_vm(name, run_strategy="Always")
    svc = runstrategy(name)
    ok(run_module("kv_vm", vm))
    old = qemu_pid(name)
    restarted = ok(run_module("kv_vm", dict(vm, state="restarted")))
    assert restarted["state"] == "running" and qemu_pid(name) != old
    svc.wait_log(r"%s: event STOPPED/DESTROYED; held by kv_vm" % name)
    assert stored_strategy(libvirt_conn, name) == ("Always", None)  # the hold is released
    mark = svc.mark()
    gone = ok(run_module("kv_vm", dict(vm, state="absent")))
    assert gone["done"][-1] == "undefined"
    svc.wait_log(r"%s: undefined" % name, since=mark)  # the service has seen the stop (events come in order)
    assert "started again" not in svc.text()[mark:]
    assert name not in [d.name() for d in libvirt_conn.listAllDomains(0)], "the service kept a VM kv_vm removed"


# --------------------------------------------------------------------------- libvirtd restarted


@pytest.mark.slow
def test_libvirtd_restart_then_kill9_is_still_handled(run_module, vm_names, libvirt_conn, libvirt_uri,
                                                      runstrategy, restart_libvirtd, record_property):
    always, rerun = vm_names(), vm_names()
    svc = runstrategy(always, rerun)
    for name, strategy in ((always, "Always"), (rerun, "RerunOnFailure")):
        ok(run_module("kv_vm", tiny_vm(name, run_strategy=strategy, state="running")))
    pids = {name: qemu_pid(name) for name in (always, rerun)}
    mark = svc.mark()
    restart_libvirtd()  # SIGTERM, libvirtd -d, until it answers; the fixture restores it if this fails
    assert {name: qemu_pid(name) for name in pids} == pids, "a libvirtd restart must not touch running QEMUs"
    svc.wait_log(r"connection to .* closed", since=mark)
    # Kill at once: whether the service has reconnected yet or not, the kill is handled
    # (by the event, or by the reconcile that follows the reconnect).
    for name in (always, rerun):
        pid, killed = kill_qemu(libvirt_conn, name)
        took = wait_running_again(libvirt_conn, name, pid, killed)
        record_property("restart_after_libvirtd_restart_%s_s" % ("always" if name == always else "rerun"),
                        round(took, 2))
        print("%s: running again %.2fs after kill -9 (libvirtd restarted before)" % (name, took))
    svc.wait_log(r"reconnected to %s" % re.escape(libvirt_uri), since=mark)
