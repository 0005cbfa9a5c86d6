# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One inventory host (kv_host_info facts + kv_node_* vars) -> model.Host.

Allocatable CPU is the CPU manager pool (kv_host_info's `cpu_pools.pool`; every
CPU when the facts have none); ordinary memory is the NUMA cells' memory
less the memory set aside as hugepages.  Every host gets the label
kubernetes.io/hostname=<inventory name>, so `topology_key` can name it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.topology import parse_cpuset
from ansible_collections.kvcompute.libvirt.plugins.module_utils.placement import model as m
from ansible_collections.kvcompute.libvirt.plugins.module_utils.placement.requests import label_text, read_labels
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.fields import Fields


def _pool(facts):
    pool = (facts.get("cpu_pools") or {}).get("pool")
    if isinstance(pool, list):
        return set(int(c) for c in pool)
    if isinstance(pool, str) and pool.strip():
        return set(parse_cpuset(pool))
    return None


def taint_mapping(text):
    """Kubernetes' taint text 'key=value:Effect' (or 'key:Effect') as {key, value, effect}; None if it is not."""
    head, sep, effect = text.rpartition(":")
    if not sep:
        return None
    key, _sep, value = head.partition("=")
    return {"key": key, "value": value, "effect": effect}


def read_taint(f):
    """A taint as a mapping {key, value, effect}."""
    key = f.text("key")
    if not key:
        f.fail("key", "is required")
    effect = f.text("effect", "NoSchedule", choices=m.TAINT_EFFECTS)
    value = label_text(f.data.get("value", ""))
    f.has("value")
    if value is None:
        f.fail("value", "must be a string")
    f.done()
    return m.Taint(key or "", value or "", effect)


def read_host(name, facts, labels=None, taints=None, devices=None, facts_var="kv_host"):
    """(model.Host, problems) for one inventory host; problems are named <host>.<variable>."""
    problems = []
    where = name
    facts = facts or {}
    if isinstance(facts, dict) and isinstance(facts.get("host"), dict):
        facts = facts["host"]  # a registered kv_host_info result
    cpu = facts.get("cpu") if isinstance(facts, dict) else None
    if not isinstance(cpu, dict) or not isinstance(cpu.get("numa_cells"), list):
        problems.append(("%s.%s" % (name, facts_var),
                         "holds no kv_host_info facts (cpu.numa_cells); register kv_host_info's host there first"))
        return None, problems
    pool = _pool(facts)
    cells, memory, total_cpus = [], 0, 0
    for cell in cpu["numa_cells"]:
        cpus = [c for c in cell.get("cpus", []) if pool is None or c in pool]
        pages = dict((int(size), int(c.get("total", 0))) for size, c in (cell.get("hugepages") or {}).items())
        cells.append(m.Cell(id=int(cell["id"]), cpus=len(cpus), pages=pages))
        total_cpus += len(cpus)
        memory += int(cell.get("memory_bytes", 0)) - sum(size * 1024 * n for size, n in pages.items())
    host_labels = {m.HOSTNAME_LABEL: name}
    lf = Fields(where, {"kv_node_labels": labels}, problems)
    host_labels.update(read_labels(lf, "kv_node_labels"))
    parsed_taints = []
    if taints is not None and not isinstance(taints, list):
        problems.append(("%s.kv_node_taints" % where, "must be a list of taints"))
        taints = []
    for index, taint in enumerate(taints or []):
        where_taint = "%s.kv_node_taints[%d]" % (where, index)
        if isinstance(taint, str):
            text, taint = taint, taint_mapping(taint)
            if taint is None:
                problems.append((where_taint, "%r is not key=value:Effect" % text))
                continue
        t = read_taint(Fields(where_taint, taint, problems))
        if t is not None:
            parsed_taints.append(t)
    counts = {}
    if devices is not None and not isinstance(devices, dict):
        problems.append(("%s.kv_node_devices" % where, "must map resource names to counts"))
        devices = {}
    df = Fields("%s.kv_node_devices" % where, devices or {}, problems)
    for resource in sorted(devices or {}):
        counts[resource] = df.integer(resource, 0, minimum=0)
    host = m.Host(name=name, labels=host_labels, taints=tuple(parsed_taints), cpu_milli=total_cpus * 1000,
                  memory=max(0, memory), cells=tuple(cells), devices=counts)
    return host, problems
