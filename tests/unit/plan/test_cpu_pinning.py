# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dedicated-CPU allocator and NUMA fitter on synthetic hosts, checked by an independent checker.

The checker below knows cores from (socket_id, core_id) of the capabilities XML and cells from its
<cell> elements; it never calls the allocator's code.  Properties: no overlap (with other VMs and
between VMs placed one after another), nothing outside the pool, NUMA-aligned whenever an aligned fit
exists, thread policies honoured, refused only when no fit exists, and no cell over its free pages.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import os
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.kvcompute.libvirt.plugins.module_utils.plan.numa_fit import consume, place
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.errors import SpecError
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.options import parse_options

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from synthetic_hosts import SHAPES, make_host  # noqa: E402

MIB = 2 ** 20


# --- the independent checker -----------------------------------------------------------------------


class Checker:
    def __init__(self, caps, pool):
        self.core_of = dict((c["id"], (c["socket"], c["core"])) for c in caps["cpus"])
        self.cell_of = dict((c["id"], c["cell"]) for c in caps["cpus"])
        self.threads = {}
        for cpu, core in self.core_of.items():
            self.threads.setdefault(core, set()).add(cpu)
        self.cells = sorted(set(self.cell_of.values()))
        self.pool = set(pool)
        self.smt = max(len(t) for t in self.threads.values()) > 1

    def free(self, taken, cell=None):
        return set(c for c in self.pool if c not in taken and (cell is None or self.cell_of[c] == cell))

    def room(self, free, policy):
        """How many CPUs a VM can get from `free` under policy (Nova's meanings)."""
        if policy == "isolate":
            return sum(1 for threads in self.threads.values() if threads <= free)
        if policy == "require":
            if not self.smt:
                return 0
            return sum(len(t & free) for t in self.threads.values() if len(t & free) >= 2)
        return len(free)

    def aligned_fit_exists(self, taken, need, policy):
        return any(self.room(self.free(taken, cell), policy) >= need for cell in self.cells)

    def any_fit_exists(self, taken, need, policy):
        return sum(self.room(self.free(taken, cell), policy) for cell in self.cells) >= need


def request(vcpus, policy, emulator, numa=None, memory="64Mi", pages=False):
    cpu = {"cores": vcpus, "dedicated_cpu_placement": True, "thread_policy": policy,
           "isolate_emulator_thread": emulator}
    if numa:
        cpu["numa"] = numa
    mem = {"guest": memory}
    if pages:
        mem["hugepages"] = {"page_size": "2Mi"}
    return parse_options({"name": "vm", "cpu": cpu, "memory": mem})


def check_placement(checker, placement, spec, taken, before_free):
    cpu = spec.cpu
    pinned = placement.vcpus + ([placement.emulator] if placement.emulator is not None else [])
    assert len(placement.vcpus) == cpu.vcpus
    assert (placement.emulator is not None) == cpu.isolate_emulator_thread
    assert len(set(pinned)) == len(pinned), "a CPU given twice"
    held = set(placement.exclusive)
    assert held <= checker.pool, "outside the pool"
    assert not held & set(taken), "overlaps another VM"
    policy = cpu.thread_policy
    cores_used = [checker.core_of[c] for c in pinned]
    if policy == "isolate":
        assert len(set(cores_used)) == len(cores_used), "isolate: two CPUs on one core"
        for core in cores_used:
            assert checker.threads[core] <= held, "isolate: a sibling thread left to others"
    if policy == "require":
        assert checker.smt
        assert all(len(checker.threads[core]) >= 2 for core in cores_used)
    if policy in ("prefer", "require"):
        partial = [core for core in set(cores_used)
                   if (checker.threads[core] & before_free) - set(pinned)]
        assert len(partial) <= 1, "siblings not packed: %s" % partial
        if len(set(checker.cell_of[c] for c in pinned)) == 1:
            cell = checker.cell_of[pinned[0]]
            least = 2 if policy == "require" else 1
            sizes = sorted((len(t & before_free) for t in checker.threads.values()
                            if checker.cell_of[min(t)] == cell and len(t & before_free) >= least), reverse=True)
            fewest = next(k for k in range(1, len(sizes) + 1) if sum(sizes[:k]) >= len(pinned))
            assert len(set(cores_used)) == fewest, "%d cores used where %d hold them" % (len(set(cores_used)), fewest)
    return pinned


policies = st.sampled_from(["prefer", "isolate", "require"])


@st.composite
def scenario(draw):
    shape = draw(st.sampled_from(SHAPES))
    caps, host = make_host(shape)
    online = host.online
    reserved = draw(st.lists(st.sampled_from(online), max_size=2, unique=True))
    pool = [c for c in online if c not in reserved]
    taken = draw(st.lists(st.sampled_from(pool), max_size=len(pool), unique=True)) if pool else []
    return shape, reserved, dict((c, "other") for c in taken)


@settings(max_examples=300, deadline=None)
@given(scenario(), st.integers(1, 6), policies, st.booleans())
def test_one_vm_fits_or_is_refused_correctly(scen, vcpus, policy, emulator):
    shape, reserved, taken = scen
    caps, host = make_host(shape, reserved=reserved)
    checker = Checker(caps, host.pool)
    spec = request(vcpus, policy, emulator)
    need = vcpus + (1 if emulator else 0)
    aligned = checker.aligned_fit_exists(taken, need, policy)
    possible = checker.any_fit_exists(taken, need, policy)
    try:
        placement = place(spec, host, taken)
    except SpecError as err:
        assert not aligned and (not possible or len(checker.cells) == 1), err
        assert err.fields == ["cpu.dedicated_cpu_placement"]
        assert "need %d dedicated CPU" % need in str(err)
        return
    assert possible
    pinned = check_placement(checker, placement, spec, taken, checker.free(taken))
    if aligned:
        assert len(set(checker.cell_of[c] for c in pinned)) == 1, "not NUMA-aligned though a cell fits"
        assert placement.memory_cells == [checker.cell_of[pinned[0]]]


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(SHAPES), st.lists(st.tuples(st.integers(1, 4), policies, st.booleans()), min_size=1,
                                         max_size=8))
def test_vms_placed_one_after_another_never_overlap(shape, asks):
    caps, host = make_host(shape, reserved=[0])
    checker = Checker(caps, host.pool)
    taken = {}
    for i, (vcpus, policy, emulator) in enumerate(asks):
        spec = request(vcpus, policy, emulator)
        try:
            placement = place(spec, host, taken)
        except SpecError:
            assert not checker.any_fit_exists(taken, vcpus + emulator, policy) or len(checker.cells) == 1
            continue
        check_placement(checker, placement, spec, taken, checker.free(taken))
        for cpu in placement.exclusive:
            taken[cpu] = "vm%d" % i
    assert set(taken) <= checker.pool


@settings(max_examples=150, deadline=None)
@given(st.sampled_from([s for s in SHAPES if s[0] * s[1] > 1]), st.lists(
    st.tuples(st.integers(1, 2), st.integers(1, 3), st.booleans()), min_size=1, max_size=6),
    st.lists(st.integers(0, 96), min_size=4, max_size=4))
def test_hugepages_never_put_a_cell_over_its_free_pages(shape, asks, pages):
    caps, host = make_host(shape, pages_2m=pages[:shape[0] * shape[1]])
    start = copy.deepcopy(host.free_pages)
    used = dict((cell, 0) for cell in start)
    taken = {}
    for i, (cells, vcpus, dedicated) in enumerate(asks):
        cpus = cells * vcpus
        numa = {"cells": [{"id": c, "cpus": list(range(c * vcpus, (c + 1) * vcpus)), "memory": "32Mi"}
                          for c in range(cells)]}
        opts = {"name": "vm%d" % i, "cpu": {"cores": cpus, "dedicated_cpu_placement": dedicated, "numa": numa},
                "memory": {"guest": "%dMi" % (32 * cells), "hugepages": {"page_size": "2Mi"}}}
        spec = parse_options(opts)
        try:
            placement = place(spec, host, taken)
        except SpecError as err:
            assert err.fields[0] in ("cpu.numa.cells", "memory.hugepages") or err.fields[0].startswith(
                "cpu.numa.cells["), err
            continue
        hosts = [c["host_cell"] for c in placement.guest_cells]
        assert len(set(hosts)) == len(hosts) == cells, "two guest cells on one host cell"
        for cell in placement.guest_cells:
            used[cell["host_cell"]] += cell["memory"] // (2 * MIB)
            if dedicated:
                assert set(checker_cell(caps, placement.vcpus[v]) for v in cell["cpus"]) == {cell["host_cell"]}
        consume(host, spec, placement)
        for cpu in placement.exclusive:
            taken[cpu] = "vm%d" % i
    for cell, count in used.items():
        assert count <= start[cell].get(2048, 0), "cell %d over its free pages" % cell


def checker_cell(caps, cpu):
    return dict((c["id"], c["cell"]) for c in caps["cpus"])[cpu]


# --- examples that read as documentation -----------------------------------------------------------


def test_error_says_what_was_needed_and_what_is_free():
    caps, host = make_host((1, 1, 2, 1), reserved=[0])
    with pytest.raises(SpecError) as err:
        place(request(2, "prefer", False), host, {})
    assert str(err.value) == ("cpu.dedicated_cpu_placement: need 2 dedicated CPUs in one NUMA cell; "
                              "cell 0 has 1 free (CPU 1); the pool is 1")
    with pytest.raises(SpecError) as err:
        place(request(1, "prefer", False), host, {1: "db1"})
    assert "cell 0 has 0 free; the pool is 1; held by db1 (1)" in str(err.value)


def test_isolate_holds_the_sibling_and_require_needs_smt():
    caps, host = make_host((1, 1, 4, 2))  # CPU n and n+4 are siblings
    placement = place(request(2, "isolate", False), host, {})
    assert placement.vcpus == [0, 1] and placement.held == [4, 5]
    _caps, flat = make_host((1, 2, 3, 1))
    with pytest.raises(SpecError, match="thread_policy require"):
        place(request(1, "require", False), flat, {})


def test_prefer_packs_siblings_and_spreads_only_without_a_fit():
    caps, host = make_host((2, 1, 2, 2))  # cell 0: 0,1,4,5; cell 1: 2,3,6,7; siblings n, n+4
    assert sorted(place(request(2, "prefer", False), host, {}).vcpus) in ([0, 4], [1, 5])
    spread = place(request(6, "prefer", False), host, {0: "a", 2: "b"})
    assert len(set(host.cell_of(c) for c in spread.vcpus)) == 2 and spread.memory_cells == []


def test_passthrough_mirrors_the_host_cells():
    caps, host = make_host((2, 1, 2, 1))  # cell 0: 0,1; cell 1: 2,3
    spec = request(3, "prefer", False, numa={"guest_mapping_passthrough": True}, memory="96Mi")
    placement = place(spec, host, {})
    assert [c["host_cell"] for c in placement.guest_cells] == [0, 1]
    assert sum(c["memory"] for c in placement.guest_cells) == 96 * MIB
    assert sorted(v for c in placement.guest_cells for v in c["cpus"]) == [0, 1, 2]


def test_keeps_its_cpus_on_a_rerun_and_moves_when_they_are_gone():
    caps, host = make_host((1, 1, 4, 1))
    first = place(request(2, "prefer", False), host, {})
    again = place(request(2, "prefer", False), host, {}, keep=first)
    assert again.vcpus == first.vcpus
    moved = place(request(2, "prefer", False), host, {first.vcpus[0]: "thief"}, keep=first)
    assert first.vcpus[0] not in moved.vcpus


def test_hugepages_short_is_refused_with_counts():
    caps, host = make_host((1, 1, 2, 1), pages_2m=[10])
    with pytest.raises(SpecError) as err:
        place(parse_options({"name": "a", "memory": {"guest": "64Mi", "hugepages": {"page_size": "2Mi"}}}), host, {})
    assert str(err.value) == ("memory.hugepages: need 32 free 2Mi pages (64Mi); the host has 10 free (cell 0: 10)")
    with pytest.raises(SpecError) as err:
        place(request(1, "prefer", False, memory="64Mi", pages=True), host, {})
    assert "need 32 free 2Mi pages" in str(err.value)


def test_shared_vms_float_on_the_pool_minus_exclusive():
    caps, host = make_host((1, 1, 4, 1), reserved=[0])
    shared = parse_options({"name": "s"})
    assert place(shared, host, {}).shared == [1, 2, 3]
    assert place(shared, host, {2: "d"}).shared == [1, 3]
    assert place(shared, host, {1: "d", 2: "d", 3: "d"}).shared == [0]  # the pool is all taken: reserved CPUs
