"""The same awkward values from every SQL source, through the real drivers and pipeline.

One table per engine (PostgreSQL and MariaDB real servers, SQLite and DuckDB files) holds an
all-NULL first batch, NUMERIC with scale and NaN, time-zone-aware and naive timestamps,
offset strings, dates, times, JSON of mixed shapes, arrays, booleans stored as integers,
Korean and emoji text, very long text and a NULL in every type. Each is exported to CSV,
JSON, NDJSON, Parquet and XLSX in one run, and every format must say what the CSV says.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reportd.adapters.sources.base import Source
from reportd.adapters.sources.registry import build_source
from reportd.domain.errors import SourceError
from reportd.domain.formats import FieldType, Format
from reportd.domain.models import Field, Template
from reportd.generation.pipeline import RunControl, RunSpec, generate

LONG = "긴 텍스트 " * 20_000  # 120,000 characters
TEXT = '한국어 텍스트 😀, "quoted"\nsecond line'

FIELDS = (
    Field("id", FieldType.INTEGER, sortable=True),
    Field("amount", FieldType.DECIMAL, precision=20, scale=2),
    Field("ratio", FieldType.DECIMAL),
    Field("at_tz", FieldType.DATETIME, timezone="UTC"),
    Field("at", FieldType.DATETIME),
    Field("day", FieldType.DATE),
    Field("clock", FieldType.TIME),
    Field("doc", FieldType.JSON),
    Field("tags", FieldType.LIST),
    Field("flag", FieldType.BOOLEAN),
    Field("txt", FieldType.STRING),
    Field("long", FieldType.STRING),
    Field("num", FieldType.NUMBER),
)
NAMES = [f.name for f in FIELDS]
EMPTY = dict.fromkeys(NAMES[1:], "")

# What the CSV must hold, whichever engine the rows came from.
EXPECTED = [
    {"id": "1", **EMPTY},
    {"id": "2", **EMPTY},
    {
        "id": "3",
        "amount": "12345678901234567.89",
        "ratio": "0.125",
        "at_tz": "2024-03-01T08:00:00Z",
        "at": "2024-03-01T10:00:00.500000",
        "day": "2024-02-29",
        "clock": "12:34:56.500000",
        "doc": '{"a": [1, 2], "b": null}',
        "tags": "[1,2,3]",
        "flag": "true",
        "txt": TEXT,
        "long": LONG,
        "num": "0.1",
    },
    {
        "id": "4",
        "amount": "-0.01",
        "ratio": "",  # NaN where the engine has it, NULL elsewhere: empty either way
        "at_tz": "2024-12-31T23:59:59Z",
        "at": "2024-12-31T23:59:59",
        "day": "0001-01-01",
        "clock": "00:00:00",
        "doc": '[1, "x", {"k": true}]',
        "tags": "[]",
        "flag": "false",
        "txt": "",
        "long": "x",
        "num": "-1.5",
    },
    {"id": "5", **EMPTY},
]


@dataclass
class Engine:
    url: str
    query: str = "SELECT * FROM t WHERE :tenant_id IS NOT NULL"


def _pg_engine(url: str) -> Engine:
    import psycopg

    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(
            """CREATE TABLE t (id int, amount numeric(20,2), ratio numeric, at_tz timestamptz,
               at timestamp, day date, clock time, doc jsonb, tags int[], flag boolean,
               txt text, long text, num double precision)"""
        )
        conn.execute("INSERT INTO t (id) VALUES (1), (2), (5)")
        conn.execute(
            """INSERT INTO t VALUES
               (3, 12345678901234567.89, 0.125, '2024-03-01 10:00:00+02', '2024-03-01 10:00:00.5',
                '2024-02-29', '12:34:56.5', '{"a": [1, 2], "b": null}', '{1,2,3}', true,
                %(txt)s, %(long)s, 0.1),
               (4, -0.01, 'NaN', '2024-12-31 23:59:59Z', '2024-12-31 23:59:59', '0001-01-01',
                '00:00:00', '[1, "x", {"k": true}]', '{}', false, '', 'x', -1.5)""",
            {"txt": TEXT, "long": LONG},
        )
    return Engine(url.replace("postgresql+psycopg://", "postgresql://"))


def _mysql_engine(url: str) -> Engine:
    import pymysql

    host, rest = url.removeprefix("mysql://root@").split("/", 1)
    conn = pymysql.connect(
        host=host.split(":")[0], port=int(host.split(":")[1]), user="root", database=rest,
        autocommit=True, charset="utf8mb4",
    )  # fmt: skip
    with conn.cursor() as cursor:
        cursor.execute(
            """CREATE TABLE t (id int, amount decimal(20,2), ratio decimal(10,3),
               at_tz varchar(40), at datetime(6), day date, clock time(6), doc json, tags json,
               flag tinyint(1), txt text, `long` mediumtext, num double)
               CHARACTER SET utf8mb4"""
        )
        cursor.execute("INSERT INTO t (id) VALUES (1), (2), (5)")
        cursor.execute(
            """INSERT INTO t VALUES
               (3, 12345678901234567.89, 0.125, '2024-03-01T10:00:00+02:00',
                '2024-03-01 10:00:00.5', '2024-02-29', '12:34:56.5', '{"a": [1, 2], "b": null}',
                '[1,2,3]', 1, %s, %s, 0.1),
               (4, -0.01, NULL, '2024-12-31T23:59:59Z', '2024-12-31 23:59:59', '0001-01-01',
                '00:00:00', '[1, "x", {"k": true}]', '[]', 0, '', 'x', -1.5)""",
            (TEXT, LONG),
        )
    conn.close()
    return Engine(url)


def _sqlite_engine(path: Path) -> Engine:
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE t (id INTEGER, amount TEXT, ratio, at_tz TEXT, at TEXT, day TEXT, "
            "clock TEXT, doc TEXT, tags TEXT, flag INTEGER, txt TEXT, long TEXT, num REAL)"
        )
        conn.execute("INSERT INTO t (id) VALUES (1), (2), (5)")
        conn.executemany(
            "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (3, "12345678901234567.89", 0.125, "2024-03-01T10:00:00+02:00",
                 "2024-03-01 10:00:00.5", "2024-02-29", "12:34:56.5",
                 '{"a": [1, 2], "b": null}', "[1,2,3]", 1, TEXT, LONG, 0.1),
                (4, "-0.01", "NaN", "2024-12-31 23:59:59Z", "2024-12-31T23:59:59",
                 "0001-01-01", "00:00:00", '[1, "x", {"k": true}]', "[]", 0, "", "x", -1.5),
            ],
        )  # fmt: skip
    return Engine(f"sqlite:///{path}", "SELECT * FROM t WHERE :tenant_id IS NOT NULL ORDER BY id")


def _duckdb_engine(path: Path) -> Engine:
    with duckdb.connect(str(path)) as conn:
        conn.execute(
            "CREATE TABLE t (id INTEGER, amount DECIMAL(20,2), ratio DECIMAL(10,3), "
            'at_tz TIMESTAMPTZ, "at" TIMESTAMP, day DATE, clock TIME, doc JSON, tags INTEGER[], '
            "flag BOOLEAN, txt VARCHAR, long VARCHAR, num DOUBLE)"
        )
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute("INSERT INTO t (id) VALUES (1), (2)")
        conn.execute(
            """INSERT INTO t VALUES
               (3, 12345678901234567.89, 0.125, '2024-03-01 10:00:00+02', '2024-03-01 10:00:00.5',
                '2024-02-29', '12:34:56.5', '{"a": [1, 2], "b": null}', [1, 2, 3], true, ?, ?,
                0.1),
               (4, -0.01, NULL, '2024-12-31 23:59:59Z', '2024-12-31 23:59:59', '0001-01-01',
                '00:00:00', '[1, "x", {"k": true}]', [], false, '', 'x', -1.5)""",
            [TEXT, LONG],
        )
        conn.execute("INSERT INTO t (id) VALUES (5)")
    return Engine(f"duckdb:///{path}", "SELECT * FROM t WHERE :tenant_id IS NOT NULL ORDER BY id")


@pytest.fixture(params=["postgresql", "mariadb", "sqlite", "duckdb"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "postgresql":
        yield _pg_engine(request.getfixturevalue("pg_url"))
    elif request.param == "mariadb":
        yield _mysql_engine(request.getfixturevalue("mysql_url"))
    elif request.param == "sqlite":
        yield _sqlite_engine(tmp_path / "types.db")
    else:
        yield _duckdb_engine(tmp_path / "types.duckdb")


def _template(engine: Engine, fields: tuple[Field, ...] = FIELDS) -> Template:
    return Template("types", "Types", "s", engine.query, fields, tuple(Format))


def _export(
    source: Source, template: Template, workdir: Path, formats: tuple[Format, ...]
) -> dict[Format, Path]:
    spec = RunSpec(
        template=template,
        tenant_id="t1",
        fields=tuple(f.name for f in template.fields),
        formats=formats,
        order_by=("id",),
    )
    result = generate(spec, source, workdir, RunControl(), batch_size=2)
    return {f.format: f.path for f in result.files}


FORMATS = (Format.CSV, Format.JSON, Format.NDJSON, Format.PARQUET, Format.XLSX)


def test_every_format_holds_the_same_values_from_every_source(
    engine: Engine, tmp_path: Path
) -> None:
    source = build_source("s", engine.url)
    try:
        files = _export(source, _template(engine), tmp_path, FORMATS)
    finally:
        source.close()
    with files[Format.CSV].open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [_comparable(r) for r in rows] == [_comparable(r) for r in EXPECTED]
    ndjson = [json.loads(line) for line in files[Format.NDJSON].read_text().splitlines()]
    assert json.loads(files[Format.JSON].read_text()) == ndjson
    assert [_comparable(_as_csv(r)) for r in ndjson] == [_comparable(r) for r in rows]
    _check_parquet(files[Format.PARQUET], rows)
    _check_xlsx(files[Format.XLSX], rows)


def _comparable(row: dict[str, str]) -> dict[str, Any]:
    """JSON fields compared by meaning (engines space their JSON text differently)."""
    return {k: (json.loads(v) if k in ("doc", "tags") and v else v) for k, v in row.items()}


def _as_csv(row: dict[str, Any]) -> dict[str, str]:
    """A JSON row's values as the CSV's texts."""
    out: dict[str, str] = {}
    for key, value in row.items():
        if value is None:
            out[key] = ""
        elif key in ("doc", "tags"):
            out[key] = json.dumps(value)
        elif isinstance(value, bool):
            out[key] = "true" if value else "false"
        else:
            out[key] = str(value)
    return out


def _check_parquet(path: Path, rows: list[dict[str, str]]) -> None:
    table = pq.read_table(path)
    assert table.schema.field("amount").type == pa.decimal128(20, 2)
    assert table.column("amount")[2].as_py() == Decimal("12345678901234567.89")
    assert table.schema.field("at_tz").type.tz is not None
    assert table.schema.field("clock").type == pa.time64("us")
    values = table.to_pylist()
    for parquet_row, csv_row in zip(values, rows, strict=True):
        assert str(parquet_row["id"]) == csv_row["id"]
        assert (parquet_row["txt"] or "") == csv_row["txt"]
        assert (parquet_row["long"] or "") == csv_row["long"]
        if csv_row["ratio"]:
            assert Decimal(parquet_row["ratio"]) == Decimal(csv_row["ratio"])


def _check_xlsx(path: Path, rows: list[dict[str, str]]) -> None:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        sheet = book.worksheets[0]
        cells = [list(r) for r in sheet.iter_rows(min_row=2, values_only=True)]
    finally:
        book.close()
    amount, txt = NAMES.index("amount"), NAMES.index("txt")
    assert cells[2][amount] == "12345678901234567.89"
    assert cells[2][txt] == TEXT
    assert [c[NAMES.index("id")] for c in cells] == [1, 2, 3, 4, 5]


# -- values that do not fit ------------------------------------------------------------------


def test_a_value_that_does_not_fit_names_field_row_and_value(
    engine: Engine, tmp_path: Path
) -> None:
    """``txt`` declared an integer: the first non-integer text is the error, not a traceback."""
    fields = tuple(Field(f.name, FieldType.INTEGER) if f.name == "txt" else f for f in FIELDS)
    source = build_source("s", engine.url)
    try:
        with pytest.raises(SourceError) as info:
            _export(source, _template(engine, fields), tmp_path, (Format.CSV,))
    finally:
        source.close()
    message = info.value.message
    assert "'txt'" in message
    assert "row 3" in message
    assert "한국어" in message
    assert info.value.details["row"] == 3


def test_a_json_field_refuses_text_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "bad.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (id INTEGER, doc TEXT)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [(1, '{"ok": 1}'), (2, "{nope")])
    fields = (Field("id", FieldType.INTEGER, sortable=True), Field("doc", FieldType.JSON))
    source = build_source("s", f"sqlite:///{path}")
    template = Template(
        "bad", "Bad", "s", "SELECT * FROM t WHERE :tenant_id IS NOT NULL", fields, (Format.CSV,)
    )
    try:
        with pytest.raises(SourceError, match=r"'doc'.*row 2.*\{nope"):
            _export(source, template, tmp_path, (Format.CSV,))
    finally:
        source.close()
