# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one I/O edge to libvirt: the only file in the collection that imports it.

Everything above this file works on XML strings and plain data; this file
connects, translates libvirt errors into messages that name what failed, and
waits on state transitions with a timeout.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import time
import traceback

from ansible_collections.kvcompute.libvirt.plugins.module_utils.virt_errors import VirtError  # noqa: F401 (re-exported)
from ansible_collections.kvcompute.libvirt.plugins.module_utils.virt_errors import wrap as _wrap
from ansible_collections.kvcompute.libvirt.plugins.module_utils.virt_migration import MigrationMixin
from ansible_collections.kvcompute.libvirt.plugins.module_utils.virt_nodedev import NodeDeviceMixin

try:
    import libvirt

    HAS_LIBVIRT = True
    LIBVIRT_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - reported by the modules
    HAS_LIBVIRT = False
    LIBVIRT_IMPORT_ERROR = traceback.format_exc()

DEFAULT_URI = "qemu:///system"

# virDomainState numbers -> the names the modules report.
STATE_NAMES = {
    0: "nostate",
    1: "running",
    2: "blocked",
    3: "paused",
    4: "shutdown",
    5: "shutoff",
    6: "crashed",
    7: "pmsuspended",
}


class Connection(NodeDeviceMixin, MigrationMixin):
    """A thin wrapper over virConnect that speaks XML strings and plain data.

    Node devices (virt_nodedev.py) and live migration (virt_migration.py) are mixins in their own files.
    """

    _libvirt = libvirt if HAS_LIBVIRT else None

    def __init__(self, uri=DEFAULT_URI):
        if not HAS_LIBVIRT:
            raise VirtError("libvirt-python is not installed on this host")
        self.uri = uri
        try:
            self._conn = libvirt.open(uri)
        except libvirt.libvirtError as err:
            raise _wrap("cannot connect to libvirt at %s" % uri, err)

    def close(self):
        try:
            self._conn.close()
        except libvirt.libvirtError:
            pass

    # --- host ---------------------------------------------------------
    def capabilities_xml(self):
        return self._conn.getCapabilities()

    def domain_capabilities_xml(self, virt_type=None, arch=None, machine=None, emulator=None):
        try:
            return self._conn.getDomainCapabilities(emulator, arch, machine, virt_type, 0)
        except libvirt.libvirtError as err:
            raise _wrap("cannot read domain capabilities for %s/%s" % (virt_type, machine), err)

    def versions(self):
        """Return (libvirt_version, hypervisor_version) as 'X.Y.Z' strings."""

        def fmt(v):
            return "%d.%d.%d" % (v // 1000000, (v // 1000) % 1000, v % 1000)

        return fmt(self._conn.getLibVersion()), fmt(self._conn.getVersion())

    def check_cpu(self, cpu_xml, virt_type, arch=None, machine=None):
        """Ask libvirt whether it knows every model and feature in a <cpu> element.

        virConnectBaselineHypervisorCPU changes nothing and fails with
        'unknown CPU feature' / 'unknown CPU model' messages, which is exactly
        the check we want before a define.  Returns None or the message.
        """
        try:
            self._conn.baselineHypervisorCPU(None, arch, machine, virt_type, [cpu_xml], 0)
        except libvirt.libvirtError as err:
            return err.get_error_message()
        return None

    # --- domains ------------------------------------------------------
    def list_domain_names(self):
        return sorted(d.name() for d in self._conn.listAllDomains(0))

    def lookup(self, name):
        """Return the virDomain or None."""
        try:
            return self._conn.lookupByName(name)
        except libvirt.libvirtError as err:
            if err.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return None
            raise _wrap("cannot look up domain %s" % name, err)

    def domain_xml(self, name, inactive=False, secure=False):
        dom = self.lookup(name)
        if dom is None:
            return None
        flags = 0
        if inactive:
            flags |= libvirt.VIR_DOMAIN_XML_INACTIVE
        if secure:
            flags |= libvirt.VIR_DOMAIN_XML_SECURE
        return dom.XMLDesc(flags)

    def all_domain_xml(self, inactive=True):
        """Every defined domain's XML, by name: the host's truth for allocations."""
        flags = libvirt.VIR_DOMAIN_XML_INACTIVE if inactive else 0
        result = {}
        for dom in self._conn.listAllDomains(0):
            try:
                result[dom.name()] = dom.XMLDesc(flags)
            except libvirt.libvirtError:  # undefined meanwhile
                continue
        return result

    def state(self, name):
        dom = self.lookup(name)
        if dom is None:
            return "absent"
        return STATE_NAMES.get(dom.state()[0], "unknown")

    def define(self, xml):
        try:
            return self._conn.defineXML(xml).name()
        except libvirt.libvirtError as err:
            raise _wrap("libvirt refused the domain definition", err)

    def start(self, name):
        try:
            self.lookup(name).create()
        except libvirt.libvirtError as err:
            if err.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID and self.state(name) in ("running", "blocked"):
                return  # started meanwhile (the run-strategy service starts Always VMs too)
            raise _wrap("cannot start %s" % name, err)

    def shutdown(self, name):
        try:
            self.lookup(name).shutdown()
        except libvirt.libvirtError as err:
            raise _wrap("cannot shut down %s" % name, err)

    def destroy(self, name):
        try:
            self.lookup(name).destroy()
        except libvirt.libvirtError as err:
            if self.state(name) in ("shutoff", "absent"):
                return
            raise _wrap("cannot stop %s" % name, err)

    def resume(self, name):
        try:
            self.lookup(name).resume()
        except libvirt.libvirtError as err:
            raise _wrap("cannot resume %s" % name, err)

    def undefine(self, name, keep_nvram=True, keep_tpm=True):
        flags = 0
        flags |= libvirt.VIR_DOMAIN_UNDEFINE_KEEP_NVRAM if keep_nvram else libvirt.VIR_DOMAIN_UNDEFINE_NVRAM
        flags |= libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
        flags |= libvirt.VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA
        if keep_tpm:
            flags |= getattr(libvirt, "VIR_DOMAIN_UNDEFINE_KEEP_TPM", 0)
        else:
            flags |= getattr(libvirt, "VIR_DOMAIN_UNDEFINE_TPM", 0)
        try:
            self.lookup(name).undefineFlags(flags)
        except libvirt.libvirtError as err:
            raise _wrap("cannot undefine %s" % name, err)

    def set_autostart(self, name, enabled):
        self.lookup(name).setAutostart(1 if enabled else 0)

    def autostart(self, name):
        return bool(self.lookup(name).autostart())

    def set_crash_action(self, name, action):
        """<on_crash> of the running domain (libvirt action name, e.g. restart, coredump-destroy)."""
        const = "VIR_DOMAIN_LIFECYCLE_ACTION_" + action.upper().replace("-", "_")
        try:
            self.lookup(name).setLifecycleAction(libvirt.VIR_DOMAIN_LIFECYCLE_CRASH, getattr(libvirt, const),
                                                 libvirt.VIR_DOMAIN_AFFECT_LIVE)
        except libvirt.libvirtError as err:
            raise _wrap("cannot set on_crash %s on running %s" % (action, name), err)

    def wait_for_state(self, name, wanted, timeout, interval=0.2):
        """Poll until the domain is in one of `wanted` states; return the state.

        Raises VirtError naming the state it stayed in when the timeout passes.
        """
        deadline = time.monotonic() + timeout
        current = self.state(name)
        while current not in wanted:
            if time.monotonic() >= deadline:
                raise VirtError(
                    "%s did not reach %s within %ss (it is %s)" % (name, "/".join(wanted), timeout, current)
                )
            time.sleep(interval)
            current = self.state(name)
        return current

    # --- live tuning --------------------------------------------------
    def set_scheduler(self, name, params, live=True, config=False):
        flags = _impact(live, config)
        try:
            self.lookup(name).setSchedulerParametersFlags(params, flags)
        except libvirt.libvirtError as err:
            raise _wrap("cannot apply CPU tuning %s to %s" % (params, name), err)

    def set_memory_parameters(self, name, params, live=True, config=False):
        flags = _impact(live, config)
        try:
            self.lookup(name).setMemoryParameters(params, flags)
        except libvirt.libvirtError as err:
            raise _wrap("cannot apply memory tuning %s to %s" % (params, name), err)

    def set_vcpus(self, name, count, live=True, config=False):
        """Set the vCPU count; False when libvirt stopped waiting for the guest to release vCPUs.

        Under TCG a guest takes longer than libvirt's 5 s to eject a vCPU; the
        unplug still completes and libvirt updates the domain when it does.
        """
        try:
            self.lookup(name).setVcpusFlags(count, _impact(live, config))
        except libvirt.libvirtError as err:
            if err.get_error_code() == libvirt.VIR_ERR_OPERATION_TIMEOUT:
                return False
            raise _wrap("cannot set %s to %d vCPUs (does the guest support CPU hot-unplug?)" % (name, count), err)
        return True

    def update_device(self, name, device_xml, live=True, config=False):
        try:
            self.lookup(name).updateDeviceFlags(device_xml, _impact(live, config))
        except libvirt.libvirtError as err:
            raise _wrap("cannot update a device of %s" % name, err)

    # --- CPU pinning --------------------------------------------------
    def _cpumap(self, cpus):
        count = self._conn.getCPUMap(0)[0]
        return tuple(i in set(cpus) for i in range(count))

    def pin_vcpu(self, name, vcpu, cpus, live=True, config=False):
        """Pin one vCPU to host CPUs (virDomainPinVcpuFlags)."""
        try:
            self.lookup(name).pinVcpuFlags(vcpu, self._cpumap(cpus), _impact(live, config))
        except libvirt.libvirtError as err:
            raise _wrap("cannot pin vCPU %d of %s to CPUs %s" % (vcpu, name, list(cpus)), err)

    def pin_emulator(self, name, cpus, live=True, config=False):
        """Pin the emulator threads to host CPUs (virDomainPinEmulator)."""
        try:
            self.lookup(name).pinEmulator(self._cpumap(cpus), _impact(live, config))
        except libvirt.libvirtError as err:
            raise _wrap("cannot pin the emulator threads of %s to CPUs %s" % (name, list(cpus)), err)

    # --- storage ------------------------------------------------------
    def pool_volume_path(self, pool, volume):
        """Return the path of a volume in a pool, or None when the volume is absent."""
        try:
            p = self._conn.storagePoolLookupByName(pool)
        except libvirt.libvirtError as err:
            raise _wrap("storage pool %s" % pool, err)
        try:
            return p.storageVolLookupByName(volume).path()
        except libvirt.libvirtError:
            return None

    def create_pool_volume(self, pool, volume, capacity, fmt):
        vol_xml = (
            "<volume><name>%s</name><capacity unit='bytes'>%d</capacity>"
            "<target><format type='%s'/><permissions><mode>0600</mode></permissions></target></volume>"
        ) % (volume, capacity, fmt)
        try:
            p = self._conn.storagePoolLookupByName(pool)
            return p.createXML(vol_xml, 0).path()
        except libvirt.libvirtError as err:
            raise _wrap("cannot create volume %s in pool %s" % (volume, pool), err)

    def network_exists(self, name):
        try:
            self._conn.networkLookupByName(name)
            return True
        except libvirt.libvirtError:
            return False

    def pool_xml(self, pool):
        """(XML description, active?) of a storage pool."""
        try:
            p = self._conn.storagePoolLookupByName(pool)
            xml = p.XMLDesc(0)
        except libvirt.libvirtError as err:
            raise _wrap("storage pool %s" % pool, err)
        return xml, bool(p.isActive())

    def refresh_pool(self, pool):
        try:
            self._conn.storagePoolLookupByName(pool).refresh(0)
        except libvirt.libvirtError as err:
            raise _wrap("cannot refresh storage pool %s" % pool, err)

    # --- secrets (swtpm state encryption) ------------------------------
    def secret(self, ref, usage="vtpm"):
        """The secret named by UUID or by usage name: {'uuid', 'usage', 'name', 'xml'}, or None."""
        try:
            if UUID_RE.match(ref):
                sec = self._conn.secretLookupByUUIDString(ref)
            else:
                sec = self._conn.secretLookupByUsage(getattr(libvirt, "VIR_SECRET_USAGE_TYPE_" + usage.upper()), ref)
        except libvirt.libvirtError as err:
            if err.get_error_code() == libvirt.VIR_ERR_NO_SECRET:
                return None
            raise _wrap("cannot look up libvirt secret %s" % ref, err)
        return {"uuid": sec.UUIDString(), "usage": SECRET_USAGES.get(sec.usageType(), str(sec.usageType())),
                "name": sec.usageID(), "xml": sec.XMLDesc(0)}

    def define_secret(self, xml):
        try:
            return self._conn.secretDefineXML(xml, 0).UUIDString()
        except libvirt.libvirtError as err:
            raise _wrap("cannot define libvirt secret", err)

    def set_secret_value(self, uuid, value):
        try:
            self._conn.secretLookupByUUIDString(uuid).setValue(value, 0)
        except libvirt.libvirtError as err:
            raise _wrap("cannot set the value of libvirt secret %s" % uuid, err)

    def undefine_secret(self, uuid):
        try:
            self._conn.secretLookupByUUIDString(uuid).undefine()
        except libvirt.libvirtError as err:
            raise _wrap("cannot undefine libvirt secret %s" % uuid, err)

    # --- memory dumps and domain metadata -----------------------------
    def core_dump(self, name, path, fmt):
        """Memory-only dump of a running domain to path; fmt: elf, kdump-zlib, kdump-lzo, kdump-snappy, win-dmp."""
        const = "VIR_DOMAIN_CORE_DUMP_FORMAT_" + DUMP_FORMATS[fmt]
        try:
            self.lookup(name).coreDumpWithFormat(path, getattr(libvirt, const), libvirt.VIR_DUMP_MEMORY_ONLY)
        except libvirt.libvirtError as err:
            raise _wrap("memory dump of %s (%s) failed" % (name, fmt), err)

    def job_info(self, name):
        """The domain's current job as a dict of libvirt's job stats ({} when none or unreadable)."""
        dom = self.lookup(name)
        if dom is None:
            return {}
        try:
            return dict(dom.jobStats(0))
        except libvirt.libvirtError:
            return {}

    def set_metadata(self, name, xml, key, uri):
        """Set our metadata element (namespace uri) live and, for a persistent domain, in its config.

        libvirt keeps one element per namespace URI and replaces it on every call.
        """
        dom = self.lookup(name)
        flags = libvirt.VIR_DOMAIN_AFFECT_CONFIG if dom.isPersistent() else 0
        if dom.isActive():
            flags |= libvirt.VIR_DOMAIN_AFFECT_LIVE
        try:
            dom.setMetadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, xml, key, uri, flags)
        except libvirt.libvirtError as err:
            raise _wrap("cannot record metadata %s in %s" % (uri, name), err)

    def metadata(self, name, uri, inactive=False):
        """Our metadata element (namespace uri) as XML text, or None."""
        dom = self.lookup(name)
        if dom is None:
            return None
        flags = libvirt.VIR_DOMAIN_AFFECT_CONFIG if inactive else libvirt.VIR_DOMAIN_AFFECT_CURRENT
        try:
            return dom.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, uri, flags)
        except libvirt.libvirtError as err:
            if err.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN_METADATA:
                return None
            raise _wrap("cannot read metadata %s of %s" % (uri, name), err)


UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# virSecretUsageType numbers -> names (libvirt's own spelling in <usage type=...>).
SECRET_USAGES = {0: "none", 1: "volume", 2: "ceph", 3: "iscsi", 4: "tls", 5: "vtpm"}

# kv_memory_dump's format names -> libvirt's VIR_DOMAIN_CORE_DUMP_FORMAT_* suffixes.
DUMP_FORMATS = {"elf": "RAW", "kdump-zlib": "KDUMP_ZLIB", "kdump-lzo": "KDUMP_LZO",
                "kdump-snappy": "KDUMP_SNAPPY", "win-dmp": "WIN_DMP"}


def _impact(live, config):
    flags = 0
    if live:
        flags |= libvirt.VIR_DOMAIN_AFFECT_LIVE
    if config:
        flags |= libvirt.VIR_DOMAIN_AFFECT_CONFIG
    return flags
