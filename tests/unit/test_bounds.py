"""``reportd.domain.bounds``: the limits on what a tenant sends, and rendering what was stored."""

from __future__ import annotations

import json

import orjson
import pytest

from reportd.domain import bounds
from reportd.domain.errors import (
    InvalidEncoding,
    NumberOutOfRange,
    PayloadTooDeep,
    PayloadTooLarge,
)


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b'{"a": 1}',
        nested(bounds.MAX_DEPTH).encode(),
        b'{"s": "' + b"[" * 500 + b'"}',  # brackets inside a string are text
        b'{"s": "a\\\\u0000"}',  # the text \u0000, not a NUL
        b'{"s": "' + b"9" * 500 + b'"}',  # digits inside a string are text
        b'{"n": ' + b"9" * bounds.MAX_NUMBER_DIGITS + b"}",
    ],
)
def test_bodies_within_bounds(raw: bytes) -> None:
    bounds.check_json_bytes(raw)


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (nested(bounds.MAX_DEPTH + 1).encode(), PayloadTooDeep),
        (b"[" * 100_000, PayloadTooDeep),
        (b'{"a": "\xff"}', InvalidEncoding),
        (b'{"a": "\\u0000"}', InvalidEncoding),
        (b'{"a": "\\\\\\u0000"}', InvalidEncoding),  # an escaped backslash, then a NUL
        (b'{"n": ' + b"9" * 5000 + b"}", NumberOutOfRange),
        (b" " * (bounds.MAX_BODY_BYTES + 1), PayloadTooLarge),
    ],
)
def test_bodies_beyond_bounds(raw: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        bounds.check_json_bytes(raw)


def test_values() -> None:
    bounds.check_value({"since": "2024-01-01", "n": [1, 2.5, None, True]}, what="options")
    cases = [
        (json.loads(nested(bounds.MAX_DEPTH + 1)), PayloadTooDeep),
        ({"x": "a" * (bounds.MAX_OPTIONS_BYTES + 1)}, PayloadTooLarge),
        ({f"k{i}": 0 for i in range(bounds.MAX_ITEMS + 1)}, PayloadTooLarge),
        ({"n": 2**63}, NumberOutOfRange),
        ({"n": float("inf")}, NumberOutOfRange),
        ({"s": "a\x00"}, InvalidEncoding),
    ]
    for value, error in cases:
        with pytest.raises(error):
            bounds.check_value(value, what="options")


def test_errors_have_stable_codes_and_statuses() -> None:
    assert (PayloadTooLarge.code, PayloadTooLarge.status) == ("payload_too_large", 413)
    assert (PayloadTooDeep.code, PayloadTooDeep.status) == ("payload_too_deep", 400)
    assert (NumberOutOfRange.code, NumberOutOfRange.status) == ("number_out_of_range", 422)
    assert (InvalidEncoding.code, InvalidEncoding.status) == ("invalid_encoding", 400)


def test_what_was_stored_renders() -> None:
    deep = json.loads(nested(300))
    rendered = bounds.renderable({"a": deep, "big": 2**80, "nan": float("nan"), "ok": 1})
    orjson.dumps(rendered)  # neither the depth nor the integer stops a writer now
    assert rendered["ok"] == 1
    assert rendered["big"] == "<81-bit integer>"
    plain = {"since": "2024-01-01", "n": [1, 2]}
    assert bounds.renderable(plain) is plain  # nothing copied when nothing needs it
