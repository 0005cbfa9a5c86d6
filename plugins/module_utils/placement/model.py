# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scheduler's data: what a VM asks for and what a host offers.

Everything here is plain, hashable where the scheduler caches by it, and
independent of Ansible: requests.py and hosts.py build it from user input.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

NODE_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")
LABEL_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
TOLERATION_OPERATORS = ("Equal", "Exists")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
HARD_EFFECTS = ("NoSchedule", "NoExecute")
SCORING = ("spread", "pack")
HOSTNAME_LABEL = "kubernetes.io/hostname"


@dataclass(frozen=True)
class Expr:
    """One matchExpression: key, operator, values (a tuple of strings)."""
    key: str
    op: str
    values: Tuple[str, ...] = ()


@dataclass(frozen=True)
class LabelSelector:
    """A VM label selector: matchLabels pairs AND matchExpressions."""
    match_labels: Tuple[Tuple[str, str], ...] = ()
    exprs: Tuple[Expr, ...] = ()


@dataclass(frozen=True)
class PodTerm:
    """VM (anti-)affinity term: the VMs the selector matches, over domains of one host label."""
    selector: LabelSelector
    topology_key: str


@dataclass(frozen=True)
class Toleration:
    key: str = ""
    op: str = "Equal"
    value: str = ""
    effect: str = ""  # empty: every effect


@dataclass(frozen=True)
class Taint:
    key: str
    value: str = ""
    effect: str = "NoSchedule"


@dataclass(frozen=True)
class GuestCell:
    """A guest NUMA cell's share of the cell-bound resources."""
    cpus: int = 0  # dedicated CPUs
    pages: int = 0  # hugepages


@dataclass
class VM:
    name: str
    labels: Dict[str, str] = field(default_factory=dict)
    cpu_milli: int = 0  # CPU request in millicores (dedicated: whole CPUs)
    memory: int = 0  # bytes of ordinary memory requested (hugepage-backed VMs: 0)
    dedicated_cpus: int = 0
    page_kib: Optional[int] = None  # hugepage size
    pages: int = 0
    numa: str = "none"  # none: one host cell; passthrough: any split; cells: one host cell per guest cell
    guest_cells: Tuple[GuestCell, ...] = ()
    devices: Dict[str, int] = field(default_factory=dict)  # resource name -> count
    node_selector: Tuple[Tuple[str, str], ...] = ()
    required_terms: Optional[Tuple[Tuple[Expr, ...], ...]] = None  # nodeSelectorTerms (ORed); None: no rule
    preferred_terms: Tuple[Tuple[int, Tuple[Expr, ...]], ...] = ()
    affinity: Tuple[PodTerm, ...] = ()
    anti_affinity: Tuple[PodTerm, ...] = ()
    preferred_affinity: Tuple[Tuple[int, PodTerm], ...] = ()
    preferred_anti_affinity: Tuple[Tuple[int, PodTerm], ...] = ()
    tolerations: Tuple[Toleration, ...] = ()
    options: dict = field(default_factory=dict)  # what kv_vm gets on the chosen host

    @property
    def cell_bound(self):
        return bool(self.dedicated_cpus or self.pages)


@dataclass
class Cell:
    id: int
    cpus: int = 0  # CPUs of the pool in this cell (what dedicated VMs can have)
    pages: Dict[int, int] = field(default_factory=dict)  # hugepage size KiB -> pages


@dataclass
class Host:
    name: str
    labels: Dict[str, str] = field(default_factory=dict)
    taints: Tuple[Taint, ...] = ()
    cpu_milli: int = 0  # allocatable: pool CPUs × 1000
    memory: int = 0  # allocatable ordinary memory (bytes), overcommit not applied
    cells: Tuple[Cell, ...] = ()
    devices: Dict[str, int] = field(default_factory=dict)


def page_label(kib):
    """Hugepage size as KubeVirt spells it: 2048 -> '2Mi'."""
    for suffix, size in (("Gi", 2 ** 20), ("Mi", 2 ** 10)):
        if kib % size == 0:
            return "%d%s" % (kib // size, suffix)
    return "%dKi" % kib
