# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A reader over one mapping of user input that records every problem by field path.

Each accessor checks one key and falls back to a default; `done()` reports
keys nobody asked for, so nothing the user wrote is silently dropped.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import re

from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.quantity import (
    QuantityError,
    parse_bytes,
    parse_cpu,
)

_MISSING = object()


def _type_name(value):
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
            dict: "a mapping"}.get(type(value), type(value).__name__)


class Fields:
    UNKNOWN = "unknown option; allowed: "  # how done() names a key nobody read

    def __init__(self, path, data, problems):
        self.path = path
        self.problems = problems
        self.seen = set()
        if data is None:
            data = {}
        if not isinstance(data, dict):
            self.fail(None, "must be a mapping, not %s" % _type_name(data))
            data = {}
        self.data = data

    def where(self, key):
        if key is None:
            return self.path or "(top level)"
        return "%s.%s" % (self.path, key) if self.path else key

    def fail(self, key, message):
        self.problems.append((self.where(key), message))

    def _get(self, key):
        self.seen.add(key)
        value = self.data.get(key, _MISSING)
        return _MISSING if value is None else value

    def has(self, key):
        self.seen.add(key)
        return self.data.get(key) is not None

    def integer(self, key, default=None, minimum=None, maximum=None):
        value = self._get(key)
        if value is _MISSING:
            return default
        if isinstance(value, str) and re.match(r"^[0-9]+$", value.strip()):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, "must be an integer, not %s" % _type_name(value))
            return default
        if minimum is not None and value < minimum:
            self.fail(key, "must be ≥ %d, got %d" % (minimum, value))
            return default
        if maximum is not None and value > maximum:
            self.fail(key, "must be ≤ %d, got %d" % (maximum, value))
            return default
        return value

    def boolean(self, key, default=False):
        value = self._get(key)
        if value is _MISSING:
            return default
        if isinstance(value, str) and value.lower() in ("true", "yes", "on", "false", "no", "off"):
            return value.lower() in ("true", "yes", "on")
        if not isinstance(value, bool):
            self.fail(key, "must be true or false, not %s" % _type_name(value))
            return default
        return value

    def text(self, key, default=None, choices=None, pattern=None, pattern_help=None):
        value = self._get(key)
        if value is _MISSING:
            return default
        if not isinstance(value, str) or isinstance(value, bool):
            self.fail(key, "must be a string, not %s" % _type_name(value))
            return default
        if choices is not None and value not in choices:
            hint = difflib.get_close_matches(value, choices, n=1)
            self.fail(key, "%r is not allowed; allowed: %s%s" % (
                value, ", ".join(choices), (" (did you mean %r?)" % hint[0]) if hint else ""))
            return default
        if pattern is not None and not re.match(pattern, value):
            self.fail(key, "%r is not valid: %s" % (value, pattern_help or "must match %s" % pattern))
            return default
        return value

    def size(self, key, default=None, minimum=None):
        value = self._get(key)
        if value is _MISSING:
            return default
        try:
            count = parse_bytes(value)
        except QuantityError as err:
            self.fail(key, str(err))
            return default
        if minimum is not None and count < minimum:
            self.fail(key, "must be at least %s bytes, got %r" % (minimum, value))
            return default
        return count

    def cpu(self, key, default=None):
        value = self._get(key)
        if value is _MISSING:
            return default
        try:
            milli = parse_cpu(value)
        except QuantityError as err:
            self.fail(key, str(err))
            return default
        if milli == 0:
            self.fail(key, "must be more than 0")
            return default
        return milli

    def sub(self, key):
        """A Fields over a nested mapping (an absent one reads as empty)."""
        value = self._get(key)
        return self._child(self.where(key), None if value is _MISSING else value)

    def _child(self, path, data):
        return Fields(path, data, self.problems)

    def items(self, key):
        """(Fields, index) for each mapping in a list."""
        value = self._get(key)
        if value is _MISSING:
            return []
        if not isinstance(value, list):
            self.fail(key, "must be a list, not %s" % _type_name(value))
            return []
        return [self._child("%s[%d]" % (self.where(key), i), item) for i, item in enumerate(value)]

    def done(self, allowed=None):
        """Report the keys that no accessor read."""
        known = sorted(self.seen if allowed is None else allowed)
        for key in sorted(k for k in self.data if k not in self.seen):
            hint = difflib.get_close_matches(str(key), known, n=1)
            self.fail(key, "%s%s%s" % (self.UNKNOWN, ", ".join(known), (" (did you mean %r?)" % hint[0]) if hint else ""))
