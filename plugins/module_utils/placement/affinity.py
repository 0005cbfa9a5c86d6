# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""VM affinity and anti-affinity, kept up to date as VMs are placed.

For every (label selector, topology key) that some VM's term names, the index
holds the hosts whose topology domain already has a VM the selector matches,
and the hosts whose domain has a VM carrying that anti-affinity term.  A VM's
allowed hosts are then a few ANDs, not a walk over the VMs already placed.
Like Kubernetes, a required affinity term that no placed VM matches yet lets
through the first VM of a group that matches its own term.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.placement.constraints import selector_matches


def _terms(vm):
    return (vm.affinity + vm.anti_affinity + tuple(t for _w, t in vm.preferred_affinity)
            + tuple(t for _w, t in vm.preferred_anti_affinity))


class AffinityIndex:
    def __init__(self, fleet, vms):
        self.fleet = fleet
        self.keys = {}  # selector -> topology keys used with it
        self.anti_terms = {}  # selector -> anti-affinity terms with that selector
        for vm in vms:
            for term in _terms(vm):
                self.keys.setdefault(term.selector, set()).add(term.topology_key)
            for term in vm.anti_affinity:
                self.anti_terms.setdefault(term.selector, set()).add(term)
        # Selectors by one of their matchLabels pairs: a VM can only match those under its own labels.
        self.by_pair, self.general = {}, []
        for selector in self.keys:
            if selector.match_labels:
                self.by_pair.setdefault(selector.match_labels[0], []).append(selector)
            else:
                self.general.append(selector)
        self.matched = {}  # PodTerm-like (selector, key) -> mask of hosts whose domain has a matching VM
        self.placed = {}  # selector -> how many placed VMs it matches
        self.carriers = {}  # anti-affinity term -> mask of hosts whose domain has a VM with that term
        self._by_labels = {}

    def _matching(self, labels):
        """(selectors a VM with these labels matches, anti-affinity terms that reject it); cached by labels."""
        sig = tuple(sorted(labels.items()))
        found = self._by_labels.get(sig)
        if found is None:
            maybe = list(self.general)
            for pair in sig:
                maybe.extend(self.by_pair.get(pair, ()))
            selectors = [s for s in maybe if selector_matches(s, labels)]
            rejecting = [t for s in selectors for t in self.anti_terms.get(s, ())]
            found = self._by_labels[sig] = (selectors, rejecting)
        return found

    def _domain(self, host, key):
        value = host.labels.get(key)
        return 0 if value is None else self.fleet.domain_mask(key, value)

    def add(self, vm, host):
        selectors, _rejecting = self._matching(vm.labels)
        for selector in selectors:
            self.placed[selector] = self.placed.get(selector, 0) + 1
            for key in self.keys[selector]:
                self.matched[(selector, key)] = self.matched.get((selector, key), 0) | self._domain(host, key)
        for term in vm.anti_affinity:
            self.carriers[term] = self.carriers.get(term, 0) | self._domain(host, term.topology_key)

    def near(self, term):
        """Hosts in a domain that holds a VM the term's selector matches."""
        return self.matched.get((term.selector, term.topology_key), 0)

    def forbidden(self, vm):
        """Hosts this VM may not go to: its own anti-affinity, and the anti-affinity of VMs placed."""
        mask = 0
        for term in vm.anti_affinity:
            mask |= self.near(term)
        for term in self._matching(vm.labels)[1]:
            mask |= self.carriers.get(term, 0)
        return mask

    def allowed(self, vm):
        """Hosts that satisfy every required affinity term of this VM."""
        mask = self.fleet.all
        for term in vm.affinity:
            if not self.placed.get(term.selector) and selector_matches(term.selector, vm.labels):
                continue  # the first VM of a group that names itself
            mask &= self.near(term)
        return mask

    def preferences(self, vm):
        """[(weight, mask)] of the preferred VM (anti-)affinity terms."""
        out = [(w, self.near(t)) for w, t in vm.preferred_affinity]
        out.extend((w, self.fleet.all & ~self.near(t)) for w, t in vm.preferred_anti_affinity)
        return out
