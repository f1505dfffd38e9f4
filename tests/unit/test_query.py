"""The report's final SQL: the template wrapped as a subquery, projected, filtered, ordered."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reportd.domain.errors import FilterSyntaxError, ValidationError
from reportd.domain.filters import SqlFragment
from reportd.domain.formats import FieldType
from reportd.domain.models import Field
from reportd.domain.query import build_report_query, strip_statement

FIELDS = {
    f.name: f
    for f in (
        Field("order_id", FieldType.INTEGER, filterable=True, sortable=True),
        Field("customer", FieldType.STRING, filterable=True, sortable=True),
        Field("amount", FieldType.NUMBER, filterable=True, sortable=True),
        Field("paid", FieldType.BOOLEAN, filterable=True),
        Field("note", FieldType.STRING),
    )
}
TEMPLATE = "SELECT order_id, customer, amount, paid, note FROM orders WHERE tenant = :tenant_id"


def test_full_query() -> None:
    fragment = build_report_query(
        TEMPLATE,
        ["customer", "amount"],
        FIELDS,
        'amount gt 10 and customer sw "A"',
        ["-amount", "order_id"],
    )
    assert fragment == SqlFragment(
        'SELECT "customer", "amount" FROM (\n'
        f"{TEMPLATE}\n"
        ') AS _report WHERE ("amount" > :_f0 AND "customer" LIKE :_f1 ESCAPE \'\\\') '
        'ORDER BY "amount" DESC, "order_id"',
        {"_f0": 10, "_f1": "A%"},
    )


@pytest.mark.parametrize("filter_text", [None, "", "   "])
def test_no_filter_and_no_order_omit_where_and_order_by(filter_text: str | None) -> None:
    fragment = build_report_query(TEMPLATE, ["order_id"], FIELDS, filter_text, [])
    assert fragment == SqlFragment(f'SELECT "order_id" FROM (\n{TEMPLATE}\n) AS _report', {})


def test_order_only() -> None:
    sql = build_report_query(TEMPLATE, ["order_id"], FIELDS, None, ["customer"]).sql
    assert sql.endswith(') AS _report ORDER BY "customer"')


@pytest.mark.parametrize(
    ("query", "body"),
    [
        ("SELECT 1", "SELECT 1"),
        ("SELECT 1;", "SELECT 1"),
        ("SELECT 1 ;; \n\n", "SELECT 1"),
        ("  SELECT 1\n-- the end; really\n", "  SELECT 1"),
        ("SELECT 1; -- done", "SELECT 1"),
        ("SELECT 1 /* trailing; */ ;", "SELECT 1"),
        ("SELECT ';' AS x;", "SELECT ';' AS x"),
        ("SELECT 'it''s;' AS x;", "SELECT 'it''s;' AS x"),
        ('SELECT 1 AS "a;b";', 'SELECT 1 AS "a;b"'),
        ("SELECT E'\\';' AS x;", "SELECT E'\\';' AS x"),
        ("SELECT $$;$$ AS x;", "SELECT $$;$$ AS x"),
        ("SELECT $q$;'$q$ AS x;", "SELECT $q$;'$q$ AS x"),
        ("SELECT a -- pick a;\nFROM t;", "SELECT a -- pick a;\nFROM t"),
        ("SELECT 8 / 2 - 1;", "SELECT 8 / 2 - 1"),
    ],
)
def test_strip_statement(query: str, body: str) -> None:
    assert strip_statement(query) == body


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("SELECT 1; SELECT 2", "single statement"),
        ("SELECT 1; DROP TABLE orders;", "single statement"),
        ("", "empty"),
        ("  ; -- nothing\n", "empty"),
    ],
)
def test_strip_statement_refuses(query: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        strip_statement(query)


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ([], "at least one column"),
        (["bogus"], "unknown column 'bogus'"),
        (["customer", "customer"], "more than once"),
    ],
)
def test_columns_must_be_known_fields(columns: list[str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        build_report_query(TEMPLATE, columns, FIELDS, None, [])


def test_filter_and_order_errors_are_filter_syntax_errors() -> None:
    with pytest.raises(FilterSyntaxError, match="field is not filterable: 'note'"):
        build_report_query(TEMPLATE, ["note"], FIELDS, 'note eq "x"', [])
    with pytest.raises(FilterSyntaxError, match="field is not sortable: 'paid'"):
        build_report_query(TEMPLATE, ["note"], FIELDS, None, ["paid"])


def test_reserved_parameter_names_in_the_template_are_refused() -> None:
    template = "SELECT * FROM orders WHERE amount > :_f0"
    with pytest.raises(ValidationError, match="reserved"):
        build_report_query(template, ["amount"], FIELDS, "amount gt 1", [])


# -- Against a real database ----------------------------------------------------------------------

ORDERS = [
    # order_id, tenant, customer, amount, paid, note
    (1, "t1", "Alice", 30.0, 1, "first"),
    (2, "t1", "Bob", 10.0, 0, None),
    (3, "t1", "Alice", 20.0, 1, "third"),
    (4, "t2", "Carol", 99.0, 1, "other tenant"),
    (5, "t1", "Al_ce", 5.0, None, None),
]


def _run(fragment: SqlFragment, **template_params: Any) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(":memory:")
    try:
        db.execute(
            "CREATE TABLE orders (order_id INTEGER, tenant TEXT, customer TEXT, amount REAL,"
            " paid BOOLEAN, note TEXT)"
        )
        db.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?)", ORDERS)
        return db.execute(fragment.sql, {**template_params, **fragment.params}).fetchall()
    finally:
        db.close()


def test_runs_on_sqlite_with_a_messy_template() -> None:
    template = f"  {TEMPLATE} ; -- the orders of one tenant;\n/* end */\n\n"
    fragment = build_report_query(
        template,
        ["order_id", "amount"],
        FIELDS,
        'paid eq "true" and customer eq "Alice"',
        ["-amount"],
    )
    assert _run(fragment, tenant_id="t1") == [(1, 30.0), (3, 20.0)]


def test_filters_and_orders_on_columns_that_are_not_selected() -> None:
    fragment = build_report_query(
        TEMPLATE, ["order_id"], FIELDS, "amount ge 10", ["customer", "-amount"]
    )
    assert _run(fragment, tenant_id="t1") == [(1,), (3,), (2,)]


def test_like_wildcards_in_values_are_literal_on_sqlite() -> None:
    fragment = build_report_query(TEMPLATE, ["order_id"], FIELDS, 'customer sw "Al_"', [])
    assert _run(fragment, tenant_id="t1") == [(5,)]


def test_unusual_column_names_are_quoted() -> None:
    fields = {
        "select": Field("select", FieldType.INTEGER, filterable=True, sortable=True),
        'we"ird': Field('we"ird', FieldType.STRING),
    }
    fragment = build_report_query(
        """SELECT 1 AS "select", 'x' AS "we""ird" ;""",
        ['we"ird', "select"],
        fields,
        "select eq 1",
        ["-select"],
    )
    assert _run(fragment) == [("x", 1)]


@given(
    st.sampled_from(["", ";", " ; ", ";\n-- bye", "\n/* c; */;", " -- x\n"]),
    st.sampled_from([None, "amount gt 10", 'customer co "l" or paid eq false']),
    st.lists(st.sampled_from(["order_id", "-amount", "customer"]), max_size=3, unique=True),
)
@settings(max_examples=60, deadline=None)
def test_trailers_never_change_the_rows(
    trailer: str, filter_text: str | None, order: list[str]
) -> None:
    plain = build_report_query(TEMPLATE, ["order_id"], FIELDS, filter_text, order)
    messy = build_report_query(TEMPLATE + trailer, ["order_id"], FIELDS, filter_text, order)
    assert _run(messy, tenant_id="t1") == _run(plain, tenant_id="t1")
