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

import difflib

from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.fields import _MISSING, Fields


class ManifestFields(Fields):
    def __init__(self, path, data, problems, ignored=None):
        super(ManifestFields, self).__init__(path, data, problems)
        self.ignored = [] if ignored is None else ignored

    def sub(self, key):
        value = self._get(key)
        return ManifestFields(self.where(key), None if value is _MISSING else value, self.problems, self.ignored)

    def items(self, key):
        value = self._get(key)
        if value is _MISSING:
            return []
        if not isinstance(value, list):
            self.fail(key, "must be a list, not %s" % type(value).__name__)
            return []
        return [ManifestFields("%s[%d]" % (self.where(key), i), item, self.problems, self.ignored)
                for i, item in enumerate(value)]

    def raw(self, key):
        """The value as written (None when absent), marked as read."""
        value = self._get(key)
        return None if value is _MISSING else value

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

    def done(self, allowed=None):
        known = sorted(self.seen if allowed is None else allowed)
        for key in sorted(k for k in self.data if k not in self.seen):
            hint = difflib.get_close_matches(str(key), known, n=1)
            self.fail(key, "unknown field; this kind knows: %s%s" % (
                ", ".join(known), (" (did you mean %r?)" % hint[0]) if hint else ""))
