# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pool file, the host as the allocator sees it (fake trees), and the host-wide placement lock."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import sys
import textwrap

import pytest

from ansible_collections.kvcompute.libvirt.plugins.module_utils.converge.host_lock import LOCK_PATH, host_lock
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host import cpu_pool
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.hostfs import HostFS
from ansible_collections.kvcompute.libvirt.plugins.module_utils.virt import VirtError

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "plan"))
from synthetic_hosts import caps_of, make_host  # noqa: E402


@pytest.mark.parametrize("cpus, text", [([], ""), ([3], "3"), ([0, 1, 2, 5, 7, 8], "0-2,5,7-8"), ([4, 2, 3], "2-4")])
def test_format_cpuset(cpus, text):
    assert cpu_pool.format_cpuset(cpus) == text


def test_pools_from_the_file_and_without_it():
    _caps, host = make_host((2, 1, 2, 2), reserved=[0, 4])
    assert host.reserved == [0, 4] and host.pool == [1, 2, 3, 5, 6, 7]
    assert host.cells == {0: [0, 1, 4, 5], 1: [2, 3, 6, 7]} and host.siblings[1] == (1, 5) and host.smt
    _caps, bare = make_host((2, 1, 2, 2), pool_file=False)
    assert bare.reserved == [] and bare.pool == list(range(8))
    assert bare.free_memory == {0: 8 * 2 ** 30, 1: 8 * 2 ** 30} and bare.free_pages == {0: {2048: 0}, 1: {2048: 0}}


@pytest.mark.parametrize("text, message", [
    ("{", "is not JSON"),
    ("[1]", "must hold a mapping"),
    ('{"pool": 3}', "pool must be a cpuset string"),
    ('{"reserved": "0-1", "pool": "1-3"}', "CPUs 1 are both reserved and in the pool"),
    ('{"pool": "2-9"}', "pool CPUs 4-9 are not online on this host (online: 0-3)"),
])
def test_bad_pool_files_say_what_is_wrong(text, message):
    with pytest.raises(cpu_pool.PoolError) as err:
        cpu_pool.parse_pools(text, "/etc/kvcompute/cpu_manager.json", [0, 1, 2, 3])
    assert message in str(err.value) and "/etc/kvcompute/cpu_manager.json" in str(err.value)


def test_pool_defaults_to_what_is_not_reserved():
    assert cpu_pool.parse_pools('{"reserved": "0"}', "f", [0, 1, 2]) == ([0], [1, 2])


def test_offline_cpus_are_left_out(tmp_path):
    (tmp_path / "sys/devices/system/cpu").mkdir(parents=True)
    (tmp_path / "sys/devices/system/cpu/online").write_text("0-2\n")
    host = cpu_pool.read_host(caps_of((1, 1, 4, 1)), HostFS(str(tmp_path)))
    assert host.online == [0, 1, 2] and host.pool == [0, 1, 2]


def test_second_holder_waits_then_gives_up(tmp_path):
    fs = HostFS(str(tmp_path))
    with host_lock(fs.root):
        assert os.path.exists(fs.real("/" + LOCK_PATH))
        other = textwrap.dedent("""
            import sys
            from ansible_collections.kvcompute.libvirt.plugins.module_utils.converge.host_lock import host_lock
            from ansible_collections.kvcompute.libvirt.plugins.module_utils.virt import VirtError
            try:
                with host_lock(sys.argv[1], timeout=0.5):
                    print("got it")
            except VirtError as err:
                print(err)
        """)
        out = subprocess.run([sys.executable, "-c", other, str(tmp_path)], capture_output=True, text=True,
                             env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)), check=True).stdout
        assert "another kv_vm run has held %s" % fs.real("/" + LOCK_PATH) in out
    with host_lock(fs.root, timeout=0.5):  # released: taken at once
        pass
    with pytest.raises(VirtError):
        with host_lock(fs.root):
            with host_lock(fs.root, timeout=0.2):  # a second descriptor in the same process waits too
                pass
