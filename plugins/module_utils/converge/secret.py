# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kv_secret: a libvirt vtpm secret that encrypts a VM's swtpm state.

libvirt keeps private secrets' values to itself (they cannot be read back), so a
value is only written when the secret is created, or every run with
update_value=always; the result never carries it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.libvirt_xml import etree, parse
from ansible_collections.kvcompute.libvirt.plugins.module_utils.virt import UUID_RE


class SecretError(Exception):
    """A refusal of kv_secret's, before anything changed."""


def secret_xml(name, description):
    root = etree.Element("secret", ephemeral="no", private="yes")
    if description:
        etree.SubElement(root, "description").text = description
    usage = etree.SubElement(root, "usage", type="vtpm")
    etree.SubElement(usage, "name").text = name
    return etree.tostring(root, encoding="unicode")


def description_of(xml):
    return parse(xml).findtext("description") or ""


def users(domain_xmls, uuid):
    """Names of the domains whose TPM state is encrypted with this secret."""
    found = []
    for name, xml in sorted(domain_xmls.items()):
        for enc in parse(xml).iterfind("devices/tpm/backend/encryption"):
            if enc.get("secret") == uuid:
                found.append(name)
    return found


def run(conn, params, check_mode):
    name, state = params["name"], params["state"]
    if UUID_RE.match(name):
        raise SecretError("name: give the secret's usage name, not a UUID (libvirt picks the UUID)")
    current = conn.secret(name, usage="vtpm")
    result = {"name": name, "usage": "vtpm", "uuid": current["uuid"] if current else None,
              "changed": False, "value_set": False, "used_by": []}
    before = {"state": "present" if current else "absent",
              "description": description_of(current["xml"]) if current else None}
    if state == "absent":
        if current:
            result["used_by"] = users(conn.all_domain_xml(inactive=True), current["uuid"])
            if result["used_by"] and not params["force"]:
                raise SecretError("secret %s encrypts the TPM state of %s: without it that state cannot be read. "
                                  "Remove it from those VMs first, or set force=true"
                                  % (name, ", ".join(result["used_by"])))
            result["changed"] = True
            if not check_mode:
                conn.undefine_secret(current["uuid"])
        after = {"state": "absent", "description": None}
    else:
        description = params["description"] if params["description"] is not None else (
            before["description"] or "")
        if current is None and params["value"] is None:
            raise SecretError("value: is required to create secret %s" % name)
        write_xml = current is None or description != before["description"]
        write_value = params["value"] is not None and (current is None or params["update_value"] == "always")
        result["changed"] = write_xml or write_value
        result["value_set"] = write_value
        if not check_mode:
            if write_xml:
                result["uuid"] = conn.define_secret(secret_xml(name, description))
            if write_value:
                conn.set_secret_value(result["uuid"], params["value"].encode("utf-8"))
        after = {"state": "present", "description": description}
    result["diff"] = {"before": before, "after": after}
    return result
