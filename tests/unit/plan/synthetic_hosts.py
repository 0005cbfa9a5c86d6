# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Synthetic hosts for the allocator tests: capabilities XML of multi-socket, multi-cell, SMT machines
and a fake host tree (pool file, sysfs hugepages and meminfo per node) read back by host/cpu_pool.py.

CPU numbering follows Linux on x86: thread t of global core g is CPU g + t × (number of cores), so
thread siblings are far apart, as on real SMT machines.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import tempfile

from ansible_collections.kvcompute.libvirt.plugins.module_utils.host import cpu_pool, topology
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.hostfs import HostFS

GIB = 2 ** 30


def caps_xml(sockets, cells_per_socket, cores_per_cell, threads):
    cores = sockets * cells_per_socket * cores_per_cell
    cells = []
    for cell in range(sockets * cells_per_socket):
        socket = cell // cells_per_socket
        cpus = []
        for k in range(cores_per_cell):
            core = cell * cores_per_cell + k
            ids = [core + t * cores for t in range(threads)]
            for cpu in ids:
                cpus.append("<cpu id='%d' socket_id='%d' die_id='0' core_id='%d' siblings='%s'/>"
                            % (cpu, socket, core, ",".join(str(i) for i in ids)))
        cells.append("<cell id='%d'><memory unit='KiB'>%d</memory><cpus num='%d'>%s</cpus></cell>"
                     % (cell, 16 * GIB // 1024, len(cpus), "".join(cpus)))
    return ("<capabilities><host><cpu><arch>x86_64</arch><topology sockets='%d' dies='1' cores='%d' threads='%d'/>"
            "</cpu><topology><cells num='%d'>%s</cells></topology></host></capabilities>"
            % (sockets, cells_per_socket * cores_per_cell, threads, len(cells), "".join(cells)))


def caps_of(shape):
    return topology.parse_capabilities(caps_xml(*shape))


def make_host(shape, reserved=(), pool=None, pages_2m=None, free_memory=None, pool_file=True):
    """HostCpus for a topology shape (sockets, cells per socket, cores per cell, threads), read from a fake tree."""
    caps = caps_of(shape)
    ncells = len(caps["cells"])
    pages_2m = pages_2m if pages_2m is not None else [0] * ncells
    free_memory = free_memory if free_memory is not None else [8 * GIB] * ncells
    online = sorted(c["id"] for c in caps["cpus"])
    with tempfile.TemporaryDirectory() as root:
        def write(path, text):
            real = os.path.join(root, path.lstrip("/"))
            os.makedirs(os.path.dirname(real), exist_ok=True)
            with open(real, "w") as f:
                f.write(text)

        write("/sys/devices/system/cpu/online", cpu_pool.format_cpuset(online) + "\n")
        for cell in range(ncells):
            base = "/sys/devices/system/node/node%d" % cell
            write(base + "/hugepages/hugepages-2048kB/nr_hugepages", "%d\n" % pages_2m[cell])
            write(base + "/hugepages/hugepages-2048kB/free_hugepages", "%d\n" % pages_2m[cell])
            write(base + "/meminfo", "Node %d MemTotal: 16777216 kB\nNode %d MemFree: %d kB\n"
                  % (cell, cell, free_memory[cell] // 1024))
        if pool_file:
            pool = [c for c in online if c not in reserved] if pool is None else pool
            write(cpu_pool.POOL_FILE, json.dumps({"reserved": cpu_pool.format_cpuset(reserved),
                                                  "pool": cpu_pool.format_cpuset(pool)}))
        return caps, cpu_pool.read_host(caps, HostFS(root))


SHAPES = [
    (1, 1, 2, 1),  # this test machine: 2 CPUs, one cell, no SMT
    (1, 1, 4, 2),  # one socket, SMT
    (2, 1, 4, 2),  # two sockets, a cell each, SMT
    (2, 2, 2, 2),  # two sockets, two cells each (sub-NUMA clustering), SMT
    (1, 2, 3, 1),  # two cells, no SMT
    (1, 1, 2, 4),  # four threads per core
]
