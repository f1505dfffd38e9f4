"""The PDF writer, checked the way people open PDFs: poppler's pdftotext and pdftoppm.

Text extracted from the PDF must hold every value as the CSV writes it, the header on every
page and "Page N of M"; rendered pages show the chart; memory stays flat past the row cap.
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import tracemalloc
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from reportd.domain.formats import FieldType, Format
from reportd.domain.models import ChartSpec, Field, PdfLayout, Template
from reportd.generation.formats.base import WriteContext
from reportd.generation.formats.csv import CsvWriter
from reportd.generation.formats.pdf import PdfWriter
from reportd.generation.formats.pdf.wrap import wrap_text
from reportd.generation.formats.schema import canonical_schema

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
    reason="needs poppler-utils (scripts/test-services.sh installs it)",
)

FIELDS = (
    Field("order_id", FieldType.INTEGER, "Order"),
    Field("customer", FieldType.STRING, "Customer"),
    Field("amount", FieldType.NUMBER, "Amount"),
    Field("created_at", FieldType.DATETIME, "Created"),
    Field("paid", FieldType.BOOLEAN, "Paid"),
    Field("day", FieldType.DATE, "Day"),
    Field("note", FieldType.STRING, "Note"),
)
CUSTOMERS = ("주식회사 한빛", "Москва Трейдинг", "Café Ærøskøbing", "Ñandú Señor", "ACME")
NOTE = "A longer note that has to wrap inside its column: " + "lorem ipsum dolor " * 4


def context(layout: PdfLayout | None = None, fields: Sequence[Field] = FIELDS) -> WriteContext:
    template = Template(
        id="orders",
        name="Orders report",
        source="shop",
        query="SELECT 1",
        fields=tuple(fields),
        formats=(Format.CSV, Format.PDF),
        pdf=layout,
    )
    return WriteContext(
        template=template,
        fields=tuple(fields),
        report_name="Monthly orders",
        options={"since": "2000-01-01", "region": "Gangnam 강남"},
        filter='amount gt 10 and customer co "a"',
        order_by=("-amount", "order_id"),
        generated_at=datetime(2026, 11, 23, 9, 30, tzinfo=UTC),
    )


def orders(start: int, count: int, schema: pa.Schema) -> pa.RecordBatch:
    ids = range(start, start + count)
    base = datetime(2026, 1, 1, 8, 0)
    return pa.record_batch(
        [
            pa.array(ids, pa.int64()),
            pa.array([None if i % 7 == 3 else CUSTOMERS[i % len(CUSTOMERS)] for i in ids]),
            pa.array([None if i % 11 == 5 else i * 1.25 + 0.1 for i in ids], pa.float64()),
            pa.array([base + timedelta(minutes=37 * i) for i in ids], pa.timestamp("us")),
            pa.array([None if i % 13 == 0 else i % 2 == 0 for i in ids]),
            pa.array([date(2026, 1, 1) + timedelta(days=i % 60) for i in ids], pa.date32()),
            pa.array([NOTE if i % 4 == 1 else "" if i % 4 == 2 else None for i in ids]),
        ],
        schema=schema,
    )


def write(
    path: Path, batches: Iterable[pa.RecordBatch], ctx: WriteContext, schema: pa.Schema
) -> Path:
    with PdfWriter(path, schema, ctx) as writer:
        for batch in batches:
            writer.write(batch)
    return path


def pdf_text(path: Path, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(
        ["pdftotext", *pages, str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def page_count(path: Path) -> int:
    return len(pdf_text(path).split("\f")) - 1


def squash(value: str) -> str:
    return re.sub(r"\s+", "", value)


def csv_values(batches: Sequence[pa.RecordBatch], schema: pa.Schema, tmp: Path) -> list[str]:
    target = tmp / "same.csv"
    with CsvWriter(target, schema, context()) as writer:
        for batch in batches:
            writer.write(batch)
    with target.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    return [value for row in rows for value in row if value]


def test_text_holds_every_value_as_the_csv_renders_it(tmp_path: Path) -> None:
    schema = canonical_schema(FIELDS)
    batches = [orders(0, 12, schema), orders(12, 9, schema)]
    path = write(tmp_path / "r.pdf", batches, context(), schema)
    extracted = squash(pdf_text(path))
    for value in csv_values(batches, schema, tmp_path):
        assert squash(value) in extracted, value
    for expected in ("주식회사한빛", "МоскваТрейдинг", "CaféÆrøskøbing", "Gangnam강남"):
        assert expected in extracted


def test_summary_names_template_options_filter_order_and_row_count(tmp_path: Path) -> None:
    schema = canonical_schema(FIELDS)
    path = write(tmp_path / "r.pdf", [orders(0, 21, schema)], context(), schema)
    first = pdf_text(path, 1)
    for expected in (
        "Orders report (orders)",
        "Monthly orders",
        "21 rows",
        "since = 2000-01-01",
        'amount gt 10 and customer co "a"',
        "amount (descending), order_id",
        "Generated 2026-11-23 09:30:00 UTC",
    ):
        assert expected in first


def test_fonts_are_embedded_with_a_korean_fallback(tmp_path: Path) -> None:
    schema = canonical_schema(FIELDS)
    path = write(tmp_path / "r.pdf", [orders(0, 10, schema)], context(), schema)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
    assert "DejaVuSans" in fonts
    assert "NotoSansCJKKR" in fonts
    assert all(" yes yes " in line for line in fonts.splitlines()[2:])  # embedded, subset


def test_header_and_page_numbers_on_every_page(tmp_path: Path) -> None:
    schema = canonical_schema(FIELDS)
    batches = [orders(start, 100, schema) for start in range(0, 300, 100)]
    path = write(tmp_path / "r.pdf", batches, context(), schema)
    pages = page_count(path)
    assert pages > 3
    for page in range(1, pages + 1):
        text = pdf_text(path, page)
        assert f"Page {page} of {pages}" in text
        for title in ("Order", "Customer", "Amount", "Created", "Paid", "Day", "Note"):
            assert title in text, (page, title)


def test_long_text_is_cut_with_an_ellipsis(tmp_path: Path) -> None:
    fields = (Field("id", FieldType.INTEGER), Field("text", FieldType.STRING))
    schema = canonical_schema(fields)
    essay = " ".join(f"word{i:04d}" for i in range(400))
    cjk = "가나다라마바사아자차카타파하" * 40
    batch = pa.record_batch([pa.array([1, 2]), pa.array([essay, cjk])], schema=schema)
    path = write(tmp_path / "r.pdf", [batch], context(fields=fields), schema)
    text = pdf_text(path)
    assert "word0000" in text
    assert "word0399" not in text
    assert text.count("…") == 2


def test_wrap_breaks_long_words_and_keeps_three_lines() -> None:
    def measure(value: str) -> float:
        return float(len(value))

    assert wrap_text("ab cd ef", 5, measure) == ["ab cd", "ef"]
    assert wrap_text("abcdefghij", 4, measure) == ["abcd", "efgh", "ij"]
    lines = wrap_text("x" * 50, 4, measure)
    assert len(lines) == 3
    assert lines[-1].endswith("…")
    assert wrap_text("one\ntwo", 10, measure) == ["one", "two"]


def page_size(path: Path) -> tuple[float, float]:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    found = re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info)
    assert found
    return float(found[1]), float(found[2])


def test_many_columns_turn_the_page_to_landscape(tmp_path: Path) -> None:
    wide = tuple(Field(f"column_{i:02d}", FieldType.STRING) for i in range(14))
    schema = canonical_schema(wide)
    batch = pa.record_batch([pa.array(["value"] * 3) for _ in wide], schema=schema)
    path = write(tmp_path / "wide.pdf", [batch], context(fields=wide), schema)
    width, height = page_size(path)
    assert width > height
    narrow = FIELDS[:3]
    schema = canonical_schema(narrow)
    small = pa.record_batch([pa.array([1]), pa.array(["a"]), pa.array([1.5])], schema=schema)
    path = write(tmp_path / "narrow.pdf", [small], context(fields=narrow), schema)
    width, height = page_size(path)
    assert width < height
    forced = context(PdfLayout(landscape=True), fields=narrow)
    width, height = page_size(write(tmp_path / "forced.pdf", [small], forced, schema))
    assert width > height


def test_row_cap_is_stated_on_the_last_page(tmp_path: Path) -> None:
    schema = canonical_schema(FIELDS)
    batches = [orders(0, 40, schema), orders(40, 40, schema), orders(80, 40, schema)]
    path = write(tmp_path / "r.pdf", batches, context(PdfLayout(row_cap=50)), schema)
    last = pdf_text(path, page_count(path))
    assert "Showing the first 50 of 120 rows" in " ".join(last.split())
    everything = pdf_text(path)
    assert "120 rows (the first 50 are shown)" in " ".join(everything.split())
    assert "2026-01-02T14:13:00" in everything  # row 49
    assert "2026-01-02T14:50:00" not in everything  # row 50, past the cap


def test_empty_result_is_a_valid_pdf_with_headers_and_zero_rows(tmp_path: Path) -> None:
    schema = canonical_schema(FIELDS)
    path = write(tmp_path / "empty.pdf", [], context(), schema)
    assert page_count(path) == 1
    text = pdf_text(path)
    assert "0 rows" in text
    assert "No rows match this report." in text
    for title in ("Order", "Customer", "Amount", "Note"):
        assert title in text
    also_empty = write(tmp_path / "e2.pdf", [orders(0, 0, schema)], context(), schema)
    assert "0 rows" in pdf_text(also_empty)


def read_ppm(path: Path) -> tuple[int, int, bytes]:
    """A binary PPM (P6) as pdftoppm writes it: width, height and RGB bytes."""
    data = path.read_bytes()
    magic, width, height, depth, pixels = data.split(maxsplit=4)
    assert magic == b"P6"
    assert depth == b"255"
    return int(width), int(height), pixels


def colored_pixels(pixels: bytes, start: int, end: int) -> int:
    """Saturated pixels: chart colours; the page's greys and dark slate are not."""
    count = 0
    for offset in range(start * 3, end * 3, 3):
        r, g, b = pixels[offset], pixels[offset + 1], pixels[offset + 2]
        if max(r, g, b) - min(r, g, b) > 60:
            count += 1
    return count


def render_first_page(path: Path) -> tuple[int, int, bytes]:
    prefix = path.with_suffix("")
    subprocess.run(["pdftoppm", "-r", "50", "-f", "1", "-l", "1", path, prefix], check=True)
    return read_ppm(next(prefix.parent.glob(f"{prefix.name}-*.ppm")))


@pytest.mark.parametrize(
    ("kind", "x"), [("bar", "customer"), ("pie", "customer"), ("line", "created_at")]
)
def test_chart_is_drawn_above_the_table(tmp_path: Path, kind: str, x: str) -> None:
    schema = canonical_schema(FIELDS)
    layout = PdfLayout(title="Orders by customer", chart=ChartSpec(kind, x, "amount"))
    batches = [orders(start, 250, schema) for start in range(0, 1000, 250)]
    path = write(tmp_path / "chart.pdf", batches, context(layout), schema)
    width, height, pixels = render_first_page(path)
    upper_half = colored_pixels(pixels, 0, width * height // 2)
    assert upper_half > 1500, upper_half
    plain = write(tmp_path / "plain.pdf", batches, context(), schema)
    width, height, pixels = render_first_page(plain)
    assert colored_pixels(pixels, 0, width * height // 2) < 50


def traced(batches: Iterable[pa.RecordBatch], writer: PdfWriter) -> int:
    for batch in batches:
        writer.write(batch)
    return tracemalloc.get_traced_memory()[0]


def test_memory_is_flat_past_the_row_cap(tmp_path: Path) -> None:
    """Rows past the cap are counted and charted, never kept: traced memory stays put."""
    fields = (
        Field("id", FieldType.INTEGER),
        Field("key", FieldType.STRING),
        Field("value", FieldType.NUMBER),
    )
    schema = canonical_schema(fields)

    def batch(start: int) -> pa.RecordBatch:
        ids = range(start, start + 2_000)
        return pa.record_batch(
            [pa.array(ids), pa.array([f"key-{i}" for i in ids]), pa.array([i * 0.5 for i in ids])],
            schema=schema,
        )

    layout = PdfLayout(row_cap=2_000, chart=ChartSpec("bar", "key", "value"))
    tracemalloc.start()
    try:
        writer = PdfWriter(tmp_path / "flat.pdf", schema, context(layout, fields))
        at_cap = traced([batch(0), batch(2_000)], writer)
        later = traced((batch(start) for start in range(4_000, 60_000, 2_000)), writer)
    finally:
        tracemalloc.stop()
    writer.close()
    assert writer.rows == 60_000
    assert later - at_cap < 1_500_000, (at_cap, later)
    assert "Showing the first 2,000 of 60,000 rows" in " ".join(
        pdf_text(tmp_path / "flat.pdf").split()
    )
