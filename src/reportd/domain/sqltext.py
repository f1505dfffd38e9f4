"""Named ``:name`` placeholders in SQL text: find them, or rewrite them for another engine.

Templates are written with SQLAlchemy-style ``:name`` parameters; DuckDB wants ``$name``.
A scanner (not a regex over the whole text) keeps string literals, quoted identifiers,
comments and ``::`` casts intact.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

_IDENT_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_IDENT = _IDENT_START | frozenset("0123456789")


def _skip_quoted(sql: str, i: int, quote: str) -> int:
    """Index just past the literal opening at ``i`` (doubled quotes escape themselves)."""
    j = i + 1
    while j < len(sql):
        if sql[j] == quote:
            if j + 1 < len(sql) and sql[j + 1] == quote:
                j += 2
                continue
            return j + 1
        j += 1
    return len(sql)


def _skip_comment(sql: str, i: int) -> int:
    if sql.startswith("--", i):
        end = sql.find("\n", i)
        return len(sql) if end < 0 else end
    end = sql.find("*/", i + 2)
    return len(sql) if end < 0 else end + 2


def _scan(sql: str) -> Iterator[tuple[int, int, str]]:
    """Yield (start, end, name) for every placeholder outside literals and comments."""
    i = 0
    n = len(sql)
    while i < n:
        ch = sql[i]
        if ch in "'\"":
            i = _skip_quoted(sql, i, ch)
        elif sql.startswith("--", i) or sql.startswith("/*", i):
            i = _skip_comment(sql, i)
        elif sql.startswith("::", i):
            i += 2
        elif ch == ":" and i + 1 < n and sql[i + 1] in _IDENT_START:
            j = i + 1
            while j < n and sql[j] in _IDENT:
                j += 1
            yield i, j, sql[i + 1 : j]
            i = j
        else:
            i += 1


def placeholder_names(sql: str) -> set[str]:
    return {name for _, _, name in _scan(sql)}


def rewrite_placeholders(sql: str, render: Callable[[str], str]) -> str:
    out: list[str] = []
    last = 0
    for start, end, name in _scan(sql):
        out.append(sql[last:start])
        out.append(render(name))
        last = end
    out.append(sql[last:])
    return "".join(out)


def to_dollar_style(sql: str) -> str:
    """``:name`` -> ``$name`` (DuckDB's named parameters)."""
    return rewrite_placeholders(sql, lambda name: f"${name}")
