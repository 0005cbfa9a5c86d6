#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: kv_migrate
short_description: Live-migrate a running libvirt VM to another host, like KubeVirt's VirtualMachineInstanceMigration
version_added: 0.1.0
description:
  - Moves a running VM from the host of O(uri) to the host of O(dest_uri) while it runs. Afterwards the VM is
    persistent on the destination and undefined on the source (its persistent TPM and NVRAM state travel with it).
  - O(mode=peer2peer) (the default) lets the source libvirtd drive the migration; this module only watches, and
    if it (or the Ansible controller) dies the migration carries on. O(mode=managed) drives both ends from
    this process; if it dies, the destination drops the incoming VM and the source keeps running.
  - Pre-flight, before anything moves, refuses with the reason when the destination cannot run the VM's CPU,
    lacks the hugepages or free dedicated CPUs it needs, the VM has a device KubeVirt would not live-migrate
    (host devices, vGPUs, virtiofs, shared memory, SCSI reservations, SEV, passthrough TPM), or a disk is
    neither on shared storage nor O(copy_storage=true).
  - VMs with dedicated CPUs get new pins on the destination when theirs are taken there; the destination XML
    carries them.
  - The policy uses KubeVirt's MigrationPolicy names and defaults; O(migration_policy) takes such a manifest,
    O(migration) a VirtualMachineInstanceMigration. An option set on the task wins over the manifest.
  - While the migration runs a progress file (O(progress_dir)/NAME.json) is rewritten every O(poll_interval);
    O(state=status) reads it with libvirt's live job stats, O(state=aborted) cancels the migration. Long
    migrations run well under Ansible's C(async) with C(poll=0).
extends_documentation_fragment:
  - kvcompute.libvirt.connection
author:
  - kvcompute.libvirt contributors (!UNKNOWN)
options:
  name:
    description: The VM (libvirt domain) to move. Required unless O(migration) names it.
    type: str
  state:
    description:
      - V(migrated) moves the VM (nothing to do when it already runs on the destination).
      - V(status) reports the running or last migration of O(name) (never changes anything).
      - V(aborted) cancels a running migration; the VM keeps running on the source. A migration that has
        switched to post-copy cannot be aborted any more.
    type: str
    choices: [migrated, status, aborted]
    default: migrated
  dest_uri:
    description: libvirt URI of the destination as this module reaches it, e.g. C(qemu+tls://node2/system).
    type: str
  dest_peer_uri:
    description:
      - O(mode=peer2peer) only. The URI the source libvirtd uses to reach the destination, when it differs from
        O(dest_uri) (another network, a socket path).
    type: str
  migrate_uri:
    description:
      - Where QEMU's migration stream goes (C(tcp://HOST[:PORT])). Default - C(tcp://) and the host of O(dest_uri).
    type: str
  mode:
    description: V(peer2peer) (libvirt's VIR_MIGRATE_PEER2PEER) or V(managed) (client-driven).
    type: str
    choices: [peer2peer, managed]
    default: peer2peer
  migration:
    description:
      - A KubeVirt C(VirtualMachineInstanceMigration) (mapping or YAML text); C(spec.vmiName) is the VM.
    type: raw
  migration_policy:
    description:
      - A KubeVirt C(MigrationPolicy) (mapping or YAML text). Its C(spec) fields C(allowAutoConverge),
        C(allowPostCopy), C(bandwidthPerMigration) and C(completionTimeoutPerGiB) become the defaults of the
        options below; C(spec.selectors) are for whoever picks the policy and are not checked here.
    type: raw
  bandwidth_per_migration:
    description: Bandwidth cap of the migration stream in bytes per second (V(64Mi)); V(0) is unlimited (default).
    type: str
  completion_timeout_per_gib:
    description:
      - Seconds allowed per GiB to move (memory plus copied disks). When they pass the migration is aborted, or
        switched to post-copy when O(allow_post_copy=true). Default V(150) (KubeVirt).
    type: int
  progress_timeout:
    description: Abort when the data remaining has not reached a new low for this many seconds. Default V(150).
    type: int
  allow_auto_converge:
    description: Let QEMU throttle the guest's vCPUs while its memory changes faster than it is sent. Default false.
    type: bool
  auto_converge_initial:
    description: With O(allow_auto_converge), the first throttle in percent (libvirt's default 20).
    type: int
  auto_converge_increment:
    description: With O(allow_auto_converge), how many percent each further throttle adds (libvirt's default 10).
    type: int
  allow_post_copy:
    description:
      - Allow switching to post-copy, when the migration is not converging (a pass leaves 90 % or more of what
        the pass before left) or at the completion timeout. The guest then runs on the destination and pulls the
        rest of its memory; if either host fails before it completes the guest is lost. Default false.
      - Needs userfaultfd for QEMU on the destination (C(vm.unprivileged_userfaultfd=1) when QEMU does not run as
        root).
    type: bool
  max_downtime_ms:
    description:
      - The longest pause allowed at the switch-over. With O(mode=managed) it is reached by a ramp (as OpenStack
        Nova does) - start at 1/O(downtime_steps) of it and raise it in equal steps, one every O(downtime_delay)
        seconds per GiB. With O(mode=peer2peer) it is set at once, so libvirt can finish if the controller dies.
        Default V(500).
    type: int
  downtime_steps:
    description: Number of steps of the downtime ramp. Default V(10).
    type: int
  downtime_delay:
    description: Seconds per GiB to move between two steps of the downtime ramp. Default V(75).
    type: int
  parallel_connections:
    description: Number of parallel connections of the migration stream (VIR_MIGRATE_PARALLEL when more than 1).
    type: int
    default: 1
  compression:
    description:
      - Compress the stream. V(xbzrle) and V(mt) on one connection; V(zlib) and V(zstd) with
        O(parallel_connections) of 2 or more.
    type: str
    choices: [none, xbzrle, mt, zlib, zstd]
    default: none
  tls:
    description:
      - Encrypt the migration stream with QEMU's TLS (VIR_MIGRATE_TLS); both hosts need libvirt's migration
        certificates. Use a C(qemu+tls://) O(dest_uri) to protect libvirt's own connection too.
    type: bool
    default: false
  tls_destination:
    description: The host name to expect in the destination's certificate, when it differs from the URI's.
    type: str
  copy_storage:
    description:
      - Copy the disks that are not on shared storage to the destination while the VM runs
        (VIR_MIGRATE_NON_SHARED_DISK); the destination needs the same paths, in a storage pool, for libvirt to
        create them. Without it such disks stop the migration in pre-flight.
    type: bool
    default: false
  dest_cpu_pool:
    description:
      - The destination's dedicated-CPU pool (its C(cpu_manager_pools.pool) fact from the
        P(kvcompute.libvirt.cpu_manager#role) role), in Linux CPU list format such as V(2-7).
      - A VM with dedicated CPUs is re-planned on the destination when its CPUs are taken there, inside
        this pool, in one NUMA cell, by the VM's thread policy; the destination XML carries the new pins.
        Without it every online CPU of the destination counts as the pool.
    type: str
  shared_paths:
    description:
      - Directories whose files both hosts see (an NFS mount, a cluster file system). Disks on NFS, CephFS,
        GlusterFS, GPFS, OCFS2, GFS2, CIFS and the like are found shared without it when O(uri) is local.
    type: list
    elements: path
    default: []
  poll_interval:
    description: Seconds between two looks at the migration's progress.
    type: float
    default: 0.5
  progress_dir:
    description: Directory of the progress files (mode 0700; the files 0600), on the host that runs the module.
    type: path
    default: /run/kvcompute/migrate
notes:
  - Supports check mode - pre-flight runs in full and reports what would be done; nothing moves.
  - Run it on the host that runs the module for O(uri) (usually the source) when you use O(state=status) from
    another task, so both read the same progress file.
  - Plain C(qemu+tcp://) without authentication is only acceptable on a loopback test bed
    (C(scripts/second_libvirtd.sh)); use C(qemu+tls://) or C(qemu+ssh://) between real hosts.
seealso:
  - module: kvcompute.libvirt.kv_vm
  - module: kvcompute.libvirt.kv_vm_info
  - name: KubeVirt live migration
    description: The MigrationPolicy and VirtualMachineInstanceMigration APIs the options follow.
    link: https://kubevirt.io/user-guide/compute/live_migration/
"""

EXAMPLES = r"""
- name: Move web1 to node2 (peer-to-peer, the source libvirtd drives it)
  kvcompute.libvirt.kv_migrate:
    name: web1
    dest_uri: qemu+tls://node2.example.com/system
    tls: true

- name: A busy database, allowed to throttle its vCPUs and to switch to post-copy
  kvcompute.libvirt.kv_migrate:
    name: db1
    dest_uri: qemu+tls://node3.example.com/system
    bandwidth_per_migration: 512Mi
    allow_auto_converge: true
    allow_post_copy: true
    max_downtime_ms: 300

- name: KubeVirt manifests as they are
  kvcompute.libvirt.kv_migrate:
    dest_uri: qemu+tls://node2.example.com/system
    migration: "{{ lookup('file', 'migration-web1.yaml') }}"
    migration_policy: "{{ lookup('file', 'policy-fast.yaml') }}"

- name: In the background, with progress meanwhile
  kvcompute.libvirt.kv_migrate:
    name: bigvm
    dest_uri: qemu+tls://node2.example.com/system
  async: 3600
  poll: 0
  register: move

- name: Progress (data remaining, iterations, downtime target)
  kvcompute.libvirt.kv_migrate:
    name: bigvm
    state: status
  register: progress
  until: progress.migration.phase != 'Running'
  retries: 360
  delay: 10

- name: Or give up
  kvcompute.libvirt.kv_migrate:
    name: bigvm
    state: aborted
"""

RETURN = r"""
msg:
  description: What happened.
  returned: always
  type: str
migration:
  description:
    - The progress record - C(phase) (C(Running), C(Succeeded), C(Failed)), C(mode), C(source), C(destination),
      C(start_timestamp), C(end_timestamp), C(elapsed_s), C(downtime_target_ms), C(post_copy), C(message) and the
      job stats named below.
  returned: always
  type: dict
total_time_ms:
  description: Milliseconds the migration took, as libvirt measured it.
  returned: success
  type: int
  sample: 2630
downtime_ms:
  description: Milliseconds the guest was paused at the switch-over.
  returned: success
  type: int
  sample: 41
data_transferred:
  description: Bytes sent (memory and copied disks).
  returned: success
  type: int
data_total:
  description: Bytes there were to send.
  returned: success
  type: int
iterations:
  description: Pre-copy passes over the guest's memory.
  returned: success
  type: int
  sample: 3
auto_converge_throttle:
  description: Percent of vCPU time auto-converge took at the end.
  returned: when auto-converge throttled
  type: int
postcopy_requests:
  description: Pages the destination asked for during post-copy.
  returned: when post-copy ran
  type: int
preflight:
  description: What pre-flight found - C(cpu_check), C(copied_disks), C(new_cpu_pins), C(mode), C(migrate_uri).
  returned: when state=migrated and the VM was on the source
  type: dict
source_state:
  description: The VM's state on the source afterwards (C(absent) after a migration).
  returned: when state=migrated and a migration ran
  type: str
destination_state:
  description: The VM's state on the destination afterwards.
  returned: when state=migrated and a migration ran
  type: str
running:
  description: Whether a migration job is running now.
  returned: when state=status or aborted
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.kvcompute.libvirt.plugins.module_utils import virt
from ansible_collections.kvcompute.libvirt.plugins.module_utils.converge import migrate
from ansible_collections.kvcompute.libvirt.plugins.module_utils.converge.module import check_libraries, fail_spec
from ansible_collections.kvcompute.libvirt.plugins.module_utils.migrate import request
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.errors import SpecError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            uri=dict(type="str", default="qemu:///system"),
            name=dict(type="str"),
            state=dict(type="str", default="migrated", choices=list(request.STATES)),
            dest_uri=dict(type="str"),
            dest_peer_uri=dict(type="str"),
            migrate_uri=dict(type="str"),
            mode=dict(type="str", default="peer2peer", choices=list(request.MODES)),
            migration=dict(type="raw"),
            migration_policy=dict(type="raw"),
            bandwidth_per_migration=dict(type="str"),
            completion_timeout_per_gib=dict(type="int"),
            progress_timeout=dict(type="int"),
            allow_auto_converge=dict(type="bool"),
            allow_post_copy=dict(type="bool"),
            auto_converge_initial=dict(type="int"),
            auto_converge_increment=dict(type="int"),
            max_downtime_ms=dict(type="int"),
            downtime_steps=dict(type="int"),
            downtime_delay=dict(type="int"),
            parallel_connections=dict(type="int", default=1),
            compression=dict(type="str", default="none", choices=list(request.COMPRESSION)),
            tls=dict(type="bool", default=False),
            tls_destination=dict(type="str"),
            copy_storage=dict(type="bool", default=False),
            dest_cpu_pool=dict(type="str"),
            shared_paths=dict(type="list", elements="path", default=[]),
            poll_interval=dict(type="float", default=0.5),
            progress_dir=dict(type="path", default="/run/kvcompute/migrate"),
        ),
        supports_check_mode=True,
    )
    check_libraries(module, missing_required_lib)
    try:
        req = request.read(module.params)
    except SpecError as err:
        fail_spec(module, err)
    req["uri"] = module.params["uri"]
    try:
        if req["state"] == "migrated":
            result = migrate.migrate(req, module.check_mode)
        elif req["state"] == "status":
            result = migrate.status(req)
        else:
            result = migrate.abort(req, module.check_mode)
    except migrate.MigrateError as err:
        module.fail_json(msg=str(err), changed=False, **err.data)
    except virt.VirtError as err:
        module.fail_json(msg="%s: %s" % (req["name"], err), changed=False)
    for warning in result.pop("warnings", None) or []:
        module.warn(warning)  # a `warnings` return key is deprecated in ansible-core 2.19
    module.exit_json(**result)


if __name__ == "__main__":
    main()
