# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Integration-level fixtures: the tiny Linux test guest and its serial console.

Fixtures:
  linux_guest     session: the guest's kernel and initramfs (scripts/guest/build.sh,
                  cached in $REPO/.cache/guest), paths QEMU (libvirt-qemu) can read,
                  and ``.cmdline(**kv)`` for its kernel command line
  restart_libvirtd  ``restart_libvirtd(sig=15)`` stops and starts the main libvirtd
  guest_console   ``console = guest_console()`` -> GuestConsole on a serial log file in
                  ``vm_names.dir`` (QEMU can write there); pass ``console.path`` as
                  ``serial: {type: file, path: ...}`` and ``console.wait_for(...)``

The guest and its console protocol are described in docs/test-guest.md; the
classes live in tests/support/guest.py, shared with bench/.
"""

from __future__ import annotations

import pytest

from pathlib import Path

from tests.support import libvirtd
from tests.support.guest import GuestConsole, build_guest


@pytest.fixture(scope="session")
def linux_guest():
    """The tiny Linux test guest (kernel + busybox initramfs), built once and cached."""
    try:
        return build_guest()
    except RuntimeError as err:
        pytest.fail(str(err), pytrace=False)


@pytest.fixture
def guest_console(vm_names):
    """``console = guest_console(name='console')`` -> GuestConsole on ``vm_names.dir/<name>.log``.

    The file is created by libvirt/QEMU when the domain starts; vm_names.dir is
    under /var/lib/libvirt/images, where QEMU may write, and is removed at teardown.
    """

    def make(name="console"):
        return GuestConsole(vm_names.dir / ("%s.log" % name))

    return make


@pytest.fixture
def restart_libvirtd():
    """``restart_libvirtd(sig=15)``: stop the main libvirtd (SIGTERM, or 9 to kill it) and start it the way the
    testbed does, waiting until it answers; at teardown it is running again whatever the test did."""
    if Path("/run/systemd/system").is_dir():
        pytest.fail("this fixture restarts a libvirtd started without systemd (TESTBED)", pytrace=False)
    yield libvirtd.restart
    if not libvirtd.answers():
        libvirtd.start()


# --------------------------------------------------------------------------- two hosts (migration)
# scripts/second_libvirtd.sh runs a second libvirtd on 127.0.0.2 in its own mount namespace;
# tests/support/two_hosts.py has the helpers (shared with bench/).


@pytest.fixture(scope="session")
def second_libvirt():
    """The second loopback host (SecondHost: uri, migrate_uri, node1_peer_uri, shared); stopped at
    session end only if this session started it."""
    from tests.support.two_hosts import SecondHost

    try:
        host = SecondHost.ensure()
    except RuntimeError as err:
        pytest.fail(str(err), pytrace=False)
    yield host
    if host.started:
        host.stop()


@pytest.fixture(scope="session")
def second_libvirt_uri(second_libvirt):
    """URI of the second loopback libvirtd: qemu+tcp://127.0.0.2/system (started if needed)."""
    return second_libvirt.uri


@pytest.fixture
def two_hosts(second_libvirt, vm_names, request):
    """Per-test view of both hosts: ``.shared_dir`` (a folder both see; removed at teardown) and
    cleanup of ``vm_names`` on the second host too (only those names)."""
    from tests.support.two_hosts import remove_dir, remove_domains

    class TwoHosts:
        second = second_libvirt
        shared_dir = second_libvirt.shared_dir(request.node.name.replace("[", "-").replace("]", ""))

    yield TwoHosts
    remove_domains(second_libvirt.uri, vm_names.names)
    remove_dir(TwoHosts.shared_dir)
