# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The watcher's decisions: downtime ramp, completion and progress timeouts, post-copy switch."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.migrate.policy import GIB, Watch, downtime_steps
from ansible_collections.kvcompute.libvirt.plugins.module_utils.migrate.request import DEFAULTS


def policy(**kw):
    out = dict(DEFAULTS, bandwidth_mib=0)
    out.update(kw)
    return out


def test_downtime_ramp_rises_in_equal_steps_to_the_maximum():
    steps = downtime_steps(400, 10, 30, 3)
    assert steps[0] == (0, 40) and steps[-1] == (900, 400) and len(steps) == 11
    assert [ms for _t, ms in steps] == sorted(ms for _t, ms in steps)
    assert steps[1] == (90, 76)


def test_watch_sets_each_downtime_step_once():
    assert Watch(policy(max_downtime_ms=100), GIB, ramp=False).step(0, {}) == [("downtime", 100)]
    watch = Watch(policy(max_downtime_ms=100, downtime_steps=2, downtime_delay=10), GIB)
    assert watch.step(0.5, {"data_remaining": 100, "memory_iteration": 1}) == [("downtime", 50)]
    assert watch.step(1.0, {"data_remaining": 90, "memory_iteration": 1}) == []
    assert watch.step(10.5, {"data_remaining": 80, "memory_iteration": 1}) == [("downtime", 75)]


def test_completion_timeout_aborts_without_post_copy():
    watch = Watch(policy(completion_timeout_per_gib=10), GIB // 4)  # 2.5 s
    watch.step(0, {"data_remaining": 100})
    actions = watch.step(2.6, {"data_remaining": 50})
    assert actions[-1][0] == "abort" and "completion timeout of 2s" in actions[-1][1]
    assert watch.step(3, {"data_remaining": 40}) == []  # asked once


def test_completion_timeout_switches_to_post_copy_when_allowed():
    watch = Watch(policy(completion_timeout_per_gib=10, allow_post_copy=True), GIB)
    watch.step(0, {"data_remaining": 100, "memory_iteration": 1})
    assert watch.step(11, {"data_remaining": 90, "memory_iteration": 1})[-1][0] == "postcopy"
    assert watch.step(500, {"data_remaining": 90, "memory_iteration": 1}) == []  # no abort after the switch


def test_post_copy_when_a_pass_does_not_shrink_the_rest():
    watch = Watch(policy(allow_post_copy=True), GIB)
    watch.step(0, {"data_remaining": 1000, "memory_iteration": 1})
    assert not any(a == "postcopy" for a, _r in watch.step(1, {"data_remaining": 500, "memory_iteration": 2}))
    assert not any(a == "postcopy" for a, _r in watch.step(2, {"data_remaining": 200, "memory_iteration": 3}))
    actions = watch.step(3, {"data_remaining": 190, "memory_iteration": 4})
    assert actions[-1][0] == "postcopy" and "not converging" in actions[-1][1]


def test_converging_passes_do_not_switch():
    watch = Watch(policy(allow_post_copy=True), GIB)
    for i, rest in enumerate((1000, 500, 200, 50, 10), start=1):
        assert all(a == "downtime" for a, _r in watch.step(i, {"data_remaining": rest, "memory_iteration": i}))


def test_progress_timeout_aborts_a_stalled_migration():
    watch = Watch(policy(progress_timeout=5, completion_timeout_per_gib=1000), GIB)
    watch.step(0, {"data_remaining": 100})
    assert watch.step(4, {"data_remaining": 120}) == []
    actions = watch.step(6, {"data_remaining": 110})
    assert actions[-1] == ("abort", "no progress for 5s (progress timeout)")


def test_failed_switch_falls_back_to_abort():
    watch = Watch(policy(completion_timeout_per_gib=1, allow_post_copy=True), GIB)
    assert watch.step(2, {"data_remaining": 9})[-1][0] == "postcopy"
    watch.switch_failed()
    assert watch.step(3, {"data_remaining": 9})[-1][0] == "abort"
