# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes resource quantities (`512Mi`, `1G`, `500m`), as KubeVirt takes them.

The unit arithmetic is bitmath's; what is ours is the Kubernetes grammar (a
suffix without the trailing B, `k` for kilo, exponents) and the rule that a
byte count is whole.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import traceback
from decimal import Decimal, InvalidOperation

try:
    import bitmath

    HAS_BITMATH = True
    BITMATH_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - reported by the modules
    HAS_BITMATH = False
    BITMATH_IMPORT_ERROR = traceback.format_exc()

_QUANTITY = re.compile(r"^\s*([+]?[0-9]+(?:\.[0-9]*)?|[+]?\.[0-9]+)\s*([A-Za-z]*|[eE][+-]?[0-9]+)\s*$")

# Kubernetes suffix -> bitmath unit name.
_BYTE_UNITS = {
    "": "Byte",
    "Ki": "KiB",
    "Mi": "MiB",
    "Gi": "GiB",
    "Ti": "TiB",
    "Pi": "PiB",
    "Ei": "EiB",
    "k": "kB",
    "M": "MB",
    "G": "GB",
    "T": "TB",
    "P": "PB",
    "E": "EB",
}
_BINARY_OUT = (("Ei", 2 ** 60), ("Pi", 2 ** 50), ("Ti", 2 ** 40), ("Gi", 2 ** 30), ("Mi", 2 ** 20), ("Ki", 2 ** 10))

BYTES_HELP = "a Kubernetes quantity such as 512Mi, 2Gi, 1G or a number of bytes"
CPU_HELP = "a Kubernetes CPU quantity such as 500m, 1, 1.5"


class QuantityError(ValueError):
    pass


def parse_bytes(value):
    """Return a byte count (int) for a quantity string or a plain number."""
    if isinstance(value, bool):
        raise QuantityError("must be %s, not a boolean" % BYTES_HELP)
    if isinstance(value, int):
        if value < 0:
            raise QuantityError("must not be negative")
        return value
    if isinstance(value, float):
        value = repr(value)
    if not isinstance(value, str):
        raise QuantityError("must be %s" % BYTES_HELP)
    match = _QUANTITY.match(value)
    if not match:
        raise QuantityError("%r is not %s" % (value, BYTES_HELP))
    number, suffix = match.groups()
    try:
        if re.match(r"^[eE][+-]?[0-9]+$", suffix):
            amount = Decimal(number) * (Decimal(10) ** int(suffix[1:]))
        elif suffix in _BYTE_UNITS:
            # bitmath knows the units; the factor is exact as an int, the number stays Decimal.
            factor = int(getattr(bitmath, _BYTE_UNITS[suffix])(1).to_Byte().value)
            amount = Decimal(number) * factor
        else:
            raise QuantityError(
                "%r has an unknown suffix %r; allowed: %s" % (value, suffix, ", ".join(s for s in _BYTE_UNITS if s))
            )
    except ArithmeticError:
        raise QuantityError("%r is out of range" % (value,))
    if amount != amount.to_integral_value():
        raise QuantityError("%r is not a whole number of bytes" % value)
    return int(amount)


def format_bytes(count):
    """The shortest exact Kubernetes spelling of a byte count: 536870912 -> '512Mi'."""
    for suffix, size in _BINARY_OUT:
        if count and count % size == 0:
            return "%d%s" % (count // size, suffix)
    return str(count)


def parse_cpu(value):
    """Return millicores (int) for a CPU quantity: '500m' -> 500, 2 -> 2000."""
    if isinstance(value, bool):
        raise QuantityError("must be %s, not a boolean" % CPU_HELP)
    text = str(value).strip()
    try:
        if text.endswith("m"):
            milli = Decimal(text[:-1])
        else:
            milli = Decimal(text) * 1000
    except InvalidOperation:
        raise QuantityError("%r is not %s" % (value, CPU_HELP))
    if not milli.is_finite() or milli < 0:
        raise QuantityError("%r must be a positive CPU quantity" % (value,))
    if milli != milli.to_integral_value():
        raise QuantityError("%r is finer than a millicore" % (value,))
    return int(milli)


def format_cpu(milli):
    if milli % 1000 == 0:
        return str(milli // 1000)
    return "%dm" % milli
