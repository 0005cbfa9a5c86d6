# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kv_hugepages on this machine's real kernel: 2Mi pages on NUMA node 0, then the old count back.

Other users of this machine may change the count at the same time, so the test
only adds a few pages on top of what it finds and takes exactly those away again.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

NODE0 = Path("/sys/devices/system/node/node0/hugepages/hugepages-2048kB")
EXTRA = 4


def nr():
    return int((NODE0 / "nr_hugepages").read_text())


@pytest.fixture
def added():
    """Pages this test added on node 0, taken away again at teardown.

    Relative, not a saved count: another stream may change the count meanwhile.
    """
    state = {"pages": 0}
    yield state
    if state["pages"]:
        (NODE0 / "nr_hugepages").write_text("%d\n" % max(nr() - state["pages"], 0))


def test_reserve_real_2mi_pages_and_read_back(run_module, added):
    fstab = Path("/etc/fstab").read_bytes()
    assert b"/dev/hugepages" in fstab, "run scripts/testbed.sh: it mounts hugetlbfs on /dev/hugepages"
    start = nr()
    check = run_module("kv_hugepages", {"size": "2Mi", "nodes": {"0": start + EXTRA}}, check=True)
    assert not check.get("failed"), check.get("msg")
    assert check["changed"] and check["pages"][0]["granted"] is None

    start = nr()
    want = start + EXTRA
    args = {"size": "2Mi", "nodes": {"0": want}}
    result = run_module("kv_hugepages", args)
    assert not result.get("failed"), result.get("msg")
    added["pages"] = EXTRA
    page = result["pages"][0]
    assert (page["node"], page["size"], page["requested"]) == ("0", "2Mi", want)
    assert page["granted"] == want  # read back from the kernel (a few MiB; TESTBED: works)
    assert result["mount"]["mounted"] and result["mount"]["path"] == "/dev/hugepages"
    assert not result["libvirtd_restart_required"] and result["files"] == []
    assert Path("/etc/fstab").read_bytes() == fstab

    again = run_module("kv_hugepages", args)
    assert not again["changed"] and again["pages"][0]["granted"] == want, again

    back = run_module("kv_hugepages", {"size": "2Mi", "nodes": {"0": nr() - EXTRA}})
    assert back["changed"] and back["pages"][0]["granted"] == back["pages"][0]["requested"]
    added["pages"] = 0


def test_bad_node_fails_before_any_change(run_module):
    start = nr()
    result = run_module("kv_hugepages", {"size": "2Mi", "nodes": {"0": start + 1, "7": 1}})
    assert result["failed"]
    assert "nodes: '7' is not a NUMA node of this host (nodes: 0)" in result["msg"]
    assert nr() == start
