# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CPU pools on a fake /sys and /etc tree."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.kvcompute.libvirt.plugins.module_utils.host import cpu_manager as cm
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.hostfs import HostFS
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.topology import parse_cpuset


@pytest.fixture
def fs(tmp_path):
    (tmp_path / "sys/devices/system/cpu").mkdir(parents=True)
    (tmp_path / "sys/devices/system/cpu/online").write_text("0-3\n")
    return HostFS(str(tmp_path))


@given(st.sets(st.integers(min_value=0, max_value=300)))
def test_format_is_the_inverse_of_parse(cpus):
    assert parse_cpuset(cm.format_cpuset(cpus)) == sorted(cpus)


def test_format_examples():
    assert cm.format_cpuset([8, 0, 1, 2, 5, 7]) == "0-2,5,7-8"
    assert cm.format_cpuset([]) == ""


def test_default_pool_is_the_rest_and_file_is_written_once(fs, tmp_path):
    result = cm.apply(fs, "0")
    assert (result["reserved"], result["pool"], result["online"], result["changed"]) == ("0", "1-3", "0-3", True)
    path = tmp_path / "etc/kvcompute/cpu_manager.json"
    assert json.loads(path.read_text()) == {"reserved": "0", "pool": "1-3"}
    assert path.read_text() == '{\n  "pool": "1-3",\n  "reserved": "0"\n}\n'
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    assert not cm.apply(fs, "0")["changed"]


def test_same_pools_in_another_layout_are_kept(fs, tmp_path):
    (tmp_path / "etc/kvcompute").mkdir(parents=True)
    (tmp_path / "etc/kvcompute/cpu_manager.json").write_text('{"reserved": "0", "pool": "1,2,3"}')
    assert not cm.apply(fs, "0", "1-3")["changed"]
    assert (tmp_path / "etc/kvcompute/cpu_manager.json").read_text() == '{"reserved": "0", "pool": "1,2,3"}'


def test_check_mode_writes_nothing(fs, tmp_path):
    result = cm.apply(fs, "0,1", check_mode=True)
    assert result["changed"] and result["pool"] == "2-3"
    assert result["diff"]["before"] == "" and '"reserved": "0-1"' in result["diff"]["after"]
    assert not (tmp_path / "etc").exists()


@pytest.mark.parametrize("reserved, pool, message", [
    ("4", None, "reserved_cpus: CPU 4 not online (online CPUs: 0-3)"),
    ("0-3", None, "reserved_cpus: reserves every online CPU (0-3)"),
    ("0", "0-1", "pool_cpus: CPU 0 also in reserved_cpus (0); the pools must not overlap"),
    ("0", "1-5", "pool_cpus: CPU 4-5 not online (online CPUs: 0-3)"),
    ("zero", None, "reserved_cpus: 'zero' is not a CPU list"),
    ("3-1", None, "reserved_cpus: range 3-1 goes backwards"),
    ("0", "1,,2", "pool_cpus: '1,,2' is not a CPU list"),
    ("", None, "reserved_cpus: '' is not a CPU list"),
])
def test_errors_name_the_option_and_write_nothing(fs, tmp_path, reserved, pool, message):
    with pytest.raises(cm.CpuPoolError) as err:
        cm.apply(fs, reserved, pool)
    assert message in str(err.value)
    assert not (tmp_path / "etc").exists()


def test_all_problems_at_once(fs):
    with pytest.raises(cm.CpuPoolError) as err:
        cm.apply(fs, "7", "0-9")
    assert str(err.value) == ("reserved_cpus: CPU 7 not online (online CPUs: 0-3); "
                              "pool_cpus: CPU 4-9 not online (online CPUs: 0-3); "
                              "pool_cpus: CPU 7 also in reserved_cpus (7); the pools must not overlap")


def test_read_pools(fs, tmp_path):
    assert cm.read_pools(fs) is None
    assert cm.pools(fs) == ([], [0, 1, 2, 3])  # no file: the whole host is the pool
    cm.apply(fs, "0", "2-3")
    assert cm.read_pools(fs) == ([0], [2, 3]) == cm.pools(fs)
