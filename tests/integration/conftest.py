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
