# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reader over a KubeVirt manifest: Fields with KubeVirt's words and two more verdicts.

Besides reading a field, a manifest field may be `ignored` (meaningless on one
libvirt host: recorded with its reason and reported, never dropped silently) or
`refused` (meaningful, but not available here: an error naming its path).
The reasons are the table of docs/kubevirt-mapping.md.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.fields import _MISSING, Fields


class ManifestFields(Fields):
    UNKNOWN = "unknown field; this kind knows: "

    def __init__(self, path, data, problems, ignored=None):
        super(ManifestFields, self).__init__(path, data, problems)
        self.ignored = [] if ignored is None else ignored

    def _child(self, path, data):
        return ManifestFields(path, data, self.problems, self.ignored)

    def raw(self, key):
        """The value as written (None when absent), marked as read."""
        value = self._get(key)
        return None if value is _MISSING else value

    def named(self, key):
        """{name: ManifestFields} of a list whose items KubeVirt refers to by name (volumes, networks)."""
        out = {}
        for item in self.items(key):
            name = item.text("name")
            if name is None:
                item.fail("name", "is required")
            elif name in out:
                item.fail("name", "%r is declared twice" % name)
            else:
                out[name] = item
        return out

    def ignore(self, key, reason):
        """Accept a field that means nothing on one libvirt host; report it with the reason."""
        if self.has(key):
            self.ignored.append({"field": self.where(key), "reason": reason})

    def refuse(self, key, reason):
        """A field kv_vm cannot honour: an error naming it, with why."""
        if self.has(key):
            self.fail(key, "is not supported: %s" % reason)

    def one_of(self, keys):
        """The one key of `keys` that is set (KubeVirt's union types), or None; two set is an error."""
        present = [k for k in keys if self.has(k)]
        if len(present) > 1:
            self.fail(None, "sets %s; give only one of them" % " and ".join(present))
        return present[0] if present else None
