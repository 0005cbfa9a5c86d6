# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pre-flight: what stops a VM from moving, each with the field it is about; new CPU pins."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.kvcompute.libvirt.plugins.module_utils.domain.xml import parse
from ansible_collections.kvcompute.libvirt.plugins.module_utils.migrate import cpus, preflight
from ansible_collections.kvcompute.libvirt.plugins.module_utils.migrate.request import read

UUID = "6f1f5a3c-0000-4000-8000-000000000001"


def domain(devices="", extra=""):
    return parse("""<domain type='kvm'><name>vm1</name><uuid>%s</uuid>
      <memory unit='KiB'>524288</memory><currentMemory unit='KiB'>524288</currentMemory><vcpu>2</vcpu>%s
      <os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os>
      <devices>%s</devices></domain>""" % (UUID, extra, devices))


def dest(cells=((0, 1, 2, 3), (4, 5, 6, 7)), siblings=None, pool=None):
    """A destination HostCpus as kv_migrate builds it from libvirt's capabilities."""
    caps = {"cells": [{"id": i, "cpus": list(cpus)} for i, cpus in enumerate(cells)],
            "cpus": [{"id": c, "siblings": list((siblings or {}).get(c, (c,)))} for cpus in cells for c in cpus]}
    return cpus.dest_host(caps, pool)


def facts(**kw):
    out = {"source_host_uuid": "a", "dest_host_uuid": "b", "dest_domain": None, "cpu": {"result": "identical"},
           "dest_free_pages": {}, "dest_host": dest(), "dest_taken": {}, "dest_vsock_cids": set(), "fs_types": {}}
    out.update(kw)
    return out


def check(root, fact=None, **kw):
    req = read(dict({"name": "vm1", "dest_uri": "qemu+tls://n2/system"}, **kw))
    return preflight.check(root, req, fact or facts())


def fields(result):
    return [f for f, _m in result[0]]


DISK = "<disk type='file' device='disk'><source file='%s'/><target dev='vda' bus='virtio'/></disk>"


def test_a_plain_vm_passes():
    problems, warnings, plan = check(domain())
    assert problems == [] and warnings == [] and plan["pins"] is None and plan["data_bytes"] == 512 * 2 ** 20


@pytest.mark.parametrize("devices, field", [
    ("<hostdev mode='subsystem' type='pci'><source><address domain='0' bus='1' slot='0' function='0'/></source>"
     "<alias name='ua-gpu1'/></hostdev>", "host_devices"),
    ("<hostdev mode='subsystem' type='mdev' model='vfio-pci'><source><address uuid='%s'/></source></hostdev>" % UUID,
     "host_devices"),
    ("<filesystem type='mount'><driver type='virtiofs'/><source dir='/s'/><target dir='share'/></filesystem>",
     "filesystems"),
    ("<shmem name='ivshmem0'/>", "devices"),
    ("<tpm model='tpm-tis'><backend type='passthrough'><device path='/dev/tpm0'/></backend></tpm>", "tpm"),
])
def test_devices_kubevirt_does_not_migrate(devices, field):
    result = check(domain(devices))
    assert fields(result) == [field]


def test_gpu_named_by_its_alias():
    result = check(domain("<hostdev mode='subsystem' type='pci'><alias name='ua-gpu1'/></hostdev>"))
    assert "gpu1 is a PCI host device" in result[0][0][1]


def test_local_disk_needs_copy_or_shared_path():
    root = domain(DISK % "/var/lib/libvirt/images/vm1.qcow2")
    result = check(root)
    assert fields(result) == ["copy_storage"] and "vda (/var/lib/libvirt/images/vm1.qcow2)" in result[0][0][1]
    assert check(root, copy_storage=True)[0] == []
    assert check(root, shared_paths=["/var/lib/libvirt/images"])[0] == []
    assert check(root, fact=facts(fs_types={"/var/lib/libvirt/images/vm1.qcow2": "nfs4"}))[0] == []


def test_network_disks_are_shared():
    net = "<disk type='network' device='disk'><source protocol='rbd' name='pool/img'/><target dev='vda'/></disk>"
    assert check(domain(net))[0] == []


def test_hugepages_counted_on_the_destination():
    root = domain(extra="<memoryBacking><hugepages><page size='2048' unit='KiB'/></hugepages></memoryBacking>")
    assert preflight.hugepages_needed(root) == (2048, 256)
    result = check(root, fact=facts(dest_free_pages={2048: 100}))
    assert fields(result) == ["memory.hugepages"] and "100 free 2048 KiB hugepages, the VM needs 256" in result[0][0][1]
    assert check(root, fact=facts(dest_free_pages={2048: 256}))[0] == []


def test_cpu_incompatible_and_same_host_and_name_clash():
    result = check(domain(), fact=facts(cpu={"result": "incompatible", "detail": "CPU model Skylake: no avx512"},
                                        dest_host_uuid="a", dest_domain={"uuid": "other", "active": False}))
    assert fields(result) == ["dest_uri", "name", "cpu"]


PINNED = "<cputune><vcpupin vcpu='0' cpuset='2'/><vcpupin vcpu='1' cpuset='3'/><emulatorpin cpuset='1'/></cputune>"


def test_dedicated_cpus_kept_when_free_else_replanned_in_one_cell():
    root = domain(extra=PINNED)
    assert check(root)[2]["pins"] is None
    plan = check(root, fact=facts(dest_taken={2: "other"}))[2]
    assert plan["pins"] == {"vcpus": {0: 0, 1: 1}, "emulator": [3], "held": [], "cell": 0}
    cpus.apply_pins(root, plan["pins"])
    assert [e.get("cpuset") for e in root.iterfind("cputune/*")] == ["0", "1", "3"]


def test_the_destination_pool_bounds_the_replan():
    plan = check(domain(extra=PINNED), fact=facts(dest_host=dest(pool="4-7")))[2]
    assert plan["pins"] == {"vcpus": {0: 4, 1: 5}, "emulator": [6], "held": [], "cell": 1}


def test_dedicated_cpus_short_on_the_destination():
    result = check(domain(extra=PINNED), fact=facts(dest_host=dest(pool="3,4"), dest_taken={3: "web1"}))
    assert fields(result) == ["cpu.dedicated_cpu_placement"]
    assert "no NUMA cell with 3 free dedicated CPU(s)" in result[0][0][1] and "web1 (3)" in result[0][0][1]


KV = "https://kvcompute.dev/xmlns/libvirt/1"
RECORDED = ("<metadata><kv:vm xmlns:kv='%s'><kv:placement source='/etc/kvcompute/cpu_manager.json' vcpus='1' "
            "thread_policy='isolate' held='5'/></kv:vm></metadata>"
            "<cputune><vcpupin vcpu='0' cpuset='1'/><emulatorpin cpuset='1'/></cputune>"
            "<numatune><memory mode='strict' nodeset='0'/></numatune>" % KV)


def test_thread_policy_and_record_follow_the_vm():
    """isolate: a whole free core on the destination; the record, held sibling and memory cell are rewritten."""
    smt = dest(cells=((0, 1, 4, 5), (2, 3, 6, 7)), siblings={0: (0, 4), 4: (0, 4), 1: (1, 5), 5: (1, 5),
                                                             2: (2, 6), 6: (2, 6), 3: (3, 7), 7: (3, 7)})
    root = domain(extra=RECORDED)
    # CPU 1 is free but its sibling 5 is not: the whole core is needed, and cell 0 has none left.
    plan = check(root, fact=facts(dest_host=smt, dest_taken={5: "db", 0: "web", 4: "web"}))[2]
    assert plan["pins"] == {"vcpus": {0: 2}, "emulator": [2], "held": [6], "cell": 1}
    cpus.apply_pins(root, plan["pins"])
    record = root.find("metadata/{%s}vm/{%s}placement" % (KV, KV))
    assert (record.get("vcpus"), record.get("held")) == ("2", "6")
    assert root.find("numatune/memory").get("nodeset") == "1"
    assert cpus.held_by([root]) == {2: "vm1", 6: "vm1"}


def test_guest_numa_passthrough_keeps_its_cpus():
    root = domain(extra=RECORDED.replace("thread_policy='isolate'", "thread_policy='prefer' numa='passthrough'"))
    result = check(root, fact=facts(dest_taken={1: "db"}))
    assert fields(result) == ["cpu.dedicated_cpu_placement"] and "CPU 1 by db" in result[0][0][1]


def test_what_the_destination_vms_hold():
    other = parse("<domain><name>o</name><cputune><vcpupin vcpu='0' cpuset='3'/><emulatorpin cpuset='0-3'/>"
                  "</cputune></domain>")
    shared = parse("<domain><name>s</name><cputune><vcpupin vcpu='0' cpuset='0-3'/></cputune></domain>")
    assert cpus.held_by([other, shared]) == {3: "o"}


def test_a_bad_destination_pool_is_named():
    with pytest.raises(Exception) as info:
        read({"name": "vm1", "dest_uri": "qemu+tls://n2/system", "dest_cpu_pool": "lots"})
    assert "dest_cpu_pool" in str(info.value)


def test_vsock_cid_taken():
    root = domain("<vsock model='virtio'><cid auto='no' address='7'/></vsock>")
    assert fields(check(root, fact=facts(dest_vsock_cids={7}))) == ["autoattach_vsock"]
    assert check(root, fact=facts(dest_vsock_cids={8}))[0] == []


def test_kernel_outside_shared_paths_is_a_warning():
    root = domain(extra="")
    root.find("os").append(parse("<kernel>/boot/vmlinuz</kernel>"))
    problems, warnings, _plan = check(root)
    assert problems == [] and "/boot/vmlinuz" in warnings[0]


MOUNTINFO = """22 1 8:1 / / rw - ext4 /dev/sda1 rw
40 22 0:50 / /mnt/nfs rw - nfs4 srv:/export rw
41 22 0:51 / /mnt/nfs/local\\040dir rw - ext4 /dev/sdb rw
"""


@pytest.mark.parametrize("path, kind", [("/var/x", "ext4"), ("/mnt/nfs/a.img", "nfs4"),
                                        ("/mnt/nfs/local dir/b.img", "ext4"), ("/mnt/nfsx/c", "ext4")])
def test_fs_type_from_mountinfo(path, kind):
    assert preflight.fs_type(path, MOUNTINFO) == kind
