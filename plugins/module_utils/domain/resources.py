# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""resources.requests/limits -> <cputune> shares/period/quota and <memtune>.

Kubernetes' own conversion: shares = millicores × 1024 / 1000, quota = millicores
× period / 1000 with a 100 ms period.  Shares step by 1.024 per millicore, so
rounding back recovers the exact request.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import kib, sub, text, to_bytes, to_int

PERIOD = 100000
MIN_SHARES, MAX_SHARES = 2, 262144


def shares(milli):
    return min(MAX_SHARES, max(MIN_SHARES, int(round(milli * 1024 / 1000.0))))


def quota(milli):
    return max(1000, milli * PERIOD // 1000)


def scheduler_params(res):
    """What setSchedulerParametersFlags gets for a live change (libvirt's defaults when unset)."""
    params = {"cpu_shares": shares(res.requests_cpu) if res.requests_cpu else 1024}
    params["vcpu_period"] = PERIOD
    params["vcpu_quota"] = quota(res.limits_cpu) if res.limits_cpu else -1
    return params


def live_params(root):
    """The tuning a running domain has, from its live XML, in scheduler_params/memory_params terms."""
    unlimited = 9007199254740991
    share = to_int(text(root, "cputune/shares"))
    quota_us = to_int(text(root, "cputune/quota"))
    soft, hard = to_bytes(root.find("memtune/soft_limit")), to_bytes(root.find("memtune/hard_limit"))
    return {"cpu_shares": share or 1024, "vcpu_quota": quota_us if quota_us and quota_us > 0 else -1,
            "soft_limit": soft // 1024 if soft else unlimited, "hard_limit": hard // 1024 if hard else unlimited}


def wanted_params(res):
    params = scheduler_params(res)
    params.update(memory_params(res))
    params.pop("vcpu_period")
    return params


def memory_params(res):
    unlimited = 9007199254740991  # VIR_DOMAIN_MEMORY_PARAM_UNLIMITED, in KiB
    return {"soft_limit": kib(res.requests_memory) if res.requests_memory else unlimited,
            "hard_limit": kib(res.limits_memory) if res.limits_memory else unlimited}


def render(root, spec, plan):
    res = spec.resources
    if res.requests_cpu or res.limits_cpu:
        tune = sub(root, "cputune")
        if res.requests_cpu:
            sub(tune, "shares", shares(res.requests_cpu))
        if res.limits_cpu:
            sub(tune, "period", PERIOD)
            sub(tune, "quota", quota(res.limits_cpu))
    if res.requests_memory or res.limits_memory:
        tune = sub(root, "memtune")
        if res.limits_memory:
            sub(tune, "hard_limit", kib(res.limits_memory), unit="KiB")
        if res.requests_memory:
            sub(tune, "soft_limit", kib(res.requests_memory), unit="KiB")


def parse(root, out):
    requests, limits = {}, {}
    share = to_int(text(root, "cputune/shares"))
    if share:
        requests["cpu"] = "%dm" % int(round(share * 1000 / 1024.0))
    period, quota_us = to_int(text(root, "cputune/period")), to_int(text(root, "cputune/quota"))
    if quota_us and quota_us > 0:
        limits["cpu"] = "%dm" % (quota_us * 1000 // (period or PERIOD))
    soft, hard = to_bytes(root.find("memtune/soft_limit")), to_bytes(root.find("memtune/hard_limit"))
    if soft:
        requests["memory"] = soft
    if hard:
        limits["memory"] = hard
    out["resources"] = {"requests": requests, "limits": limits}
