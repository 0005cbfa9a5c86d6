# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes' matching rules, and the host sets they select as bitmasks.

A set of hosts is a Python int with bit i set for host i (hosts sorted by
name), so "hosts with zone=a that tolerate this VM" is one AND.  Masks are
computed once per distinct rule (VMs of a fleet share a few shapes) from an
index of hosts by label, never by walking the hosts per VM.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.placement.model import HARD_EFFECTS


def expr_matches(expr, labels):
    """One matchExpression against a label mapping (nodes: Gt/Lt compare integers)."""
    present = expr.key in labels
    value = labels.get(expr.key)
    if expr.op == "In":
        return present and value in expr.values
    if expr.op == "NotIn":
        return not present or value not in expr.values
    if expr.op == "Exists":
        return present
    if expr.op == "DoesNotExist":
        return not present
    try:
        number, bound = int(value), int(expr.values[0])
    except (TypeError, ValueError, IndexError):
        return False
    return number > bound if expr.op == "Gt" else number < bound


def selector_matches(selector, labels):
    return (all(labels.get(k) == v for k, v in selector.match_labels)
            and all(expr_matches(e, labels) for e in selector.exprs))


def tolerates(toleration, taint):
    if toleration.effect and toleration.effect != taint.effect:
        return False
    if toleration.op == "Exists":
        return not toleration.key or toleration.key == taint.key
    return toleration.key == taint.key and toleration.value == taint.value


def untolerated(tolerations, taints, effects=HARD_EFFECTS):
    return [t for t in taints if t.effect in effects and not any(tolerates(o, t) for o in tolerations)]


def bits(mask):
    """Host indexes in a mask, lowest first."""
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


class Fleet:
    """Static per-fleet indexes: hosts by label, by taint set; cached masks per rule."""

    def __init__(self, hosts):
        self.hosts = sorted(hosts, key=lambda h: h.name)
        self.index = dict((h.name, i) for i, h in enumerate(self.hosts))
        self.all = (1 << len(self.hosts)) - 1
        self.by_label = {}  # (key, value) -> mask
        self.by_key = {}  # key -> {value: mask}
        by_taints = {}
        for i, host in enumerate(self.hosts):
            bit = 1 << i
            for key, value in host.labels.items():
                self.by_label[(key, value)] = self.by_label.get((key, value), 0) | bit
                values = self.by_key.setdefault(key, {})
                values[value] = values.get(value, 0) | bit
            taints = tuple(sorted(set(host.taints), key=lambda t: (t.key, t.value, t.effect)))
            by_taints[taints] = by_taints.get(taints, 0) | bit
        self.taint_groups = sorted(by_taints.items(), key=lambda kv: repr(kv[0]))
        self._cache = {}

    def _cached(self, key, build):
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = build()
        return found

    def key_mask(self, key):
        return self._cached(("key", key), lambda: _or(self.by_key.get(key, {}).values()))

    def expr_mask(self, expr):
        def build():
            values = self.by_key.get(expr.key, {})
            return _or(mask for value, mask in values.items() if expr_matches(expr, {expr.key: value})) | (
                self.all & ~self.key_mask(expr.key) if expr_matches(expr, {}) else 0)
        return self._cached(("expr", expr), build)

    def term_mask(self, exprs):
        """A nodeSelectorTerm: its expressions ANDed; an empty term matches no host."""
        def build():
            if not exprs:
                return 0
            mask = self.all
            for expr in exprs:
                mask &= self.expr_mask(expr)
            return mask
        return self._cached(("term", exprs), build)

    def selector_mask(self, pairs):
        def build():
            mask = self.all
            for pair in pairs:
                mask &= self.by_label.get(pair, 0)
            return mask
        return self._cached(("selector", pairs), build)

    def required_mask(self, terms):
        if terms is None:
            return self.all
        return self._cached(("required", terms), lambda: _or(self.term_mask(t) for t in terms))

    def toleration_mask(self, tolerations, effects=HARD_EFFECTS):
        """Hosts whose taints of these effects are all tolerated."""
        def build():
            return _or(mask for taints, mask in self.taint_groups if not untolerated(tolerations, taints, effects))
        return self._cached(("tolerations", effects, tolerations), build)

    def domain_mask(self, key, value):
        return self.by_label.get((key, value), 0)


def _or(masks):
    out = 0
    for mask in masks:
        out |= mask
    return out
