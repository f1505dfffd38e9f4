"""A tenant's template query, held to what the operator granted, or refused.

Why parse, and why re-render: a tenant's SQL runs on the operator's database with the
operator's credentials, so it must not be trusted as text. It is parsed with sqlglot in the
source's own dialect, checked (one SELECT; tables only by plain names the grant allows; no table
functions, no file, ATTACH, COPY, PRAGMA, SET or DML; no function the guard does not know), each
table it names is replaced by ``(SELECT * FROM t WHERE <tenant_column> = :tenant_id)`` when the
grant scopes the source by tenant, and the query that runs is *rendered from that tree*: what
the engine executes is what was checked, never the tenant's text (a comment or quoting trick
that the engine and the parser would read differently has no text left to hide in).
docs/templates.md says exactly what a tenant's SQL can and cannot reach.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Final

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError
from sqlglot.optimizer.scope import traverse_scope

from reportd.domain.errors import QueryNotAllowed, ValidationError
from reportd.domain.query import strip_statement
from reportd.domain.tenant_templates import SourceGrant

__all__ = ["DEFAULT_FUNCTIONS", "SqlGuard", "dialect_of"]

_PLAIN_NAME: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SENTINEL: Final = "__reportd_param_"
_SENTINEL_RE: Final = re.compile(rf"\"?{_SENTINEL}([A-Za-z_][A-Za-z0-9_]*)\"?")
# Catalog tables reachable by a bare name (PostgreSQL's search path holds pg_catalog).
_SYSTEM_PREFIXES: Final = ("pg_", "sqlite_", "duckdb_", "information_schema", "mysql", "sys")
_STATEMENTS: Final = tuple(
    getattr(exp, name)
    for name in (
        "Insert", "Update", "Delete", "Merge", "Create", "Drop", "Alter", "Command", "Into",
        "Lock", "Copy", "Pragma", "Set", "Attach", "Detach", "Use", "Transaction", "Commit",
        "Rollback", "Summarize", "Describe", "Install", "Show", "Kill", "Cache", "Uncache",
        "LoadData", "Refresh", "Grant", "Analyze", "TruncateTable", "Execute", "Export",
    )
    if hasattr(exp, name)
)  # fmt: skip
# Functions sqlglot knows by type but that read or write files.
_DENIED_TYPED: Final = frozenset({"ReadCSV", "ReadParquet", "ToFile"})
# Functions sqlglot does not type, that are plain computations in the engines reportd reads.
DEFAULT_FUNCTIONS: Final = frozenset(
    {
        "strftime", "strptime", "epoch", "epoch_ms", "date_part", "datepart", "date_diff",
        "datediff", "make_date", "make_timestamp", "list_value", "regexp_matches",
        "regexp_replace", "regexp_extract", "printf", "format", "to_char", "julianday",
        "ifnull", "iif", "nullif", "greatest", "least", "trunc", "instr", "lpad", "rpad",
        "reverse", "md5", "sha1", "sha256", "hash", "typeof", "age", "justify_days",
    }
)  # fmt: skip
_DIALECTS: Final = {
    "duckdb": "duckdb",
    "postgresql": "postgres",
    "postgres": "postgres",
    "sqlite": "sqlite",
    "mysql": "mysql",
    "mariadb": "mysql",
}


def dialect_of(url: str) -> str:
    """The sqlglot dialect of a source URL (``duckdb:///…``, ``postgresql+psycopg://…``)."""
    scheme = url.split(":", 1)[0].split("+", 1)[0].lower()
    try:
        return _DIALECTS[scheme]
    except KeyError:
        raise ValidationError(f"tenant templates cannot use a {scheme!r} source") from None


class SqlGuard:
    """Turns a tenant's query into the one that runs on its source, or refuses it."""

    def __init__(
        self,
        dialects: Mapping[str, str] | Callable[[str], str | None],
        *,
        allow_functions: Iterable[str] = DEFAULT_FUNCTIONS,
        max_rows: int | None = None,
    ) -> None:
        # source name -> sqlglot dialect (a callable: looked up at each use, as sources reload)
        self._dialect = dialects.get if isinstance(dialects, Mapping) else dialects
        self._functions = frozenset(f.lower() for f in allow_functions)
        self._max_rows = max_rows

    def contain(self, query: str, grant: SourceGrant) -> str:
        """The SQL to run for ``query`` under ``grant``; ``QueryNotAllowed`` naming why not."""
        dialect = self._dialect(grant.source)
        if dialect is None:
            raise QueryNotAllowed(
                f"source {grant.source!r} cannot serve tenant templates", reason="source_kind"
            )
        if _SENTINEL in query:
            raise QueryNotAllowed(f"the query may not contain {_SENTINEL!r}", reason="reserved")
        tree = _parse(query, dialect)
        _check_nodes(tree, self._functions)
        tables = _base_tables(tree)
        for table in tables:
            _check_table(table, grant)
        if grant.tenant_column:
            for table in tables:
                table.replace(_scoped(table, grant.tenant_column))
        for placeholder in list(tree.find_all(exp.Placeholder)):
            placeholder.replace(exp.column(f"{_SENTINEL}{placeholder.name}"))
        sql = _SENTINEL_RE.sub(lambda m: f":{m.group(1)}", tree.sql(dialect=dialect))
        if self._max_rows is not None:
            sql = f"SELECT * FROM ({sql}) AS tenant_rows LIMIT {int(self._max_rows)}"
        return sql


def _parse(query: str, dialect: str) -> exp.Expr:
    try:
        statements = [s for s in sqlglot.parse(strip_statement(query), read=dialect) if s]
    except ValidationError as exc:  # more SQL after a ';'
        raise QueryNotAllowed(exc.message, reason="multiple_statements") from exc
    except ParseError as exc:
        raise QueryNotAllowed(f"the query does not parse: {exc}", reason="syntax") from exc
    if len(statements) != 1:
        raise QueryNotAllowed("the query must be one statement", reason="multiple_statements")
    tree: exp.Expr = statements[0]
    if not isinstance(tree, exp.Query):
        kind = type(tree).__name__.upper()
        raise QueryNotAllowed(f"the query must be a SELECT, not {kind}", reason="not_a_select")
    return statements[0]


def _check_nodes(tree: exp.Expr, functions: frozenset[str]) -> None:
    for node in tree.walk():
        if isinstance(node, _STATEMENTS):
            kind = type(node).__name__.upper()
            raise QueryNotAllowed(f"{kind} is not allowed in a query", reason="statement")
        if isinstance(node, exp.Placeholder) and not _PLAIN_NAME.match(node.name or ""):
            raise QueryNotAllowed("parameters are named, as :name", reason="positional_parameter")
        if not isinstance(node, exp.Func):
            continue
        if isinstance(node, exp.Anonymous):
            name = str(node.name).lower()
            if name not in functions:
                raise QueryNotAllowed(f"function {name}() is not allowed", reason="function")
        elif type(node).__name__ in _DENIED_TYPED:
            raise QueryNotAllowed(
                f"function {node.sql_name().lower()}() reads files", reason="function"
            )


def _base_tables(tree: exp.Expr) -> list[exp.Table]:
    """Every table the query reads from the database (not a CTE or subquery it names)."""
    base: dict[int, exp.Table] = {}
    for scope in traverse_scope(tree):
        for source in scope.sources.values():
            if isinstance(source, exp.Table):
                base[id(source)] = source
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            raise QueryNotAllowed(
                f"{table.sql()} is a table function; name tables only", reason="table_function"
            )
        if id(table) not in base and table.name.lower() not in ctes:
            raise QueryNotAllowed(f"table {table.name!r} cannot be placed", reason="table")
    return list(base.values())


def _check_table(table: exp.Table, grant: SourceGrant) -> None:
    name = table.name
    if table.args.get("db") or table.args.get("catalog"):
        raise QueryNotAllowed(
            f"{table.sql()}: name tables without a schema or database", reason="qualified_table"
        )
    if not _PLAIN_NAME.match(name):
        raise QueryNotAllowed(f"{name!r} is not a plain table name", reason="table_name")
    if grant.tables:
        if name.lower() not in {t.lower() for t in grant.tables}:
            raise QueryNotAllowed(
                f"table {name!r} is not granted; granted: {sorted(grant.tables)}",
                reason="table_not_granted",
            )
    elif name.lower().startswith(_SYSTEM_PREFIXES):
        raise QueryNotAllowed(f"table {name!r} is a system catalog", reason="table_not_granted")


def _scoped(table: exp.Table, column: str) -> exp.Subquery:
    """``(SELECT * FROM t WHERE "column" = :tenant_id) AS <its alias or its name>``."""
    inner = exp.Table(this=table.this.copy())
    rows = (
        exp.select("*")
        .from_(inner)
        .where(
            exp.EQ(
                this=exp.column(exp.to_identifier(column, quoted=True)),
                expression=exp.Placeholder(this="tenant_id"),
            )
        )
    )
    alias = table.args.get("alias")
    alias = alias.copy() if alias is not None else exp.TableAlias(this=table.this.copy())
    return exp.Subquery(this=rows, alias=alias)
