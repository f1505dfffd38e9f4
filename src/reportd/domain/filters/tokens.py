"""The tokenizer: filter text to tokens, each with its 0-based position for error messages.

Strings are double-quoted with JSON's escapes; NUL and lone surrogates are refused here, since
no database driver can store them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Final

from reportd.domain.errors import FilterSyntaxError
from reportd.domain.filters.nodes import Scalar


class Kind(Enum):
    WORD = "word"
    STRING = "string"
    NUMBER = "number"
    LPAREN = "("
    RPAREN = ")"
    LBRACKET = "["
    RBRACKET = "]"
    COMMA = ","
    END = "end of filter"


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    text: str  # the source text, so that positions advance by len(text)
    position: int
    value: Scalar = None


_PUNCTUATION: Final = {
    "(": Kind.LPAREN,
    ")": Kind.RPAREN,
    "[": Kind.LBRACKET,
    "]": Kind.RBRACKET,
    ",": Kind.COMMA,
}
CLOSERS: Final = {Kind.LPAREN: Kind.RPAREN, Kind.LBRACKET: Kind.RBRACKET}
_SPACE_RE: Final = re.compile(r"\s+")
_WORD_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
NUMBER_RE: Final = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_STRING_CHUNK_RE: Final = re.compile(r'[^"\\]*')
_HEX4_RE: Final = re.compile(r"[0-9a-fA-F]{4}")
_ESCAPES: Final = {
    '"': '"',
    "\\": "\\",
    "/": "/",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
}


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while True:
        space = _SPACE_RE.match(text, pos)
        if space:
            pos = space.end()
        if pos >= len(text):
            tokens.append(Token(Kind.END, "", len(text)))
            return tokens
        token = _scan_token(text, pos)
        tokens.append(token)
        pos += len(token.text)


def _scan_token(text: str, pos: int) -> Token:
    char = text[pos]
    if char in _PUNCTUATION:
        return Token(_PUNCTUATION[char], char, pos)
    if char == '"':
        return _scan_string(text, pos)
    if char == "-" or "0" <= char <= "9":
        return _scan_number(text, pos)
    word = _WORD_RE.match(text, pos)
    if word:
        return Token(Kind.WORD, word.group(), pos)
    raise FilterSyntaxError(f"unexpected character {char!r}", position=pos, expression=text)


def number_from_text(raw: str) -> int | float:
    """The value of a numeric literal; over-long integers become floats (Python caps int())."""
    if any(c in raw for c in ".eE"):
        return float(raw)
    try:
        return int(raw)
    except ValueError:
        return float(raw)


def _scan_number(text: str, pos: int) -> Token:
    match = NUMBER_RE.match(text, pos)
    if match is None:
        raise FilterSyntaxError("expected a digit after '-'", position=pos + 1, expression=text)
    end = match.end()
    if end < len(text) and (text[end].isalnum() or text[end] in "_."):
        raise FilterSyntaxError(
            f"invalid number {text[pos : end + 1]!r}", position=pos, expression=text
        )
    raw = match.group()
    return Token(Kind.NUMBER, raw, pos, number_from_text(raw))


def _scan_string(text: str, start: int) -> Token:
    parts: list[str] = []
    pos = start + 1
    while True:
        chunk = _STRING_CHUNK_RE.match(text, pos)
        assert chunk is not None  # the pattern matches the empty string
        if "\x00" in chunk.group():
            raise _nul_error(text, pos + chunk.group().index("\x00"))
        parts.append(chunk.group())
        pos = chunk.end()
        if pos >= len(text):
            raise FilterSyntaxError("unterminated string", position=start, expression=text)
        if text[pos] == '"':
            return Token(Kind.STRING, text[start : pos + 1], start, "".join(parts))
        char, pos = _scan_escape(text, pos)
        parts.append(char)


def _scan_escape(text: str, pos: int) -> tuple[str, int]:
    code = text[pos + 1 : pos + 2]
    if code == "":  # a backslash at the very end: the string never closes
        return "", pos + 1
    if code in _ESCAPES:
        return _ESCAPES[code], pos + 2
    if code == "u":
        return _scan_unicode(text, pos)
    raise FilterSyntaxError(
        f"invalid escape sequence '\\{code}' in string", position=pos, expression=text
    )


def _scan_unicode(text: str, pos: int) -> tuple[str, int]:
    """A \\uXXXX escape; a surrogate pair makes one character, a lone surrogate is refused
    because no database driver can encode it."""
    first = _hex4(text, pos)
    if 0xD800 <= first < 0xDC00 and text.startswith("\\u", pos + 6):
        second = _hex4(text, pos + 6)
        if 0xDC00 <= second < 0xE000:
            return chr(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)), pos + 12
    if first == 0:
        raise _nul_error(text, pos)
    if 0xD800 <= first < 0xE000:
        raise FilterSyntaxError("unpaired surrogate in '\\u' escape", position=pos, expression=text)
    return chr(first), pos + 6


def _nul_error(text: str, pos: int) -> FilterSyntaxError:
    """PostgreSQL text cannot hold NUL; refusing it here keeps every source alike."""
    return FilterSyntaxError(
        "NUL characters are not allowed in strings", position=pos, expression=text
    )


def _hex4(text: str, pos: int) -> int:
    digits = text[pos + 2 : pos + 6]
    if not _HEX4_RE.fullmatch(digits):
        raise FilterSyntaxError(
            "expected 4 hexadecimal digits after '\\u'", position=pos, expression=text
        )
    return int(digits, 16)
