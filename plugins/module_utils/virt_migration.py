# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Live migration on the libvirt connection (kv_migrate).

A mixin of virt.Connection: libvirt itself stays imported by virt.py alone (self._libvirt).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.virt_errors import wrap as _wrap


class MigrationMixin:
    # --- live migration (kv_migrate) -----------------------------------
    def compare_cpu(self, cpu_xml, virt_type, arch=None, machine=None):
        """'incompatible', 'identical' or 'superset': can this host run a guest with that <cpu>?"""
        try:
            result = self._conn.compareHypervisorCPU(None, arch, machine, virt_type, cpu_xml, 0)
        except self._libvirt.libvirtError as err:
            raise _wrap("cannot compare the CPU with %s" % self.uri, err)
        return {self._libvirt.VIR_CPU_COMPARE_IDENTICAL: "identical",
                self._libvirt.VIR_CPU_COMPARE_SUPERSET: "superset"}.get(result, "incompatible")

    def free_pages(self, page_kib, cells):
        """Free pages of page_kib KiB summed over NUMA cells 0..cells-1."""
        try:
            found = self._conn.getFreePages([page_kib], 0, cells, 0)
        except self._libvirt.libvirtError as err:
            raise _wrap("cannot read free %d KiB pages of %s" % (page_kib, self.uri), err)
        return sum(per_cell.get(page_kib, 0) for per_cell in found.values())

    def active_domain_xml(self):
        """Live XML of every running domain (their pins are what the host has handed out)."""
        result = []
        for dom in self._conn.listAllDomains(self._libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
            try:
                result.append(dom.XMLDesc(0))
            except self._libvirt.libvirtError:
                continue
        return result

    def migratable_xml(self, name, inactive=False):
        flags = self._libvirt.VIR_DOMAIN_XML_MIGRATABLE | self._libvirt.VIR_DOMAIN_XML_SECURE
        if inactive:
            flags |= self._libvirt.VIR_DOMAIN_XML_INACTIVE
        return self.lookup(name).XMLDesc(flags)

    def migrate(self, name, flag_names, params, dest=None, peer_uri=None):
        """Migrate: to the Connection ``dest`` (client-managed) or, peer-to-peer, to ``peer_uri``.

        flag_names: suffixes of VIR_MIGRATE_* (LIVE, PEER2PEER, ...); params: suffixes of
        VIR_MIGRATE_PARAM_* -> values. Blocks until libvirt reports the end.
        """
        flags = 0
        for flag in flag_names:
            flags |= getattr(self._libvirt, "VIR_MIGRATE_" + flag)
        typed = dict((getattr(self._libvirt, "VIR_MIGRATE_PARAM_" + key), value) for key, value in params.items())
        dom = self.lookup(name)
        try:
            if dest is not None:
                dom.migrate3(dest._conn, typed, flags)
            else:
                dom.migrateToURI3(peer_uri, typed, flags)
        except self._libvirt.libvirtError as err:
            raise _wrap("migration of %s failed" % name, err)

    def abort_job(self, name):
        try:
            self.lookup(name).abortJob()
        except self._libvirt.libvirtError as err:
            raise _wrap("cannot abort the job of %s" % name, err)

    def set_max_downtime(self, name, ms):
        try:
            self.lookup(name).migrateSetMaxDowntime(ms, 0)
        except self._libvirt.libvirtError as err:
            raise _wrap("cannot set the maximum downtime of %s" % name, err)

    def start_postcopy(self, name):
        try:
            self.lookup(name).migrateStartPostCopy(0)
        except self._libvirt.libvirtError as err:
            raise _wrap("cannot switch %s to post-copy" % name, err)

    def completed_job_stats(self, name):
        """Stats of the domain's last completed job (a migrated-in domain keeps them), {} if none."""
        dom = self.lookup(name)
        if dom is None:
            return {}
        try:
            return dict(dom.jobStats(self._libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED))
        except self._libvirt.libvirtError:
            return {}

    def domain_identity(self, name):
        """{'uuid', 'active', 'persistent'} or None."""
        dom = self.lookup(name)
        if dom is None:
            return None
        return {"uuid": dom.UUIDString(), "active": bool(dom.isActive()), "persistent": bool(dom.isPersistent())}

    def disk_capacity(self, name, target):
        try:
            return self.lookup(name).blockInfo(target)[0]
        except self._libvirt.libvirtError as err:
            raise _wrap("cannot read the size of disk %s of %s" % (target, name), err)
