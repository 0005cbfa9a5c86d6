# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kv_migrate's parameters (and KubeVirt manifests) -> one checked request; every error names its field.

Precedence for each policy value: the module option, then the MigrationPolicy manifest, then
KubeVirt's default.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.topology import parse_cpuset
from ansible_collections.kvcompute.libvirt.plugins.module_utils.migrate import manifests
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.errors import SpecError
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.quantity import QuantityError, parse_bytes

MODES = ("peer2peer", "managed")
STATES = ("migrated", "status", "aborted")
# libvirt's VIR_MIGRATE_PARAM_COMPRESSION methods: mt/xbzrle on one connection, zlib/zstd on parallel ones.
COMPRESSION = ("none", "xbzrle", "mt", "zlib", "zstd")
MULTIFD_COMPRESSION = ("zlib", "zstd")
MIB = 2 ** 20

# KubeVirt's defaults (MigrationConfiguration) and Nova's for the downtime ramp.
DEFAULTS = {
    "bandwidth_per_migration": "0",  # 0: unlimited
    "completion_timeout_per_gib": 150,
    "progress_timeout": 150,
    "allow_auto_converge": False,
    "allow_post_copy": False,
    "max_downtime_ms": 500,
    "downtime_steps": 10,
    "downtime_delay": 75,
}
POLICY_KEYS = tuple(DEFAULTS)


def _uri_host(uri):
    """The host part of a libvirt URI ('' for a local one like qemu:///system)."""
    rest = uri.split("://", 1)[1] if "://" in uri else ""
    host = rest.split("/", 1)[0].rsplit("@", 1)[-1]
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.split(":", 1)[0]


def default_migrate_uri(dest_uri):
    """QEMU's stream goes to the host named in the destination URI (tcp://HOST), or libvirt's choice."""
    host = _uri_host(dest_uri)
    return "tcp://%s" % host if host else None


def read(params):
    """Module params -> request dict, or SpecError listing every problem (nothing touched yet)."""
    problems = []
    req = {"state": params.get("state") or "migrated", "migration_name": None}
    name = params.get("name")
    if params.get("migration") is not None:
        vmim = manifests.instance_migration(params["migration"], "migration", problems)
        if name and vmim.get("name") and vmim["name"] != name:
            problems.append(("migration.spec.vmiName", "%r differs from name %r" % (vmim["name"], name)))
        name = name or vmim.get("name")
        req["migration_name"] = vmim.get("migration_name")
    if not name:
        problems.append(("name", "is required (or give a VirtualMachineInstanceMigration as migration)"))
    req["name"] = name

    from_policy = {}
    if params.get("migration_policy") is not None:
        from_policy = manifests.migration_policy(params["migration_policy"], "migration_policy", problems)
    policy = {}
    for key in POLICY_KEYS:
        value = params.get(key)
        policy[key] = value if value is not None else from_policy.get(key, DEFAULTS[key])
    _check_policy(policy, problems)
    req["policy"] = policy

    mode = params.get("mode") or "peer2peer"
    req["mode"] = mode
    dest = params.get("dest_uri")
    if req["state"] == "migrated" and not dest:
        problems.append(("dest_uri", "is required for state=migrated: the destination's libvirt URI"))
    req["dest_uri"] = dest
    req["dest_peer_uri"] = params.get("dest_peer_uri") or dest
    if mode == "managed" and params.get("dest_peer_uri"):
        problems.append(("dest_peer_uri", "is for mode=peer2peer only (in managed mode the controller connects)"))
    req["migrate_uri"] = params.get("migrate_uri") or (default_migrate_uri(dest) if dest else None)
    if req["migrate_uri"] and "://" not in req["migrate_uri"]:
        problems.append(("migrate_uri", "%r is not a URI like tcp://host[:port]" % req["migrate_uri"]))

    parallel = params.get("parallel_connections")
    parallel = 1 if parallel is None else parallel
    if parallel < 1 or parallel > 255:
        problems.append(("parallel_connections", "must be 1 (one connection) to 255, got %d" % parallel))
    compression = params.get("compression") or "none"
    if compression not in COMPRESSION:
        problems.append(("compression", "%r is not allowed; allowed: %s" % (compression, ", ".join(COMPRESSION))))
    elif compression in MULTIFD_COMPRESSION and parallel < 2:
        problems.append(("compression", "%s compresses parallel connections: set parallel_connections ≥ 2"
                         % compression))
    elif compression in ("xbzrle", "mt") and parallel > 1:
        problems.append(("compression", "%s works on one connection; with parallel_connections use zlib or zstd"
                         % compression))
    for key in ("auto_converge_initial", "auto_converge_increment"):
        value = params.get(key)
        if value is not None and not 1 <= value <= 100:
            problems.append((key, "must be a percentage from 1 to 100, got %d" % value))
        elif value is not None and not policy["allow_auto_converge"]:
            problems.append((key, "needs allow_auto_converge: true"))
        policy[key] = value
    req.update(parallel_connections=parallel, compression=compression, tls=bool(params.get("tls")),
               tls_destination=params.get("tls_destination"), copy_storage=bool(params.get("copy_storage")),
               dest_cpu_pool=_cpuset(params.get("dest_cpu_pool"), problems))
    shared = []
    for i, path in enumerate(params.get("shared_paths") or []):
        if not isinstance(path, str) or not os.path.isabs(path):
            problems.append(("shared_paths[%d]" % i, "must be an absolute directory path, got %r" % (path,)))
        else:
            shared.append(os.path.normpath(path))
    req["shared_paths"] = shared
    interval = params.get("poll_interval")
    req["poll_interval"] = 0.5 if interval is None else interval
    if req["poll_interval"] <= 0 or req["poll_interval"] > 10:
        problems.append(("poll_interval", "must be more than 0 and at most 10 seconds"))
    req["progress_dir"] = params.get("progress_dir") or "/run/kvcompute/migrate"
    if problems:
        raise SpecError(problems)
    return req


def _check_policy(policy, problems):
    bandwidth = policy["bandwidth_per_migration"]
    try:
        count = parse_bytes(bandwidth if isinstance(bandwidth, str) else str(bandwidth))
    except QuantityError as err:
        problems.append(("bandwidth_per_migration", "%s (bytes per second, e.g. 64Mi; 0 = unlimited)" % err))
        count = 0
    if count and count < MIB:
        problems.append(("bandwidth_per_migration", "libvirt limits in MiB/s: give 0 (unlimited) or at least 1Mi"))
    policy["bandwidth_mib"] = count // MIB
    for key, low in (("completion_timeout_per_gib", 1), ("progress_timeout", 1), ("max_downtime_ms", 1),
                     ("downtime_steps", 1), ("downtime_delay", 0)):
        value = policy[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            problems.append((key, "must be an integer ≥ %d, got %r" % (low, value)))
            policy[key] = DEFAULTS[key]
    for key in ("allow_auto_converge", "allow_post_copy"):
        if not isinstance(policy[key], bool):
            problems.append((key, "must be true or false, got %r" % (policy[key],)))


def _cpuset(text, problems):
    """The destination's cpu_manager pool as given (Linux cpuset list format), or None."""
    if text is None:
        return None
    try:
        cpus = parse_cpuset(text)
    except ValueError:
        cpus = []
    if not cpus:
        problems.append(("dest_cpu_pool", "must be a CPU list such as 2-7 or 1,3,5-7, got %r" % (text,)))
        return None
    return text
