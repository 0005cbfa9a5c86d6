# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One VM item of kv_place (kv_vm's options + scheduling fields) -> model.VM.

The resource requests come from the same kv_vm options the host will get, by
KubeVirt's rules: a shared VM without resources.requests.cpu requests vCPUs ÷
cpu_allocation_ratio; memory requests memory.guest ÷ (memory_overcommit/100)
unless resources.requests.memory says otherwise; a dedicated VM requests whole
CPUs (one more with an isolated emulator thread); a hugepage-backed VM requests
pages instead of ordinary memory.  kv_vm validates the rest of the options on
the host, before any change there.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.placement import model as m
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.fields import Fields
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.model import Cpu
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.overcommit import MAX_RATIO, ratio_request

# Keys kv_place reads and kv_vm never sees.
PLACEMENT_KEYS = ("labels", "node_selector", "affinity", "tolerations")
PAGE_SIZES = {"2Mi": 2048, "1Gi": 1048576}
REQUIRED = "required_during_scheduling_ignored_during_execution"
PREFERRED = "preferred_during_scheduling_ignored_during_execution"


def read_vm(f, ratio, overcommit):
    """model.VM from one item (Fields over it); problems go to f.problems."""
    name = f.text("name") or ""
    if not name:
        f.fail("name", "is required")
    cpu_f, mem_f, res_f = f.sub("cpu"), f.sub("memory"), f.sub("resources").sub("requests")
    vcpus = Cpu(sockets=cpu_f.integer("sockets", 1, minimum=1), cores=cpu_f.integer("cores", 1, minimum=1),
                threads=cpu_f.integer("threads", 1, minimum=1)).vcpus
    ratio = f.integer("cpu_allocation_ratio", ratio, minimum=1, maximum=MAX_RATIO)
    dedicated = cpu_f.boolean("dedicated_cpu_placement", False)
    guest = mem_f.size("guest", 512 * 2 ** 20)
    page_kib = _page_size(mem_f.sub("hugepages"))
    vm = m.VM(name=name, labels=read_labels(f, "labels"))
    if dedicated:
        vm.dedicated_cpus = vcpus + (1 if cpu_f.boolean("isolate_emulator_thread", False) else 0)
        vm.cpu_milli = vm.dedicated_cpus * 1000
    else:
        limit = f.sub("resources").sub("limits").cpu("cpu")
        vm.cpu_milli = res_f.cpu("cpu") or min(ratio_request(vcpus, ratio), limit or MAX_RATIO)
    if page_kib:
        vm.page_kib, vm.pages = page_kib, -(-guest // (page_kib * 1024))
    else:
        explicit = res_f.size("memory")
        vm.memory = explicit if explicit is not None else -(-guest * 100 // overcommit)
    _numa(vm, cpu_f.sub("numa"))
    vm.devices = _devices(f)
    vm.node_selector = tuple(sorted(read_labels(f, "node_selector").items()))
    _affinity(vm, f.sub("affinity"))
    vm.tolerations = tuple(_toleration(t) for t in f.items("tolerations"))
    vm.options = dict((k, v) for k, v in f.data.items() if k not in PLACEMENT_KEYS)
    vm.options.setdefault("cpu_allocation_ratio", ratio)
    return vm


def _page_size(f):
    size = f.text("page_size", None, choices=tuple(PAGE_SIZES))
    return PAGE_SIZES.get(size)


def _numa(vm, f):
    passthrough = f.boolean("guest_mapping_passthrough", False)
    cells = f.items("cells")
    if passthrough:
        vm.numa = "passthrough"
    elif cells and vm.cell_bound:
        vm.numa = "cells"
        shares = []
        for cell in cells:
            cpus = cell.data.get("cpus")
            count = len(cpus) if isinstance(cpus, list) else 0
            memory = cell.size("memory", 0) or 0
            pages = -(-memory // (vm.page_kib * 1024)) if vm.page_kib else 0
            shares.append(m.GuestCell(cpus=count if vm.dedicated_cpus else 0, pages=pages))
        extra = vm.dedicated_cpus - sum(c.cpus for c in shares)
        if extra > 0 and shares:  # the isolated emulator thread sits with the first cell
            shares[0] = m.GuestCell(cpus=shares[0].cpus + extra, pages=shares[0].pages)
        vm.guest_cells = tuple(shares)


def _devices(f):
    counts = {}
    for key in ("host_devices", "gpus"):
        for item in f.items(key):
            resource = item.text("device_name")
            if resource:
                counts[resource] = counts.get(resource, 0) + 1
    return counts


def read_labels(f, key):
    value = f.data.get(key)
    if value is None:
        f.has(key)
        return {}
    if not isinstance(value, dict):
        f.fail(key, "must be a mapping of label names to values")
        return {}
    f.has(key)
    out = {}
    for name, val in value.items():
        text = label_text(val)
        if text is None:
            f.fail("%s.%s" % (key, name), "must be a string, number or boolean, not %s" % type(val).__name__)
        else:
            out[str(name)] = text
    return out


def label_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int)):
        return str(value)
    return None


def _exprs(f, key, operators):
    out = []
    for item in f.items(key):
        label = item.text("key")
        if not label:
            item.fail("key", "is required")
        op = item.text("operator", None, choices=operators)
        if op is None and not item.has("operator"):
            item.fail("operator", "is required; allowed: %s" % ", ".join(operators))
        values = item.data.get("values")
        item.has("values")
        values = [] if values is None else values
        if not isinstance(values, list) or any(label_text(v) is None for v in values):
            item.fail("values", "must be a list of strings")
            values = []
        values = tuple(label_text(v) for v in values)
        if op in ("In", "NotIn") and not values:
            item.fail("values", "must not be empty for operator %s" % op)
        if op in ("Exists", "DoesNotExist") and values:
            item.fail("values", "must be empty for operator %s" % op)
        if op in ("Gt", "Lt") and (len(values) != 1 or not _is_int(values[0])):
            item.fail("values", "must be one integer for operator %s" % op)
        item.done()
        out.append(m.Expr(label or "", op or "In", values))
    return tuple(out)


def _is_int(text):
    try:
        int(text)
    except ValueError:
        return False
    return True


def _node_term(f):
    exprs = _exprs(f, "match_expressions", m.NODE_OPERATORS)
    f.done()
    return exprs


def _selector(f):
    if not f.has("label_selector"):
        f.fail("label_selector", "is required")
    sel = f.sub("label_selector")
    pairs = tuple(sorted(read_labels(sel, "match_labels").items()))
    exprs = _exprs(sel, "match_expressions", m.LABEL_OPERATORS)
    sel.done()
    return m.LabelSelector(pairs, exprs)


def _pod_term(f):
    selector = _selector(f)
    key = f.text("topology_key")
    if not key:
        f.fail("topology_key", "is required (a host label such as %s)" % m.HOSTNAME_LABEL)
    f.done()
    return m.PodTerm(selector, key or "")


def _weight(f):
    weight = f.integer("weight", None, minimum=1, maximum=100)
    if weight is None and not f.has("weight"):
        f.fail("weight", "is required (1-100)")
    return weight or 1


def _affinity(vm, f):
    node = f.sub("node_affinity")
    if node.has(REQUIRED):
        req = node.sub(REQUIRED)
        terms = tuple(_node_term(t) for t in req.items("node_selector_terms"))
        if not terms:
            req.fail("node_selector_terms", "must list at least one term")
        req.done()
        vm.required_terms = terms
    preferred = []
    for item in node.items(PREFERRED):
        weight = _weight(item)
        preferred.append((weight, _node_term(item.sub("preference"))))
        item.done()
    vm.preferred_terms = tuple(preferred)
    node.done()
    for key, hard, soft in (("pod_affinity", "affinity", "preferred_affinity"),
                            ("pod_anti_affinity", "anti_affinity", "preferred_anti_affinity")):
        pod = f.sub(key)
        setattr(vm, hard, tuple(_pod_term(t) for t in pod.items(REQUIRED)))
        terms = []
        for item in pod.items(PREFERRED):
            weight = _weight(item)
            if not item.has("pod_affinity_term"):
                item.fail("pod_affinity_term", "is required")
            terms.append((weight, _pod_term(item.sub("pod_affinity_term"))))
            item.done()
        setattr(vm, soft, tuple(terms))
        pod.done()
    f.done()


def _toleration(f):
    op = f.text("operator", "Equal", choices=m.TOLERATION_OPERATORS)
    tol = m.Toleration(key=f.text("key", ""), op=op, value=label_text(f.data.get("value", "")) or "",
                       effect=f.text("effect", "", choices=("",) + m.TAINT_EFFECTS))
    f.has("value")
    if op == "Exists" and tol.value:
        f.fail("value", "must be empty for operator Exists")
    if op == "Equal" and not tol.key and f.data.get("operator") in (None, "Equal"):
        f.fail("key", "is required for operator Equal (an empty key with Exists tolerates every taint)")
    f.done()
    return tol


def read_vms(items, ratio=10, overcommit=100, path="vms"):
    """[model.VM] for kv_place's vms, or (None, problems) — every problem named by its field."""
    problems, vms, seen = [], [], set()
    if not isinstance(items, list):
        return None, [(path, "must be a list of VMs")]
    for index, item in enumerate(items):
        f = Fields("%s[%d]" % (path, index), item, problems)
        vm = read_vm(f, ratio, overcommit)
        if vm.name in seen:
            f.fail("name", "%r is listed twice" % vm.name)
        seen.add(vm.name)
        vms.append(vm)
    return (None if problems else vms), problems
