# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""KubeVirt's CPU overcommit: a shared VM without a CPU request requests vCPUs ÷ cpu_allocation_ratio.

kv_vm resolves the ratio into resources.requests.cpu, so the domain gets
<cputune><shares> in proportion to the request and reads back as that request;
kv_place counts the same number when it places the VM.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# The CPU requests <cputune><shares> holds exactly (2..262144 shares).
MIN_MILLI, MAX_MILLI = 2, 256000
MAX_RATIO = MAX_MILLI  # one vCPU then still requests the smallest share


def ratio_request(vcpus, ratio):
    """Millicores for vcpus at this ratio, rounded up like a Kubernetes request."""
    return min(MAX_MILLI, max(MIN_MILLI, -(-vcpus * 1000 // ratio)))


def apply_ratio(spec, ratio):
    """Fill resources.requests.cpu from the ratio where KubeVirt would (no request, shared CPUs)."""
    res = spec.resources
    if ratio is None or res.requests_cpu is not None or spec.cpu.dedicated_cpu_placement:  # dedicated: whole CPUs
        return
    res.requests_cpu = ratio_request(spec.cpu.vcpus, ratio)
    if res.limits_cpu is not None:
        res.requests_cpu = min(res.requests_cpu, res.limits_cpu)
