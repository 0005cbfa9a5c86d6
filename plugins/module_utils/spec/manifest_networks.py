# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""KubeVirt `devices.interfaces` + `networks` -> kv_vm `interfaces`.

The pod network of a single host is its outbound NAT: a `pod` network (masquerade
or bridge binding) becomes a user-mode NIC (libvirt's passt/slirp, NAT, no inbound).
A Multus network names a libvirt network of the same name (bridge binding).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

BINDINGS = ("masquerade", "bridge", "sriov", "slirp", "macvtap", "passt", "binding")


def interfaces(spec_f, devices_f, tr):
    networks = {}
    for name, nf in spec_f.named("networks").items():
        kind = nf.one_of(("pod", "multus"))
        if kind is None:
            nf.fail(None, "needs pod or multus")
        else:
            networks[name] = (kind, nf)
    out, used = [], set()
    for inf in devices_f.items("interfaces"):
        i = len(out)
        name = inf.text("name")
        nic = {"name": name}
        tr.item("interfaces", i, inf)
        binding = inf.one_of(BINDINGS)
        if binding not in (None, "masquerade", "bridge"):
            inf.fail(binding, "is not supported: only masquerade (pod network) and bridge bindings map to libvirt")
        if binding:
            inf.sub(binding).done()
        for key, option in (("model", "model"), ("macAddress", "mac")):
            if inf.has(key):
                nic[option] = inf.raw(key)
                tr.note("interfaces[%d].%s" % (i, option), inf.where(key))
        inf.ignore("ports", "user-mode networking forwards no inbound ports")
        inf.ignore("tag", "device role tags go to KubeVirt's metadata service, which does not exist here")
        for key, reason in (("pciAddress", "kv_vm keeps libvirt's PCI addresses"),
                            ("bootOrder", "kv_vm boots from disks only"),
                            ("dhcpOptions", "DHCP options of KubeVirt's own DHCP server are not supported"),
                            ("acpiIndex", "ACPI indexes are not set by kv_vm"),
                            ("state", "link state changes are not supported")):
            inf.refuse(key, reason)
        if name not in networks:
            inf.fail("name", "no network named %r in networks" % name)
            inf.done()
            continue
        used.add(name)
        _network(networks[name], nic, binding, inf, tr, i)
        inf.done()
        out.append(nic)
    for name, entry in sorted(networks.items()):
        if name not in used:
            entry[1].fail("name", "network %r is used by no interface in domain.devices.interfaces" % name)
            _network(entry, {"name": name}, None, entry[1], tr, len(out))  # still name what else is wrong
    if not out and not networks and tr.autoattach_pod:
        # KubeVirt gives a VM without networks one pod interface.
        out.append({"name": "default", "type": "user"})
        tr.note("interfaces[0]", devices_f.where("autoattachPodInterface"))
    if out:
        tr.options["interfaces"] = out


def _network(entry, nic, binding, inf, tr, i):
    kind, nf = entry
    sub = nf.sub(kind)
    if kind == "pod":
        nic["type"] = "user"
        sub.refuse("vmNetworkCIDR", "user-mode networking has a fixed address range")
        sub.refuse("vmIPv6NetworkCIDR", "user-mode networking has a fixed address range")
    else:
        name = sub.text("networkName")
        if name is None:
            sub.fail("networkName", "is required")
        elif "/" in name:
            sub.fail("networkName", "%r: a libvirt network has no namespace; give its name" % name)
        if binding == "masquerade":
            inf.fail("masquerade", "is for the pod network only; use bridge with a multus network")
        nic.update(type="network", source=name)
        tr.note("interfaces[%d].source" % i, sub.where("networkName"))
        sub.ignore("default", "the first interface is simply the first NIC here")
    sub.done()
    nf.done()
