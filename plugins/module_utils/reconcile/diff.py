# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Field-by-field differences between two kv_vm option trees.

Lists of named items (disks, interfaces) are compared by name, so a change
reads `disks[root].bus: virtio -> sata`, not an index shuffle.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def _named(items):
    if items is None or not all(isinstance(i, dict) and "name" in i for i in items):
        return None
    return dict((i["name"], i) for i in items)


def differences(before, after, path=""):
    """Yield (field, before, after) for every leaf that differs."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            sub = "%s.%s" % (path, key) if path else key
            yield from differences(before.get(key), after.get(key), sub)
        return
    if isinstance(before, list) and isinstance(after, list):
        b, a = _named(before), _named(after)
        if b is not None and a is not None:
            for name in list(b) + [n for n in a if n not in b]:
                sub = "%s[%s]" % (path, name)
                if name not in a:
                    yield (sub, b[name], None)
                elif name not in b:
                    yield (sub, None, a[name])
                else:
                    yield from differences(b[name], a[name], sub)
            return
    if before != after:
        yield (path, before, after)
