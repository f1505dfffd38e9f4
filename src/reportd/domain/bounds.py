"""The bounds of everything a tenant sends, in one place, and the checks that apply them.

Why one module: a tenant's input reaches reportd through seven doors (native, five dialects,
gRPC) and is stored, rendered in every read, every webhook payload and every SSE event. A value
one door let through (an ``options`` nested 300 levels, a 10 MB object, a 5,000-digit number)
broke every reader after it, for every tenant. So the limits are written once here; the doors
check raw bodies and headers with ``check_json_bytes`` and ``check_header`` before they parse
anything, and the use cases check what they are given (``check_value``, ``check_integer``,
``check_text``) before it reaches a database or ``int()``. ``renderable`` is the other side:
whatever an older version stored can still be rendered.

Every limit and its error code is listed in docs/security.md ("Bounds").
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Final

from reportd.domain.errors import (
    InvalidEncoding,
    NumberOutOfRange,
    PayloadTooDeep,
    PayloadTooLarge,
)

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_DEPTH",
    "MAX_EXPIRES_IN",
    "MAX_FILTER",
    "MAX_FILTER_DEPTH",
    "MAX_HEADER_BYTES",
    "MAX_INTEGER",
    "MAX_ITEMS",
    "MAX_LIST_BYTES",
    "MAX_NAME",
    "MAX_NUMBER_DIGITS",
    "MAX_OPTIONS_BYTES",
    "MAX_TEXT",
    "check_encoding",
    "check_header",
    "check_integer",
    "check_json_bytes",
    "check_text",
    "check_value",
    "renderable",
]

MAX_DEPTH: Final = 32  # nesting of any JSON value: a body, options, a search query
MAX_BODY_BYTES: Final = 1024 * 1024  # one request body (a template's SQL fits many times)
MAX_OPTIONS_BYTES: Final = 64 * 1024  # a report's or schedule's options, as JSON text
MAX_ITEMS: Final = 10_000  # keys plus list items in one value, counted at every level
MAX_TEXT: Final = 1_000  # one search pattern or value (SpaceONE keyword, contain, ...)
MAX_HEADER_BYTES: Final = 8 * 1024  # one header value
MAX_NUMBER_DIGITS: Final = 100  # digits of one number literal in a JSON body
MAX_INTEGER: Final = 2**53 - 1  # any integer a tenant sends: exact in JSON, fits SQL BIGINT
MAX_EXPIRES_IN: Final = 10 * 366 * 24 * 3600  # a report's own expiry, seconds: ten years
MAX_NAME: Final = 300  # a report's or schedule's name
MAX_FILTER: Final = 10_000  # a filter expression (characters; the parser's own check)
MAX_FILTER_DEPTH: Final = 64  # parentheses and ``not`` in one filter expression
MAX_LIST_BYTES: Final = 16 * 1024  # fields, order_by and formats together, as JSON text

# A JSON string (escapes included), a bracket, or a number literal longer than the limit.
# Strings are matched first, so brackets and digits inside them are never counted.
_TOKENS: Final = re.compile(
    rb'"(?:[^"\\]|\\.)*"|[\[\]{}]|-?[0-9]{%d,}' % (MAX_NUMBER_DIGITS + 1), re.DOTALL
)
# ``\u0000`` preceded by an even number of backslashes (an escaped NUL, not the text "\u0000").
_NUL_ESCAPE: Final = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_OPENERS: Final = frozenset(b"[{")


def check_json_bytes(raw: bytes, *, what: str = "body") -> None:
    """A raw JSON body within bounds before anyone parses it (a parser's own limits are
    recursion errors and 500s): its size, UTF-8, nesting, number literals and NULs.

    Cheap for ordinary bodies: the regex walk runs only when there are more brackets than
    the depth limit, so a body of a few objects is checked with three C-speed scans.
    """
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(
            f"the {what} is {len(raw)} bytes; at most {MAX_BODY_BYTES} are accepted",
            details={"limit": "body_bytes", "max": MAX_BODY_BYTES},
        )
    check_encoding(raw, what=what)
    if b"\\u0000" in raw and _NUL_ESCAPE.search(raw):
        raise InvalidEncoding(f"the {what} contains a NUL character, which no text may hold")
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH and not _has_long_digits(raw):
        return
    depth = 0
    for match in _TOKENS.finditer(raw):
        token = match.group()
        first = token[0]
        if first in _OPENERS:
            depth += 1
            if depth > MAX_DEPTH:
                raise _too_deep(what, match.start())
        elif first in b"]}":
            depth -= 1
        elif first != ord('"'):
            raise _number_out_of_range(what, f"a number of {len(token)} digits")


def check_encoding(raw: bytes, *, what: str) -> None:
    """``raw`` is UTF-8 text without a NUL (which PostgreSQL text cannot hold: a 500 there)."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidEncoding(
            f"the {what} is not valid UTF-8 (byte {exc.start})",
            details={"position": exc.start},
        ) from None
    if b"\x00" in raw:
        raise InvalidEncoding(f"the {what} contains a NUL character, which no text may hold")


def _has_long_digits(raw: bytes) -> bool:
    return re.search(rb"[0-9]{%d}" % (MAX_NUMBER_DIGITS + 1), raw) is not None


def check_value(value: Any, *, what: str, max_bytes: int = MAX_OPTIONS_BYTES) -> None:
    """A parsed JSON-like value within bounds: depth, item count, size, integers, text.

    Iterative (a recursive walk of a hostile value is the very failure it guards against).
    The size counted is that of its JSON text, near enough: strings, keys and numbers.
    """
    size = 0
    items = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, Mapping | list | tuple):
            if depth > MAX_DEPTH:
                raise _too_deep(what)
            items += len(node)
            if items > MAX_ITEMS:
                raise PayloadTooLarge(
                    f"{what} holds more than {MAX_ITEMS} keys and items",
                    details={"limit": "items", "max": MAX_ITEMS, "field": what},
                )
            children = node.items() if isinstance(node, Mapping) else enumerate(node)
            for key, child in children:
                size += _scalar_size(key, what) + 2 if isinstance(key, str) else 0
                stack.append((child, depth + 1))
            size += 2
        else:
            size += _scalar_size(node, what)
        if size > max_bytes:
            raise PayloadTooLarge(
                f"{what} is larger than {max_bytes} bytes of JSON",
                details={"limit": "bytes", "max": max_bytes, "field": what},
            )


def _scalar_size(node: Any, what: str) -> int:
    """About the bytes of ``node`` as JSON; an error for a NUL or an out-of-range number."""
    if isinstance(node, str):
        return _text_size(node, what) + 2
    if isinstance(node, bool) or node is None:
        return 5
    if isinstance(node, int):
        check_integer(node, what=what, low=-MAX_INTEGER, high=MAX_INTEGER)
        return 20
    if isinstance(node, float) and not math.isfinite(node):
        raise _number_out_of_range(what, "a number that is not finite")
    return 24


def _text_size(text: str, what: str) -> int:
    if "\x00" in text:
        raise InvalidEncoding(f"{what} contains a NUL character, which no text may hold")
    return len(text)


def check_integer(value: int, *, what: str, low: int, high: int) -> int:
    """``value`` when ``low <= value <= high``; else a 422 naming the range."""
    if not low <= value <= high:
        raise NumberOutOfRange(
            f"{what} must be between {low} and {high}",
            details={"field": what, "min": low, "max": high},
        )
    return value


def check_text(value: str, *, what: str, max_length: int = MAX_TEXT) -> str:
    """``value`` when it is at most ``max_length`` characters and holds no NUL."""
    if len(value) > max_length:
        raise PayloadTooLarge(
            f"{what} is {len(value)} characters; at most {max_length} are accepted",
            details={"limit": "text", "max": max_length, "field": what},
        )
    _text_size(value, what)
    return value


def check_header(name: str, value: bytes | str) -> None:
    """A header value no longer than ``MAX_HEADER_BYTES``."""
    if len(value) > MAX_HEADER_BYTES:
        raise PayloadTooLarge(
            f"header {name} is {len(value)} bytes; at most {MAX_HEADER_BYTES} are accepted",
            details={"limit": "header_bytes", "max": MAX_HEADER_BYTES, "header": name},
        )


def renderable(value: Any, *, depth: int = MAX_DEPTH) -> Any:
    """``value`` as every JSON writer can write it: below ``depth`` levels (deeper parts are
    replaced by ``None``), integers beyond 64 bits and non-finite floats as strings.

    For values stored before the bounds existed: each read renders them instead of failing
    (orjson stops at 255 levels and 64-bit integers, pydantic at its own depth).
    """
    if _is_plain(value, depth):
        return value
    return _clamped(value, depth)


def _is_plain(value: Any, depth: int) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, Mapping | list | tuple):
            if level > depth:
                return False
            values = node.values() if isinstance(node, Mapping) else node
            stack.extend((child, level + 1) for child in values)
        elif not _plain_scalar(node):
            return False
    return True


def _plain_scalar(node: Any) -> bool:
    if isinstance(node, bool):
        return True
    if isinstance(node, int):
        return -(2**63) <= node < 2**64
    if isinstance(node, float):
        return math.isfinite(node)
    return True


def _clamped(value: Any, depth: int) -> Any:
    # Recursion is bounded by ``depth`` here: nothing deeper is descended into.
    if isinstance(value, Mapping | list | tuple):
        if depth <= 0:
            return None
        if isinstance(value, Mapping):
            return {k: _clamped(v, depth - 1) for k, v in value.items()}
        return [_clamped(v, depth - 1) for v in value]
    if not _plain_scalar(value):
        return f"<{value.bit_length()}-bit integer>" if isinstance(value, int) else str(value)
    return value


def _too_deep(what: str, position: int | None = None) -> PayloadTooDeep:
    details: dict[str, Any] = {"limit": "depth", "max": MAX_DEPTH, "field": what}
    if position is not None:
        details["position"] = position
    return PayloadTooDeep(f"{what} is nested deeper than {MAX_DEPTH} levels", details=details)


def _number_out_of_range(what: str, found: str) -> NumberOutOfRange:
    return NumberOutOfRange(
        f"{what} holds {found}; numbers must be finite and at most {MAX_NUMBER_DIGITS} digits",
        details={"field": what, "max_digits": MAX_NUMBER_DIGITS},
    )
