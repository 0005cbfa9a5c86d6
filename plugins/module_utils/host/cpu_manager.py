# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host's CPU pools, like kubelet's static CPU manager: reserved (system) and pool (VMs).

Recorded in /etc/kvcompute/cpu_manager.json as cpuset strings,
{"reserved": "0", "pool": "1-3"}; kv_vm reads it.  No file means the pool is
every online CPU and nothing is reserved.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.topology import parse_cpuset

POOLS_FILE = "/etc/kvcompute/cpu_manager.json"
ONLINE_FILE = "/sys/devices/system/cpu/online"
_CPUSET = re.compile(r"^\s*[0-9]+(\s*-\s*[0-9]+)?(\s*,\s*[0-9]+(\s*-\s*[0-9]+)?)*\s*$")


class CpuPoolError(ValueError):
    """Bad pools; the message names the option."""


def format_cpuset(cpus):
    """[0, 1, 2, 5, 7, 8] -> '0-2,5,7-8' (the Linux list format)."""
    parts = []
    for cpu in sorted(set(cpus)):
        if parts and parts[-1][1] == cpu - 1:
            parts[-1][1] = cpu
        else:
            parts.append([cpu, cpu])
    return ",".join(str(lo) if lo == hi else "%d-%d" % (lo, hi) for lo, hi in parts)


def parse_strict(text, field):
    """A cpuset string from the user: digits, ranges lo-hi with lo <= hi, commas."""
    text = str(text)
    if not _CPUSET.match(text):
        raise CpuPoolError("%s: %r is not a CPU list like '0', '0,2' or '1-3'" % (field, text))
    for lo, hi in re.findall(r"([0-9]+)\s*-\s*([0-9]+)", text):
        if int(lo) > int(hi):
            raise CpuPoolError("%s: range %s-%s goes backwards" % (field, lo, hi))
    return parse_cpuset(text.replace(" ", ""))


def online_cpus(fs):
    try:
        return parse_cpuset(fs.read(ONLINE_FILE).strip())
    except (OSError, IOError):
        raise CpuPoolError("cannot read the online CPUs from %s" % fs.real(ONLINE_FILE))


def split(online, reserved_text, pool_text=None):
    """Validate and split: (reserved list, pool list). Every problem is named by its option."""
    problems = []
    online_set = set(online)
    shown = format_cpuset(online)
    reserved, pool = [], []
    try:
        reserved = parse_strict(reserved_text, "reserved_cpus")
    except CpuPoolError as exc:
        problems.append(str(exc))
    if not problems:
        if not reserved:
            problems.append("reserved_cpus: name at least one CPU for the host's own processes")
        offline = sorted(set(reserved) - online_set)
        if offline:
            problems.append("reserved_cpus: CPU %s not online (online CPUs: %s)" % (format_cpuset(offline), shown))
    if pool_text in (None, ""):
        pool = sorted(online_set - set(reserved))
        if not problems and not pool:
            problems.append("reserved_cpus: reserves every online CPU (%s); leave some for the VM pool" % shown)
    else:
        try:
            pool = parse_strict(pool_text, "pool_cpus")
        except CpuPoolError as exc:
            problems.append(str(exc))
        else:
            offline = sorted(set(pool) - online_set)
            if offline:
                problems.append("pool_cpus: CPU %s not online (online CPUs: %s)" % (format_cpuset(offline), shown))
            overlap = sorted(set(pool) & set(reserved))
            if overlap:
                problems.append("pool_cpus: CPU %s also in reserved_cpus (%s); the pools must not overlap"
                                % (format_cpuset(overlap), format_cpuset(reserved)))
    if problems:
        raise CpuPoolError("; ".join(problems))
    return reserved, pool


def render(reserved, pool):
    return json.dumps({"reserved": format_cpuset(reserved), "pool": format_cpuset(pool)}, indent=2, sort_keys=True) + "\n"


def read_pools(fs):
    """(reserved list, pool list) recorded on the host, or None when there is no (valid) file."""
    try:
        data = json.loads(fs.read(POOLS_FILE))
        return parse_cpuset(data["reserved"]), parse_cpuset(data["pool"])
    except (OSError, IOError, ValueError, KeyError, TypeError):
        return None


def pools(fs):
    """(reserved, pool) as kv_vm sees them: the recorded pools, or nothing reserved and every online CPU."""
    recorded = read_pools(fs)
    return recorded if recorded is not None else ([], online_cpus(fs))


def apply(fs, reserved_text, pool_text=None, check_mode=False):
    """Validate, then record the pools; returns the module result (with a --diff entry)."""
    online = online_cpus(fs)
    reserved, pool = split(online, reserved_text, pool_text)
    old_text = fs.read(POOLS_FILE) if fs.exists(POOLS_FILE) else ""
    new_text = render(reserved, pool)
    changed = read_pools(fs) != (reserved, pool)  # same pools in another layout: keep the file
    if changed and not check_mode:
        fs.makedirs(POOLS_FILE.rsplit("/", 1)[0])
        fs.write(POOLS_FILE, new_text)
    return {
        "changed": changed,
        "reserved": format_cpuset(reserved),
        "pool": format_cpuset(pool),
        "online": format_cpuset(online),
        "file": POOLS_FILE,
        "diff": {"before_header": POOLS_FILE, "after_header": POOLS_FILE,
                 "before": old_text, "after": new_text if changed else old_text},
    }
