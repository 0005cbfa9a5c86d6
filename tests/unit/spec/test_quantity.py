# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.quantity import (
    QuantityError,
    format_bytes,
    format_cpu,
    parse_bytes,
    parse_cpu,
)

KI, MI, GI, TI, PI, EI = (2 ** (10 * i) for i in range(1, 7))


@pytest.mark.parametrize("text, expected", [
    ("0", 0),
    ("1", 1),
    ("1024", 1024),
    ("1Ki", KI),
    ("512Mi", 512 * MI),
    ("2Gi", 2 * GI),
    ("1Ti", TI),
    ("3Pi", 3 * PI),
    ("1k", 1000),
    ("1M", 10 ** 6),
    ("1G", 10 ** 9),
    ("2T", 2 * 10 ** 12),
    ("1P", 10 ** 15),
    ("1.5Gi", 1610612736),
    ("0.5Mi", 512 * KI),
    (".5Ki", 512),
    ("+1Ki", KI),
    ("2.5k", 2500),
    ("1.000Gi", GI),
    ("1e3", 1000),
    ("1E3", 1000),
    ("12e6", 12 * 10 ** 6),
    ("5e+2", 500),
    ("1.5e3", 1500),
    ("25e-1", None),  # 2.5 bytes -> error, checked below
    (" 4Mi ", 4 * MI),
    ("4 Mi", 4 * MI),
])
def test_parse_bytes_units(text, expected):
    if expected is None:
        with pytest.raises(QuantityError, match="whole number of bytes"):
            parse_bytes(text)
    else:
        assert parse_bytes(text) == expected


@pytest.mark.parametrize("value, expected", [(0, 0), (7, 7), (2 ** 40, 2 ** 40), (2.0, 2), (1e3, 1000), (1e20, 10 ** 20)])
def test_parse_bytes_numbers(value, expected):
    result = parse_bytes(value)
    assert result == expected
    assert isinstance(result, int)


@pytest.mark.parametrize("value, message", [
    ("1KiB", "unknown suffix 'KiB'"),
    ("1K", "unknown suffix 'K'"),
    ("1mi", "unknown suffix 'mi'"),
    ("1m", "unknown suffix 'm'"),
    ("1GB", "unknown suffix 'GB'"),
    ("1 g", "unknown suffix 'g'"),
    ("1.5", "not a whole number of bytes"),
    ("0.1Ki", "not a whole number of bytes"),
    ("1e-1", "not a whole number of bytes"),
    (1.5, "not a whole number of bytes"),
    ("-1", "is not a Kubernetes quantity"),
    ("-1Gi", "is not a Kubernetes quantity"),
    (-1, "must not be negative"),
    ("", "is not a Kubernetes quantity"),
    ("Gi", "is not a Kubernetes quantity"),
    ("1Gi2", "is not a Kubernetes quantity"),
    ("1,5Gi", "is not a Kubernetes quantity"),
    ("0x10", "is not a Kubernetes quantity"),
    (True, "not a boolean"),
    (False, "not a boolean"),
    (None, "must be a Kubernetes quantity"),
    ([1], "must be a Kubernetes quantity"),
    ({"a": 1}, "must be a Kubernetes quantity"),
    (float("inf"), "is not a Kubernetes quantity"),
    (float("nan"), "is not a Kubernetes quantity"),
])
def test_parse_bytes_errors(value, message):
    with pytest.raises(QuantityError) as info:
        parse_bytes(value)
    assert message in str(info.value)


def test_unknown_suffix_lists_allowed():
    with pytest.raises(QuantityError) as info:
        parse_bytes("3Xi")
    assert "allowed: Ki, Mi, Gi, Ti, Pi, Ei, k, M, G, T, P, E" in str(info.value)


@pytest.mark.parametrize("text, expected", [("1Ei", EI), ("2E", 2 * 10 ** 18)])
def test_parse_bytes_exa_suffixes(text, expected):
    assert parse_bytes(text) == expected


def test_exbibyte_round_trip():
    assert parse_bytes(format_bytes(EI)) == EI


def test_bare_E_is_the_exa_suffix():
    assert parse_bytes("1E") == 10 ** 18


@pytest.mark.parametrize("text", ["1e", "1e1000000"])
def test_parse_bytes_malformed_exponent_is_quantity_error(text):
    with pytest.raises(QuantityError):
        parse_bytes(text)


@pytest.mark.parametrize("count, expected", [
    (0, "0"),
    (1, "1"),
    (1000, "1000"),
    (1023, "1023"),
    (1024, "1Ki"),
    (1536, "1536"),  # 1.5Ki is not whole in Ki -> bytes
    (3 * 512, "1536"),
    (MI, "1Mi"),
    (512 * MI, "512Mi"),
    (1536 * MI, "1536Mi"),
    (GI, "1Gi"),
    (2 * GI, "2Gi"),
    (GI + KI, "1048577Ki"),
    (TI, "1Ti"),
    (5 * PI, "5Pi"),
    (10 ** 9, "1000000000"),  # 1G = 2^9 * 5^9: no binary suffix divides it
    (2 * 10 ** 9, "1953125Ki"),
])
def test_format_bytes(count, expected):
    assert format_bytes(count) == expected


@given(st.integers(min_value=0, max_value=2 ** 60 - 1))
@settings(max_examples=300, deadline=None)
def test_bytes_round_trip_from_count(count):
    text = format_bytes(count)
    assert parse_bytes(text) == count
    # shortest binary spelling: no larger binary suffix divides it
    assert format_bytes(parse_bytes(text)) == text


@given(st.integers(0, 10 ** 6), st.sampled_from(["", "Ki", "Mi", "Gi", "Ti", "k", "M", "G", "T", "e0", "e3", "e6"]))
@settings(max_examples=300, deadline=None)
def test_bytes_format_is_stable(number, suffix):
    text = "%d%s" % (number, suffix)
    count = parse_bytes(text)
    once = format_bytes(count)
    assert parse_bytes(once) == count
    assert format_bytes(parse_bytes(once)) == once


@pytest.mark.parametrize("value, expected", [
    ("500m", 500),
    ("1m", 1),
    ("0m", 0),
    ("0", 0),
    ("1", 1000),
    (1, 1000),
    (2, 2000),
    (0.5, 500),
    ("1.5", 1500),
    ("0.25", 250),
    ("0.001", 1),
    ("2.000", 2000),
    (" 750m ", 750),
    ("1e3", 1000000),
    ("1500m", 1500),
])
def test_parse_cpu(value, expected):
    result = parse_cpu(value)
    assert result == expected
    assert isinstance(result, int)


@pytest.mark.parametrize("value, message", [
    ("1.5m", "finer than a millicore"),
    ("0.0001", "finer than a millicore"),
    ("-1", "positive CPU quantity"),
    ("-500m", "positive CPU quantity"),
    (-1, "positive CPU quantity"),
    ("inf", "positive CPU quantity"),
    ("abc", "is not a Kubernetes CPU quantity"),
    ("1Gi", "is not a Kubernetes CPU quantity"),
    ("m", "is not a Kubernetes CPU quantity"),
    ("", "is not a Kubernetes CPU quantity"),
    ("500M", "is not a Kubernetes CPU quantity"),
    (None, "is not a Kubernetes CPU quantity"),
    ([1], "is not a Kubernetes CPU quantity"),
    (True, "not a boolean"),
    (False, "not a boolean"),
])
def test_parse_cpu_errors(value, message):
    with pytest.raises(QuantityError) as info:
        parse_cpu(value)
    assert message in str(info.value)


@pytest.mark.parametrize("value", ["nan", "NaNm", float("nan")])
def test_parse_cpu_nan_is_quantity_error(value):
    with pytest.raises(QuantityError):
        parse_cpu(value)


@pytest.mark.parametrize("milli, expected", [(0, "0"), (1, "1m"), (500, "500m"), (1000, "1"), (1500, "1500m"),
                                             (2000, "2"), (64000, "64")])
def test_format_cpu(milli, expected):
    assert format_cpu(milli) == expected


@given(st.integers(min_value=0, max_value=10 ** 9))
@settings(max_examples=300, deadline=None)
def test_cpu_round_trip(milli):
    text = format_cpu(milli)
    assert parse_cpu(text) == milli
    assert format_cpu(parse_cpu(text)) == text


@given(st.decimals(min_value=0, max_value=10 ** 6, places=3, allow_nan=False, allow_infinity=False))
@settings(max_examples=200, deadline=None)
def test_cpu_decimal_text(number):
    milli = parse_cpu(str(number))
    assert milli == int(number * 1000)
    assert parse_cpu(format_cpu(milli)) == milli
