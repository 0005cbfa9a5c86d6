# -*- coding: utf-8 -*-
"""An independent check of a kv_place result against its input.

Written from the constraint definitions in docs/placement.md, not from the
scheduler: it reads the same raw input (hostvars, VM items), recomputes every
request and capacity, and checks each placement.  It imports nothing from
plugins/module_utils/placement (only the Kubernetes quantity parser).

check(...) returns a list of violations (empty: the result is valid).
"""

from __future__ import annotations

import math
from collections import defaultdict

from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.quantity import parse_bytes, parse_cpu

PAGE_KIB = {"2Mi": 2048, "1Gi": 1048576}
REQUIRED = "required_during_scheduling_ignored_during_execution"


def _cpuset(text):
    out = set()
    for part in str(text).split(","):
        part = part.strip()
        if "-" in part:
            lo, hi = part.split("-")
            out.update(range(int(lo), int(hi) + 1))
        elif part:
            out.add(int(part))
    return out


def _text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def host_view(name, hv, facts_var="kv_host"):
    facts = hv[facts_var]
    facts = facts.get("host", facts)
    pool = (facts.get("cpu_pools") or {}).get("pool")
    pool = None if pool is None else (set(pool) if isinstance(pool, list) else _cpuset(pool))
    cells, memory = {}, 0
    for cell in facts["cpu"]["numa_cells"]:
        cpus = [c for c in cell["cpus"] if pool is None or c in pool]
        pages = {int(k): int(v["total"]) for k, v in (cell.get("hugepages") or {}).items()}
        cells[int(cell["id"])] = {"cpus": len(cpus), "pages": pages}
        memory += cell["memory_bytes"] - sum(k * 1024 * n for k, n in pages.items())
    labels = {"kubernetes.io/hostname": name}
    labels.update({str(k): _text(v) for k, v in (hv.get("kv_node_labels") or {}).items()})
    taints = []
    for t in hv.get("kv_node_taints") or []:
        if isinstance(t, str):
            head, effect = t.rsplit(":", 1)
            key, value = head.split("=", 1) if "=" in head else (head, "")
            t = {"key": key, "value": value, "effect": effect}
        taints.append({"key": t["key"], "value": _text(t.get("value", "")), "effect": t.get("effect", "NoSchedule")})
    return {"cpu": 1000 * sum(c["cpus"] for c in cells.values()), "memory": memory, "cells": cells,
            "labels": labels, "taints": taints, "devices": dict(hv.get("kv_node_devices") or {})}


def vm_needs(item, ratio, overcommit):
    cpu, mem = item.get("cpu") or {}, item.get("memory") or {}
    requests = (item.get("resources") or {}).get("requests") or {}
    ratio = item.get("cpu_allocation_ratio", ratio)
    vcpus = cpu.get("sockets", 1) * cpu.get("cores", 1) * cpu.get("threads", 1)
    guest = parse_bytes(mem.get("guest", "512Mi"))
    out = {"dedicated": 0, "page": None, "pages": 0, "memory": 0, "devices": defaultdict(int)}
    if cpu.get("dedicated_cpu_placement"):
        out["dedicated"] = vcpus + (1 if cpu.get("isolate_emulator_thread") else 0)
        out["cpu"] = 1000 * out["dedicated"]
    elif "cpu" in requests:
        out["cpu"] = parse_cpu(requests["cpu"])
    else:
        out["cpu"] = min(256000, max(2, math.ceil(vcpus * 1000 / ratio)))
    size = (mem.get("hugepages") or {}).get("page_size")
    if size:
        out["page"] = PAGE_KIB[size]
        out["pages"] = math.ceil(guest / (PAGE_KIB[size] * 1024))
    elif "memory" in requests:
        out["memory"] = parse_bytes(requests["memory"])
    else:
        out["memory"] = math.ceil(guest * 100 / overcommit)
    for dev in (item.get("host_devices") or []) + (item.get("gpus") or []):
        if dev.get("device_name"):
            out["devices"][dev["device_name"]] += 1
    numa = cpu.get("numa") or {}
    out["numa"] = "passthrough" if numa.get("guest_mapping_passthrough") else (
        "cells" if numa.get("cells") and (out["dedicated"] or out["pages"]) else "none")
    if out["numa"] == "cells":
        shares = []
        for cell in numa["cells"]:
            pages = math.ceil(parse_bytes(cell.get("memory", 0)) / (out["page"] * 1024)) if out["page"] else 0
            shares.append([len(cell.get("cpus", [])) if out["dedicated"] else 0, pages])
        if out["dedicated"]:
            shares[0][0] += out["dedicated"] - sum(s[0] for s in shares)
        out["guest_cells"] = sorted(tuple(s) for s in shares)
    return out


def expr_ok(expr, labels, numeric):
    key, op, values = expr["key"], expr["operator"], [_text(v) for v in expr.get("values") or []]
    if op == "In":
        return key in labels and labels[key] in values
    if op == "NotIn":
        return key not in labels or labels[key] not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    assert numeric and op in ("Gt", "Lt"), op
    try:
        have = int(labels[key])
    except (KeyError, ValueError):
        return False
    return have > int(values[0]) if op == "Gt" else have < int(values[0])


def selects(selector, labels):
    return (all(labels.get(k) == _text(v) for k, v in (selector.get("match_labels") or {}).items())
            and all(expr_ok(e, labels, False) for e in selector.get("match_expressions") or []))


def tolerated(taint, tolerations):
    for t in tolerations:
        if t.get("effect") and t["effect"] != taint["effect"]:
            continue
        if t.get("operator", "Equal") == "Exists":
            if not t.get("key") or t["key"] == taint["key"]:
                return True
        elif t.get("key") == taint["key"] and _text(t.get("value", "")) == taint["value"]:
            return True
    return False


def check(hostvars, host_names, vm_items, result, cpu_allocation_ratio=10, memory_overcommit=100,
          facts_var="kv_host", present_var="kv_present_vms"):
    bad = []
    hosts = {n: host_view(n, hostvars[n], facts_var) for n in host_names}
    items = {item["name"]: item for item in vm_items}
    needs = {n: vm_needs(i, cpu_allocation_ratio, memory_overcommit) for n, i in items.items()}
    placed, unplaced = result["placements"], result["unplaced"]
    for name in items:
        if (name in placed) == (name in unplaced):
            bad.append("%s: must be either placed or unplaced" % name)
    for name, host in placed.items():
        if name not in items or host not in hosts:
            bad.append("%s: placed on %s, not a given VM/host" % (name, host))
    if sorted(result["order"]) != sorted(placed):
        bad.append("order does not list exactly the placed VMs")
    if bad:
        return bad

    # Capacity: placed VMs plus the other VMs already on the host.
    load = defaultdict(list)
    for name, host in placed.items():
        load[host].append(needs[name])
    for host in hosts:
        present = hostvars[host].get(present_var) or {}
        for entry in present.get("vms", []) if isinstance(present, dict) else present:
            if entry["name"] not in items:
                load[host].append(vm_needs(dict(entry.get("spec") or {}), cpu_allocation_ratio, memory_overcommit))
    for host, vms in load.items():
        mine = [needs[n] for n, h in placed.items() if h == host]
        if not mine:
            continue
        cap = hosts[host]
        for res, capacity in (("cpu", cap["cpu"]), ("memory", cap["memory"])):
            if any(v[res] for v in mine) and sum(v[res] for v in vms) > capacity:
                bad.append("%s: %s requested %d > allocatable %d" % (host, res, sum(v[res] for v in vms), capacity))
        for dev in set(d for v in mine for d in v["devices"]):
            if sum(v["devices"][dev] for v in vms) > cap["devices"].get(dev, 0):
                bad.append("%s: device %s over capacity" % (host, dev))
        if any(v["dedicated"] for v in mine) and sum(v["dedicated"] for v in vms) > cap["cpu"] // 1000:
            bad.append("%s: dedicated CPUs over the pool" % host)
        for page in set(v["page"] for v in mine if v["page"]):
            total = sum(c["pages"].get(page, 0) for c in cap["cells"].values())
            if sum(v["pages"] for v in vms if v["page"] == page) > total:
                bad.append("%s: %d KiB hugepages over capacity" % (host, page))

    # NUMA cells: each cell-bound VM's split covers its needs by its NUMA rule, and no cell is overdrawn.
    cell_use = defaultdict(lambda: [0, defaultdict(int)])
    for name, host in placed.items():
        need = needs[name]
        if not (need["dedicated"] or need["pages"]):
            continue
        split = (result.get("cells") or {}).get(name)
        if not split:
            bad.append("%s: cell-bound VM without a cell split" % name)
            continue
        ids = [s["cell"] for s in split]
        if any(i not in hosts[host]["cells"] for i in ids) or len(set(ids)) != len(ids):
            bad.append("%s: split names unknown or repeated cells %s" % (name, ids))
            continue
        if sum(s["dedicated_cpus"] for s in split) != need["dedicated"] or sum(s["hugepages"] for s in split) != need["pages"]:
            bad.append("%s: split %s does not cover %d CPUs, %d pages" % (name, split, need["dedicated"], need["pages"]))
        if need["numa"] == "none" and len(split) != 1:
            bad.append("%s: without guest NUMA it must sit in one host cell, got %s" % (name, split))
        if need["numa"] == "cells" and sorted((s["dedicated_cpus"], s["hugepages"]) for s in split) != need["guest_cells"]:
            bad.append("%s: split %s does not map its guest cells %s" % (name, split, need["guest_cells"]))
        for s in split:
            use = cell_use[(host, s["cell"])]
            use[0] += s["dedicated_cpus"]
            if need["page"]:
                use[1][need["page"]] += s["hugepages"]
    for (host, cell), (cpus, pages) in cell_use.items():
        have = hosts[host]["cells"][cell]
        if cpus > have["cpus"]:
            bad.append("%s cell %d: %d dedicated CPUs > %d" % (host, cell, cpus, have["cpus"]))
        for page, count in pages.items():
            if count > have["pages"].get(page, 0):
                bad.append("%s cell %d: %d pages of %d KiB > %d" % (host, cell, count, page, have["pages"].get(page, 0)))

    # VMs that were on their host already: required VM affinity and NoSchedule taints are not checked
    # again for them (IgnoredDuringExecution).
    kept = set()
    for host in hosts:
        present = hostvars[host].get(present_var) or {}
        for entry in present.get("vms", []) if isinstance(present, dict) else present:
            if placed.get(entry["name"]) == host:
                kept.add(entry["name"])

    # Node rules: nodeSelector, required node affinity, taints.
    for name, host in placed.items():
        item, labels = items[name], hosts[host]["labels"]
        for key, value in (item.get("node_selector") or {}).items():
            if labels.get(key) != _text(value):
                bad.append("%s on %s: nodeSelector %s=%s" % (name, host, key, value))
        required = ((item.get("affinity") or {}).get("node_affinity") or {}).get(REQUIRED)
        if required is not None:
            terms = required["node_selector_terms"]
            if not any(t.get("match_expressions") and all(expr_ok(e, labels, True) for e in t["match_expressions"])
                       for t in terms):
                bad.append("%s on %s: required node affinity" % (name, host))
        for taint in hosts[host]["taints"]:
            evicts = ("NoExecute",) if name in kept else ("NoSchedule", "NoExecute")
            if taint["effect"] in evicts and not tolerated(taint, item.get("tolerations") or []):
                bad.append("%s on %s: untolerated taint %s" % (name, host, taint))

    # VM (anti-)affinity: anti over the final placement, affinity in placement order.
    position = {n: i for i, n in enumerate(result["order"])}
    labels_of = {n: {k: _text(v) for k, v in (items[n].get("labels") or {}).items()} for n in items}
    groups = defaultdict(list)  # label set -> VMs with it
    for name in placed:
        groups[tuple(sorted(labels_of[name].items()))].append(name)
    by_pair = defaultdict(list)  # one label -> label sets holding it
    for sig in groups:
        for pair in sig:
            by_pair[pair].append(sig)
    selected = {}

    def selection(selector):
        """The placed VMs a selector matches (label sets narrowed by one of its matchLabels)."""
        key = repr(selector)
        if key not in selected:
            pairs = [(k, _text(v)) for k, v in (selector.get("match_labels") or {}).items()]
            sigs = by_pair[pairs[0]] if pairs else list(groups)
            selected[key] = set(n for sig in sigs if selects(selector, dict(sig)) for n in groups[sig])
        return selected[key]

    def matches(selector, vm):
        return vm in selection(selector) if vm in placed else selects(selector, labels_of[vm])

    members = {}  # selector -> [(position, VM)] it matches
    domains = defaultdict(list)  # (topology key, value) -> VMs there
    keys = set()
    for item in items.values():
        for kind in ("pod_affinity", "pod_anti_affinity"):
            for term in ((item.get("affinity") or {}).get(kind) or {}).get(REQUIRED) or []:
                keys.add(term["topology_key"])
    for name, host in placed.items():
        for key in keys:
            if key in hosts[host]["labels"]:
                domains[(key, hosts[host]["labels"][key])].append(name)
    for name, host in placed.items():
        aff = items[name].get("affinity") or {}
        for term in (aff.get("pod_anti_affinity") or {}).get(REQUIRED) or []:
            value = hosts[host]["labels"].get(term["topology_key"])
            if value is None:
                continue
            for other in domains[(term["topology_key"], value)]:
                if other != name and matches(term["label_selector"], other):
                    bad.append("%s on %s: anti-affinity with %s (%s=%s)" % (name, host, other, term["topology_key"], value))
        for term in [] if name in kept else (aff.get("pod_affinity") or {}).get(REQUIRED) or []:
            sel = repr(term["label_selector"])
            if sel not in members:
                members[sel] = sorted((position[o], o) for o in selection(term["label_selector"]))
            earlier = [o for p, o in members[sel] if p < position[name]]
            value = hosts[host]["labels"].get(term["topology_key"])
            near = value is not None and any(placed[o] in hosts and hosts[placed[o]]["labels"].get(term["topology_key"]) == value
                                             for o in earlier)
            if not near and (earlier or not matches(term["label_selector"], name)):
                bad.append("%s on %s: required affinity %s not met" % (name, host, term["label_selector"]))
    return bad
