"""Format writers, schema conforming and packaging.

One contract suite runs over every writer the registry offers: the same batches go in and
the file, read back with the format's own reader, must hold the same canonical values.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
import struct
import tracemalloc
import zipfile
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
import pyzipper
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reportd.domain.errors import FormatInapplicable, SourceError
from reportd.domain.formats import FieldType, Format, Packaging
from reportd.domain.models import Field, Template
from reportd.generation.formats.base import WriteContext
from reportd.generation.formats.packaging import generate_password, package
from reportd.generation.formats.parquet import ParquetWriter
from reportd.generation.formats.registry import available_formats, open_writer, writer_class
from reportd.generation.formats.schema import canonical_schema, conform

PARIS = ZoneInfo("Europe/Paris")
FIELDS = (
    Field("name", FieldType.STRING),
    Field("count", FieldType.INTEGER),
    Field("amount", FieldType.NUMBER),
    Field("paid", FieldType.BOOLEAN),
    Field("day", FieldType.DATE),
    Field("at", FieldType.DATETIME),
    Field("at_paris", FieldType.DATETIME),
    Field("at_utc", FieldType.DATETIME),
)
NAMES = [
    "plain",
    "한국어 보고서",
    'say "hi"',
    "a,b",
    "line\nbreak\r\nend",
    "back\\slash\ttab\x01ctl",
    "",
    None,
]
COUNTS = [0, -1, 2**62, None, 42, 7, -(2**63), 1]
AMOUNTS = [0.1, -2.5, 1e20, None, 1 / 3, 0.0, 123456789.125, -1e-7]
PAID = [True, False, None, True, False, True, True, False]
DAYS = [date(2024, 1, 2), date(1, 1, 1), None, date(9999, 12, 31)] + [date(2024, 2, 29)] * 4
AT = [
    datetime(2024, 1, 2, 3, 4, 5),
    datetime(2024, 1, 2, 3, 4, 5, 500000),
    None,
    datetime(1999, 12, 31, 23, 59, 59, 1),
] + [datetime(2024, 7, 1)] * 4
AT_TZ = [None if v is None else v.replace(tzinfo=UTC) for v in AT]


def source_batch() -> pa.RecordBatch:
    """Source types on purpose not canonical: int32, float32-free, tz columns, extra column."""
    return pa.RecordBatch.from_arrays(
        [
            pa.array(COUNTS, pa.int64()),
            pa.array(NAMES, pa.string()),
            pa.array(AMOUNTS, pa.float64()),
            pa.array(PAID, pa.bool_()),
            pa.array(DAYS, pa.date32()),
            pa.array(AT, pa.timestamp("us")),
            pa.array(AT_TZ, pa.timestamp("us", "Europe/Paris")),
            pa.array(AT_TZ, pa.timestamp("ns", "Etc/UTC")),
            pa.array(range(8), pa.int8()),
        ],
        names=["count", "name", "amount", "paid", "day", "at", "at_paris", "at_utc", "extra"],
    )


def expected_text(field: Field, value: object) -> str | None:
    """The canonical rendering, computed independently of the writers."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return {1e20: "1e+20", -1e-7: "-1e-7", 0.0: "0", 123456789.125: "123456789.125"}.get(
            value, repr(value)
        )
    if isinstance(value, datetime) and value.tzinfo is not None:
        if field.name == "at_paris":
            return value.astimezone(PARIS).isoformat()
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def expected_rows() -> list[list[str | None]]:
    columns = [NAMES, COUNTS, AMOUNTS, PAID, DAYS, AT, AT_TZ, AT_TZ]
    return [
        [expected_text(f, col[i]) for f, col in zip(FIELDS, columns, strict=True)]
        for i in range(len(NAMES))
    ]


def context(fields: tuple[Field, ...] = FIELDS, threads: int | None = None) -> WriteContext:
    template = Template(
        id="t", name="T", source="s", query="select 1", fields=fields, formats=tuple(Format)
    )
    return WriteContext(template=template, fields=fields, render_threads=threads)


def write(fmt: Format, path: Path, batches: Iterable[pa.RecordBatch]) -> int:
    schema = canonical_schema(FIELDS, source_batch().schema)
    with open_writer(fmt, path, schema, context()) as writer:
        for batch in batches:
            writer.write(conform(batch, schema))
    return writer.rows


def _json_cell(value: object) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if value is None else str(value)


def _json_row(obj: dict[str, object]) -> list[str | None]:
    assert list(obj) == [f.name for f in FIELDS]
    return [_json_cell(v) for v in obj.values()]


def read_csv(path: Path) -> list[list[str | None]]:
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == [f.name for f in FIELDS]
    return [[cell or None for cell in row] for row in rows[1:]]


def read_json(path: Path) -> list[list[str | None]]:
    text = path.read_text(encoding="utf-8")
    data = json.loads(text, parse_float=str, parse_int=str)
    return [_json_row(obj) for obj in data]


def read_ndjson(path: Path) -> list[list[str | None]]:
    text = path.read_text(encoding="utf-8")
    assert text == "" or text.endswith("\n")
    lines = text.split("\n")[:-1]
    return [_json_row(json.loads(line, parse_float=str, parse_int=str)) for line in lines]


def read_parquet(path: Path) -> list[list[str | None]]:
    """Typed values back through pyarrow, rendered by the suite's own ``expected_text``."""
    table = pq.read_table(path)
    assert table.schema.names == [f.name for f in FIELDS]
    return [[expected_text(f, row[f.name]) for f in FIELDS] for row in table.to_pylist()]


def xlsx_cells(path: Path) -> list[list[object]]:
    """Every sheet's data rows, in order, after checking each sheet's header row."""
    rows: list[list[object]] = []
    with path.open("rb") as file:  # openpyxl refuses a path not ending in .xlsx
        book = openpyxl.load_workbook(file, read_only=True)
        for number, sheet in enumerate(book.worksheets, start=1):
            assert sheet.title == ("T" if number == 1 else f"T ({number})")
            values = [list(row) for row in sheet.iter_rows(values_only=True)]
            assert values[0] == [f.title for f in FIELDS[: len(values[0])]]
            rows.extend(values[1:])
        book.close()
    return rows


def unescape_ooxml(value: str) -> str:
    """OOXML writes characters XML cannot hold as ``_xHHHH_``; openpyxl leaves them so."""
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), value)


def xlsx_text(field: Field, value: object) -> str | None:
    """A typed cell as the canonical text of its field type (text cells as they are)."""
    if value is None or isinstance(value, str):
        return value if value is None else unescape_ooxml(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat() if field.type is FieldType.DATE else value.isoformat()
    assert isinstance(value, (int, float))
    if field.type is FieldType.INTEGER:
        assert float(value).is_integer()
        return str(int(value))
    return expected_text(field, float(value))


def read_xlsx(path: Path) -> list[list[str | None]]:
    return [[xlsx_text(f, v) for f, v in zip(FIELDS, row, strict=True)] for row in xlsx_cells(path)]


READERS: dict[Format, Callable[[Path], list[list[str | None]]]] = {
    Format.CSV: read_csv,
    Format.JSON: read_json,
    Format.NDJSON: read_ndjson,
    Format.XLSX: read_xlsx,
    Format.PARQUET: read_parquet,
}


def csv_view(rows: list[list[str | None]]) -> list[list[str | None]]:
    """What csv.reader can tell apart: the empty string reads back as NULL."""
    return [[cell or None for cell in row] for row in rows]


EXCEL_FIRST_DAY = datetime(1900, 3, 1)


def excel_datetime(text: str) -> str:
    """What an Excel cell keeps of a datetime: the wall time, to the millisecond.

    Excel has no time zones (the writer keeps the wall time in the column's zone) and stores
    days as a double, which openpyxl reads back rounded to the millisecond. Datetimes before
    1900-03-01 are text cells holding the canonical text.
    """
    value = datetime.fromisoformat(text)
    wall = value.replace(tzinfo=None)
    if wall < EXCEL_FIRST_DAY:
        return text
    millis = round(wall.microsecond / 1000)
    return (wall.replace(microsecond=0) + timedelta(milliseconds=millis)).isoformat()


def excel_view(rows: list[list[str | None]]) -> list[list[str | None]]:
    """Canonical rows as Excel holds them: see ``excel_datetime``; "" is an empty cell."""
    return [
        [
            excel_datetime(cell) if cell and f.type is FieldType.DATETIME else cell or None
            for f, cell in zip(FIELDS, row, strict=True)
        ]
        for row in rows
    ]


def view(fmt: Format, rows: list[list[str | None]]) -> list[list[str | None]]:
    """The canonical rows as much as ``fmt`` can tell them apart."""
    if fmt is Format.CSV:
        return csv_view(rows)
    if fmt is Format.XLSX:
        return excel_view(rows)
    return rows


# PDF is a document, not a data file: tests/unit/test_pdf.py checks it with pdftotext.
CONTRACT_FORMATS = tuple(f for f in available_formats() if f is not Format.PDF)


@pytest.fixture(params=CONTRACT_FORMATS, ids=str)
def fmt(request: pytest.FixtureRequest) -> Format:
    assert request.param in READERS, f"no reader in the contract suite for {request.param}"
    return Format(request.param)


def test_contract_values_round_trip(fmt: Format, tmp_path: Path) -> None:
    path = tmp_path / f"out.{fmt.extension}"
    # The last batch has whole seconds only, which renders on a faster path.
    rows = write(fmt, path, [source_batch(), source_batch().slice(2, 3), source_batch().slice(4)])
    expected = expected_rows() + expected_rows()[2:5] + expected_rows()[4:]
    got = READERS[fmt](path)
    assert rows == len(expected)
    assert got == view(fmt, expected)


def test_contract_same_values_as_csv(fmt: Format, tmp_path: Path) -> None:
    """Every format holds the CSV's values, compared as far as the format can hold them."""
    write(Format.CSV, tmp_path / "ref.csv", [source_batch()])
    write(fmt, tmp_path / "out", [source_batch()])
    got = csv_view(READERS[fmt](tmp_path / "out"))
    reference = read_csv(tmp_path / "ref.csv")
    assert got == (excel_view(reference) if fmt is Format.XLSX else reference)


def test_contract_many_threads_keep_order(fmt: Format, tmp_path: Path) -> None:
    schema = canonical_schema(FIELDS, source_batch().schema)
    big = pa.concat_batches([source_batch()] * 10_000)  # 80k rows: two render chunks
    with open_writer(fmt, tmp_path / "out", schema, context(threads=3)) as writer:
        writer.write(conform(big, schema))
        writer.write(conform(source_batch(), schema))
    got = READERS[fmt](tmp_path / "out")
    expected = expected_rows() * 10_001
    assert got == view(fmt, expected)


def test_contract_empty_result(fmt: Format, tmp_path: Path) -> None:
    path = tmp_path / "out"
    assert write(fmt, path, []) == 0
    assert READERS[fmt](path) == []
    if fmt in (Format.CSV, Format.JSON, Format.NDJSON):
        text = path.read_text(encoding="utf-8")
        empty = {Format.CSV: ",".join(f.name for f in FIELDS) + "\n", Format.JSON: "[]\n"}
        assert text == empty.get(fmt, "")


# Rows Excel holds typed throughout; the others go cell by cell in Python, which under
# tracemalloc takes minutes at this size (test_xlsx.py checks that path's memory on its own).
TYPED_IN_EXCEL = [0, 3, 4, 5, 7]


def test_contract_memory_is_flat(fmt: Format, tmp_path: Path) -> None:
    schema = canonical_schema(FIELDS, source_batch().schema)
    rows = source_batch().take(TYPED_IN_EXCEL) if fmt is Format.XLSX else source_batch()
    batch = conform(pa.concat_batches([rows] * (8_000 // rows.num_rows)), schema)

    def peaks(batches: int) -> tuple[int, int]:
        arrow_peak = 0
        tracemalloc.start()
        with open_writer(fmt, tmp_path / "out", schema, context()) as writer:
            for _ in range(batches):
                writer.write(batch)
                arrow_peak = max(arrow_peak, pa.total_allocated_bytes())
        python_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return python_peak, arrow_peak

    peaks(3)  # warm up imports and caches
    small_py, small_arrow = peaks(8)
    large_py, large_arrow = peaks(80)
    assert large_py < small_py * 1.5 + 256 * 1024
    # Up to threads + 1 chunks render at once, and 80 samples catch more of them in flight
    # than 8 do on a loaded machine; a writer that kept its rows would hold 72 batches more.
    assert large_arrow < small_arrow * 1.5 + 4 * batch.nbytes


def test_csv_quotes_only_where_needed(tmp_path: Path) -> None:
    write(Format.CSV, tmp_path / "out.csv", [source_batch()])
    lines = (tmp_path / "out.csv").read_bytes().split(b"\n")
    first = b"plain,0,0.1,true,2024-01-02,2024-01-02T03:04:05,"
    assert lines[1] == first + b"2024-01-02T04:04:05+01:00,2024-01-02T03:04:05Z"
    assert lines[3].startswith(b'"say ""hi""",')
    assert lines[4].startswith(b'"a,b",')
    assert b'\n"",' in (tmp_path / "out.csv").read_bytes()  # empty string, not NULL
    assert lines[-2].startswith(b",1,-1e-7,false,")  # NULL: an empty field
    assert b"\r\n" not in (tmp_path / "out.csv").read_bytes().replace(b"break\r\nend", b"")


def test_csv_reads_with_pyarrow(tmp_path: Path) -> None:
    write(Format.CSV, tmp_path / "out.csv", [source_batch()])
    table = pacsv.read_csv(tmp_path / "out.csv")
    assert table.column("count").to_pylist() == COUNTS
    assert table.column("name").to_pylist()[:4] == NAMES[:4]


def test_json_is_one_array_of_objects(tmp_path: Path) -> None:
    write(Format.JSON, tmp_path / "out.json", [source_batch().slice(0, 2)])
    text = (tmp_path / "out.json").read_text(encoding="utf-8")
    assert text.startswith('[{"name":"plain","count":0,"amount":0.1,"paid":true,')
    assert text.count("},\n{") == 1
    assert text.endswith("}]\n")


def test_json_escapes_every_control_character(tmp_path: Path) -> None:
    nasty = "".join(chr(c) for c in range(0x20)) + '"\\/\u2028é한'
    batch = pa.RecordBatch.from_arrays([pa.array([nasty, "x"])], names=["s"])
    fields = (Field("s"),)
    schema = canonical_schema(fields)
    with open_writer(Format.NDJSON, tmp_path / "o", schema, context(fields)) as writer:
        writer.write(conform(batch, schema))
    lines = (tmp_path / "o").read_text(encoding="utf-8").splitlines()  # splits at U+2028 too
    assert [json.loads(line)["s"] for line in lines] == [nasty, "x"]


def test_non_finite_floats_render_as_null(tmp_path: Path) -> None:
    values = [float("nan"), float("inf"), float("-inf"), 1.5]
    fields = (Field("x", FieldType.NUMBER),)
    batch = pa.RecordBatch.from_arrays([pa.array(values)], names=["x"])
    schema = canonical_schema(fields)
    for fmt in (Format.CSV, Format.NDJSON):
        with open_writer(fmt, tmp_path / "o", schema, context(fields)) as writer:
            writer.write(conform(batch, schema))
        text = (tmp_path / "o").read_text()
        assert text in ('x\n""\n""\n""\n1.5\n', '{"x":null}\n' * 3 + '{"x":1.5}\n')


@pytest.mark.parametrize(
    "column",
    [
        pa.array(["a,b", 'q"', None]).dictionary_encode(),
        pa.array(["a,b", 'q"', None], pa.large_string()),
    ],
    ids=["dictionary", "large_string"],
)
def test_unconformed_string_columns_keep_string_rules(column: pa.Array, tmp_path: Path) -> None:
    fields = (Field("s"),)
    batch = pa.RecordBatch.from_arrays([column], names=["s"])
    for fmt, reader in ((Format.CSV, read_csv_cells), (Format.NDJSON, read_ndjson_cells)):
        with open_writer(fmt, tmp_path / "o", batch.schema, context(fields)) as writer:
            writer.write(batch)
        assert reader(tmp_path / "o") == [["a,b"], ['q"'], [None]]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=st.lists(st.one_of(st.none(), st.text()), min_size=1, max_size=20))
def test_any_strings_round_trip(values: list[str | None], tmp_path: Path) -> None:
    fields = (Field("s"), Field("n", FieldType.INTEGER))
    batch = pa.RecordBatch.from_arrays(
        [pa.array(values, pa.string()), pa.array(range(len(values)))], names=["s", "n"]
    )
    for fmt in CONTRACT_FORMATS:
        with open_writer(fmt, tmp_path / "o", batch.schema, context(fields)) as writer:
            writer.write(batch)
        got = [row[0] for row in READ_ANY[fmt](tmp_path / "o")]
        empty_is_null = fmt in (Format.CSV, Format.XLSX)
        assert got == ([v or None for v in values] if empty_is_null else values)


def _read_json_any(path: Path) -> list[list[object]]:
    return [list(obj.values()) for obj in json.loads(path.read_text(encoding="utf-8"))]


def _read_xlsx_any(path: Path) -> list[list[object]]:
    with path.open("rb") as file:
        book = openpyxl.load_workbook(file, read_only=True)
        rows = [list(row) for row in book.worksheets[0].iter_rows(values_only=True)][1:]
        book.close()
    return [[unescape_ooxml(v) if isinstance(v, str) else v for v in row] for row in rows]


READ_ANY: dict[Format, Callable[[Path], list[list[object]]]] = {
    Format.CSV: lambda p: read_csv_cells(p),
    Format.JSON: _read_json_any,
    Format.NDJSON: lambda p: read_ndjson_cells(p),
    Format.XLSX: _read_xlsx_any,
    Format.PARQUET: lambda p: [list(row.values()) for row in pq.read_table(p).to_pylist()],
}


def read_csv_cells(path: Path) -> list[list[str | None]]:
    with path.open(newline="", encoding="utf-8") as f:
        return [[cell or None for cell in row] for row in list(csv.reader(f))[1:]]


def read_ndjson_cells(path: Path) -> list[list[str | None]]:
    lines = path.read_text(encoding="utf-8").split("\n")[:-1]
    return [list(json.loads(line).values()) for line in lines]


# --- parquet ------------------------------------------------------------------------------


def write_parquet(path: Path, batches: Iterable[pa.RecordBatch], **sizes: int) -> int:
    schema = canonical_schema(FIELDS, source_batch().schema)
    with ParquetWriter(path, schema, context(), **sizes) as writer:
        for batch in batches:
            writer.write(conform(batch, schema))
    return writer.rows


def row_groups(path: Path) -> list[int]:
    meta = pq.ParquetFile(path).metadata
    return [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]


def test_parquet_row_groups_are_full_up_to_the_last(tmp_path: Path) -> None:
    batches = [source_batch(), source_batch().slice(0, 3), source_batch()]
    assert write_parquet(tmp_path / "a.parquet", batches, row_group_rows=5) == 19
    assert row_groups(tmp_path / "a.parquet") == [5, 5, 5, 4]
    assert write_parquet(tmp_path / "b.parquet", batches) == 19
    assert row_groups(tmp_path / "b.parquet") == [19]  # small batches, one row group
    # A byte budget closes a group early when rows are wide.
    write_parquet(tmp_path / "c.parquet", batches, row_group_bytes=1)
    assert row_groups(tmp_path / "c.parquet") == [8, 3, 8]
    assert read_parquet(tmp_path / "c.parquet") == read_parquet(tmp_path / "b.parquet")


def test_parquet_keeps_types_labels_and_template(tmp_path: Path) -> None:
    fields = (Field("n", FieldType.INTEGER, label="Count"), Field("s"))
    template = Template("orders", "Orders report", "s", "q", fields, (Format.PARQUET,))
    schema = canonical_schema(fields)
    batch = pa.RecordBatch.from_arrays([pa.array([1, None]), pa.array(["a", "b"])], ["n", "s"])
    path = tmp_path / "out.parquet"
    with ParquetWriter(path, schema, WriteContext(template, fields, report_name="Q1")) as w:
        w.write(batch)
    file = pq.ParquetFile(path)
    assert file.schema_arrow.equals(schema, check_metadata=False)
    assert file.schema_arrow.field("n").metadata == {b"label": b"Count"}
    assert file.schema_arrow.field("s").metadata == {b"label": b"s"}
    meta = file.schema_arrow.metadata
    assert meta[b"reportd.template"] == b"orders"
    assert meta[b"reportd.template_name"] == b"Orders report"
    assert meta[b"reportd.report_name"] == b"Q1"
    assert json.loads(meta[b"reportd.labels"]) == ["Count", "s"]
    columns = [file.metadata.row_group(0).column(i) for i in range(2)]
    assert {c.compression for c in columns} == {"ZSTD"}
    assert "RLE_DICTIONARY" in columns[1].encodings  # text is dictionary-encoded
    assert file.read().column("n").to_pylist() == [1, None]


def test_parquet_types_come_back_as_the_canonical_schema(tmp_path: Path) -> None:
    write_parquet(tmp_path / "out.parquet", [source_batch()])
    table = pq.read_table(tmp_path / "out.parquet")
    assert table.schema.equals(
        canonical_schema(FIELDS, source_batch().schema), check_metadata=False
    )
    assert table.column("at_paris").type == pa.timestamp("us", "Europe/Paris")
    assert table.column("count").to_pylist() == COUNTS


def test_parquet_non_finite_floats_are_null(tmp_path: Path) -> None:
    fields = (Field("x", FieldType.NUMBER),)
    schema = canonical_schema(fields)
    batch = pa.RecordBatch.from_arrays([pa.array([float("nan"), float("-inf"), 1.5])], ["x"])
    with ParquetWriter(tmp_path / "o.parquet", schema, context(fields)) as writer:
        writer.write(batch)
    assert pq.read_table(tmp_path / "o.parquet").column("x").to_pylist() == [None, None, 1.5]


def test_parquet_memory_is_bounded_by_a_row_group(tmp_path: Path) -> None:
    """Fresh batches (as a source makes them): held until a row group is full, no longer."""
    schema = canonical_schema(FIELDS, source_batch().schema)
    rows = pa.concat_batches([source_batch()] * 1_000)

    def peak(batches: int) -> int:
        highest = 0
        path = tmp_path / "out.parquet"
        with ParquetWriter(path, schema, context(), row_group_rows=20_000) as writer:
            for _ in range(batches):
                writer.write(conform(pa.concat_batches([rows]), schema))
                highest = max(highest, pa.total_allocated_bytes())
        assert row_groups(path)[0] == 20_000
        return highest

    peak(3)
    small, large = peak(8), peak(80)
    assert large < small * 1.5 + 1024 * 1024


# --- schema -------------------------------------------------------------------------------


def test_canonical_schema_types_and_time_zones() -> None:
    schema = canonical_schema(FIELDS, source_batch().schema)
    assert schema.types == [
        pa.string(),
        pa.int64(),
        pa.float64(),
        pa.bool_(),
        pa.date32(),
        pa.timestamp("us"),
        pa.timestamp("us", "Europe/Paris"),
        pa.timestamp("us", "Etc/UTC"),
    ]
    assert canonical_schema(FIELDS).field("at_paris").type == pa.timestamp("us")


def test_conform_selects_orders_and_casts_without_float_noise() -> None:
    fields = (Field("b", FieldType.NUMBER), Field("a", FieldType.INTEGER), Field("c"))
    batch = pa.RecordBatch.from_arrays(
        [
            pa.array([1, 2], pa.int32()),
            pa.array([0.1, 2.5], pa.float32()),
            pa.array([Decimal("0.30"), None], pa.decimal128(10, 2)),
            pa.array([7, 8]),
        ],
        names=["a", "b", "z", "c"],
    )
    out = conform(batch, canonical_schema(fields))
    assert out.schema.names == ["b", "a", "c"]
    assert out.column(0).to_pylist() == [0.1, 2.5]
    assert out.column(1).type == pa.int64()
    assert out.column(2).to_pylist() == ["7", "8"]
    enum = pa.RecordBatch.from_arrays([pa.array(["x", None]).dictionary_encode()], names=["e"])
    assert conform(enum, canonical_schema((Field("e"),))).column(0).to_pylist() == ["x", None]
    decimal_fields = (Field("z", FieldType.NUMBER),)
    assert conform(batch, canonical_schema(decimal_fields)).column(0).to_pylist() == [0.3, None]


def test_conform_names_the_missing_column() -> None:
    batch = pa.RecordBatch.from_arrays([pa.array([1])], names=["a"])
    with pytest.raises(SourceError, match="'nope'"):
        conform(batch, canonical_schema((Field("nope"),)))


def test_conform_names_the_column_that_cannot_be_cast() -> None:
    batch = pa.RecordBatch.from_arrays([pa.array(["x1"])], names=["qty"])
    with pytest.raises(SourceError, match="'qty'") as info:
        conform(batch, canonical_schema((Field("qty", FieldType.INTEGER),)))
    assert info.value.details["column"] == "qty"


def test_conform_refuses_timestamps_beyond_year_9999() -> None:
    far = pa.array([253_402_300_800_000_000], pa.timestamp("us"))
    batch = pa.RecordBatch.from_arrays([far], names=["at"])
    with pytest.raises(SourceError, match="'at'"):
        conform(batch, canonical_schema((Field("at", FieldType.DATETIME),)))


# --- registry -----------------------------------------------------------------------------


def test_registry_offers_the_text_formats() -> None:
    assert {Format.CSV, Format.JSON, Format.NDJSON} <= set(available_formats())
    for fmt in available_formats():
        assert writer_class(fmt).format is fmt


@pytest.mark.parametrize("fmt", ["docx", *(f for f in Format if f not in available_formats())])
def test_registry_refuses_formats_it_cannot_write(fmt: str) -> None:
    with pytest.raises(FormatInapplicable):
        writer_class(fmt)


# --- packaging ----------------------------------------------------------------------------


@pytest.fixture
def files(tmp_path: Path) -> list[tuple[Path, str]]:
    a, b = tmp_path / "a.csv", tmp_path / "b.json"
    a.write_bytes(b"x,y\n" + b"1,2\n" * 300_000)
    b.write_text('[{"k":"한"}]\n', encoding="utf-8")
    return [(a, "report-2024-01-02.csv"), (b, "report-2024-01-02.json")]


def test_zip_opens_with_zipfile(files: list[tuple[Path, str]], tmp_path: Path) -> None:
    dest = package(files, Packaging.ZIP, tmp_path / "out.zip")
    with zipfile.ZipFile(dest) as archive:
        assert archive.testzip() is None
        for path, name in files:
            assert archive.read(name) == path.read_bytes()
            assert archive.getinfo(name).compress_type == zipfile.ZIP_DEFLATED
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_aes_zip_needs_the_right_password(files: list[tuple[Path, str]], tmp_path: Path) -> None:
    password = generate_password()
    dest = package(files, Packaging.ZIP, tmp_path / "out.zip", password=password)
    with pyzipper.AESZipFile(dest) as archive:
        archive.setpassword(b"wrong-password")
        with pytest.raises(RuntimeError, match="Bad password"):
            archive.read(files[0][1])
        archive.setpassword(password.encode())
        for path, name in files:
            assert archive.read(name) == path.read_bytes()
    with zipfile.ZipFile(dest) as plain:
        for _, name in files:
            assert _aes_extra(plain.getinfo(name)) == (2, b"AE", 3, zipfile.ZIP_DEFLATED)
        with pytest.raises(RuntimeError):
            plain.read(files[0][1])


def _aes_extra(info: zipfile.ZipInfo) -> tuple[int, bytes, int, int]:
    """The WinZip AES extra field: (AE version, vendor, strength 3 = 256-bit, method)."""
    assert info.compress_type == 99  # the AES marker method
    extra = info.extra
    while extra:
        header, size = struct.unpack("<HH", extra[:4])
        if header == 0x9901:
            version, vendor, strength, method = struct.unpack("<H2sBH", extra[4 : 4 + size])
            return version, vendor, strength, method
        extra = extra[4 + size :]
    raise AssertionError("no AES extra field")


def test_gzip_round_trips_one_file(files: list[tuple[Path, str]], tmp_path: Path) -> None:
    dest = package(files[:1], Packaging.GZIP, tmp_path / "out.csv.gz", compresslevel=6)
    with gzip.open(dest) as f:
        assert f.read() == files[0][0].read_bytes()


def test_gzip_takes_one_file_and_no_password(files: list[tuple[Path, str]], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        package(files, Packaging.GZIP, tmp_path / "out.gz")
    with pytest.raises(ValueError, match="password"):
        package(files[:1], Packaging.GZIP, tmp_path / "out.gz", password="x" * 16)
    assert not (tmp_path / "out.gz").exists()


def test_no_packaging_returns_the_file(files: list[tuple[Path, str]], tmp_path: Path) -> None:
    assert package(files[:1], Packaging.NONE, tmp_path / "ignored") == files[0][0]


def test_generated_passwords_are_strong_and_distinct() -> None:
    passwords = {generate_password() for _ in range(100)}
    assert len(passwords) == 100
    assert all(len(p) >= 16 for p in passwords)
