# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the watcher of a running migration does next: pure decisions on libvirt's job stats.

- Downtime ramp (Nova's idea): start at max_downtime_ms / steps and raise it in equal steps,
  one every downtime_delay seconds per GiB to move, up to max_downtime_ms. A guest that can
  converge does so with a small pause; one that cannot gets a longer one.
- completion timeout (KubeVirt): completion_timeout_per_gib × GiB to move. When it passes,
  switch to post-copy if allowed, else abort.
- progress timeout (KubeVirt): abort when the data remaining has not reached a new low for
  progress_timeout seconds.
- Not converging (post-copy allowed): a pre-copy pass that ends with ≥ 90 % of what the pass
  before it ended with → switch to post-copy now rather than at the timeout.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

GIB = 2 ** 30
# A pass "converges" when it leaves less than this share of the previous pass's remainder.
CONVERGING_RATIO = 0.9


def downtime_steps(max_ms, steps, delay_per_gib, data_gib):
    """[(after_seconds, downtime_ms)], steps + 1 entries, the last one max_ms."""
    delay = delay_per_gib * data_gib
    base = max_ms / float(steps)
    rise = (max_ms - base) / float(steps)
    return [(round(delay * i, 3), int(round(base + rise * i))) for i in range(steps + 1)]


def completion_timeout(per_gib, data_gib):
    return per_gib * data_gib


class Watch:
    """Fed job stats every poll (``step``); answers a list of actions.

    Actions: ('downtime', ms), ('postcopy', reason), ('abort', reason). Once an abort or the
    post-copy switch is asked, the timeouts stop (post-copy cannot be undone, only finished).
    """

    def __init__(self, policy, data_bytes, ramp=True):
        self.policy = policy
        self.data_gib = max(data_bytes, 1) / float(GIB)
        # Without the ramp (peer2peer: the controller may die, and libvirt keeps the last limit set),
        # the whole max_downtime_ms from the start, so the source libvirtd can finish on its own.
        self.steps = downtime_steps(policy["max_downtime_ms"], policy["downtime_steps"],
                                    policy["downtime_delay"], self.data_gib) if ramp else [
                                        (0, policy["max_downtime_ms"])]
        self.timeout = completion_timeout(policy["completion_timeout_per_gib"], self.data_gib)
        self.downtime = None
        self.lowest = None
        self.last_progress = 0.0
        self.iteration = None
        self.pass_ends = []  # data remaining when each pre-copy pass ended
        self.postcopy = False
        self.aborting = None

    def step(self, elapsed, stats):
        actions = []
        if self.aborting:
            return actions
        wanted = None
        for after, ms in self.steps:
            if elapsed >= after:
                wanted = ms
        if wanted is not None and wanted != self.downtime and not self.postcopy:
            self.downtime = wanted
            actions.append(("downtime", wanted))
        remaining = stats.get("data_remaining")
        if remaining is not None:
            if self.lowest is None or remaining < self.lowest:
                self.lowest, self.last_progress = remaining, elapsed
        iteration = stats.get("memory_iteration")
        if iteration is not None and iteration != self.iteration:
            if self.iteration is not None and remaining is not None:
                self.pass_ends.append(remaining)
            self.iteration = iteration
        if self.postcopy:
            return actions
        allow_post_copy = self.policy["allow_post_copy"]
        if elapsed > self.timeout:
            if allow_post_copy:
                return actions + [self._switch("completion timeout %ds passed" % self.timeout)]
            return actions + [self._abort("not completed within its completion timeout of %ds (%d s/GiB × %.2f GiB)"
                                          % (self.timeout, self.policy["completion_timeout_per_gib"],
                                             self.data_gib))]
        if allow_post_copy and len(self.pass_ends) >= 2 and self.pass_ends[-1] >= CONVERGING_RATIO * self.pass_ends[-2]:
            return actions + [self._switch("not converging: pass %d left %d bytes, the pass before %d"
                                           % (self.iteration - 1, self.pass_ends[-1], self.pass_ends[-2]))]
        if elapsed - self.last_progress > self.policy["progress_timeout"]:
            return actions + [self._abort("no progress for %ds (progress timeout)" % self.policy["progress_timeout"])]
        return actions

    def _switch(self, reason):
        self.postcopy = True
        return ("postcopy", reason)

    def _abort(self, reason):
        self.aborting = reason
        return ("abort", reason)

    def switch_failed(self):
        """libvirt refused the post-copy switch: fall back to the abort rules."""
        self.postcopy = False
        self.policy = dict(self.policy, allow_post_copy=False)
