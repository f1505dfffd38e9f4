"""The PDF as a business user reads it, checked with poppler: display formats, totals, the
page count up front, the page cap, zebra rows, emoji and right-to-left text.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from reportd.adapters.template_files import parse_template
from reportd.domain.models import Template
from reportd.generation.formats.base import WriteContext
from reportd.generation.formats.pdf import PdfWriter
from reportd.generation.formats.pdf.document import MISSING_MARK
from reportd.generation.formats.pdf.fonts import emoji_font
from reportd.generation.formats.pdf.style import ZEBRA
from reportd.generation.formats.schema import canonical_schema
from tests.unit.test_pdf import page_count, pdf_text, read_ppm

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
    reason="needs poppler-utils (scripts/test-services.sh installs it)",
)

FIELDS: list[dict[str, Any]] = [
    {"name": "id", "type": "integer", "label": "Invoice"},
    {"name": "customer", "type": "string", "label": "Customer"},
    {"name": "amount", "type": "number", "label": "Amount", "format": {"currency": "EUR"}},
    {"name": "share", "type": "number", "label": "Share", "format": {"percent": 1}},
    {"name": "day", "type": "date", "label": "Day", "format": {"date": "d MMM yyyy"}},
    {
        "name": "at",
        "type": "datetime",
        "label": "At",
        "format": {"datetime": "dd.MM.yyyy HH:mm", "timezone": "Asia/Seoul"},
    },
]


def template(**changes: Any) -> Template:
    data = {"id": "inv", "name": "Invoices", "source": "s", "query": "q", "fields": FIELDS}
    return parse_template({**data, **changes}, "inv.yaml")


def rows(start: int, count: int, schema: pa.Schema, names: list[str] | None = None) -> Any:
    ids = range(start, start + count)
    who = names or ["Ærø ApS", "Bob"]
    return pa.record_batch(
        [
            pa.array(ids, pa.int64()),
            pa.array([who[i % len(who)] for i in ids]),
            pa.array([1234.5 + i for i in ids], pa.float64()),
            pa.array([0.125 for _ in ids], pa.float64()),
            pa.array([date(2024, 1, 1) + timedelta(days=i) for i in ids], pa.date32()),
            pa.array([datetime(2024, 1, 1, 15, 30) for _ in ids], pa.timestamp("us")),
        ],
        schema=schema,
    )


def write(path: Path, tmpl: Template, batches: list[tuple[int, int]], **kw: Any) -> Path:
    schema = canonical_schema(tmpl.fields)
    ctx = WriteContext(template=tmpl, fields=tmpl.fields, report_name="January")
    with PdfWriter(path, schema, ctx) as writer:
        for start, count in batches:
            writer.write(rows(start, count, schema, **kw))
    return path


def flat(text: str) -> str:
    return " ".join(text.split())


def test_cells_are_drawn_in_their_display_formats(tmp_path: Path) -> None:
    text = flat(pdf_text(write(tmp_path / "r.pdf", template(), [(0, 3)])))
    for shown in ("€1,234.50", "€1,236.50", "12.5%", "1 Jan 2024", "3 Jan 2024"):
        assert shown in text, shown
    assert "02.01.2024 00:30" in text  # 15:30 UTC is half past midnight in Seoul
    assert "1234.5" not in text and "2024-01-01T15:30:00" not in text


def test_totals_close_the_table_formatted_like_their_columns(tmp_path: Path) -> None:
    tmpl = template(totals={"amount": "sum", "share": "avg", "id": "count", "day": "max"})
    path = write(tmp_path / "t.pdf", tmpl, [(0, 30), (30, 30)])
    last = flat(pdf_text(path, page_count(path)))
    total = sum(1234.5 + i for i in range(60))
    assert "Total" in last
    assert f"€{total:,.2f}" in last
    assert "avg 12.5%" in last and "count 60" in last and "max 29 Feb 2024" in last
    assert last.index("Total") > last.index("€1,293.50")  # after the last row (id 59)


def test_totals_of_hidden_columns_and_cut_tables_are_said(tmp_path: Path) -> None:
    tmpl = template(
        totals={"amount": "sum", "share": "avg"}, pdf={"columns": ["id", "amount"], "row_cap": 10}
    )
    text = flat(pdf_text(write(tmp_path / "t.pdf", tmpl, [(0, 40)])))
    assert "Totals are of all 40 rows, not only those shown." in text
    assert "Share (avg): 12.5%" in text
    assert f"€{sum(1234.5 + i for i in range(40)):,.2f}" in text
    assert "Showing the first 10 of 40 rows" in text


def test_page_count_is_on_page_one_and_every_footer(tmp_path: Path) -> None:
    path = write(tmp_path / "p.pdf", template(), [(0, 200), (200, 200)])
    pages = page_count(path)
    assert pages > 3
    assert f"{pages} pages" in flat(pdf_text(path, 1))
    for page in range(1, pages + 1):
        assert f"Page {page} of {pages}" in pdf_text(path, page)
    one = write(tmp_path / "one.pdf", template(), [(0, 2)])
    assert "1 page" in flat(pdf_text(one, 1)) and "Page 1 of 1" in pdf_text(one, 1)


def test_a_page_count_past_999_is_exact_without_a_warning(tmp_path: Path) -> None:
    """fpdf2's default alias reserves three digits; reportd numbers pages itself."""
    tmpl = template(fields=[{"name": "id", "type": "integer"}])
    schema = canonical_schema(tmpl.fields)
    ctx = WriteContext(template=tmpl, fields=tmpl.fields)
    path = tmp_path / "long.pdf"
    with PdfWriter(path, schema, ctx) as writer:  # filterwarnings=error: a warning fails
        writer.write(pa.record_batch([pa.array(range(70_000))], schema=schema))
    pages = page_count(path)
    assert pages > 999
    assert f"{pages:,} pages" in flat(pdf_text(path, 1))
    assert f"Page {pages:,} of {pages:,}" in pdf_text(path, pages)


def test_page_cap_stops_the_table_and_says_so_on_the_last_page(tmp_path: Path) -> None:
    tmpl = template(pdf={"max_pages": 3}, totals={"amount": "sum"})
    path = write(tmp_path / "cap.pdf", tmpl, [(0, 500), (500, 500)])
    assert page_count(path) == 3
    last = flat(pdf_text(path, 3))
    assert "this template's PDF stops at 3 pages (pdf.max_pages)" in last
    assert "the other formats hold every row" in last
    assert f"€{sum(1234.5 + i for i in range(1000)):,.2f}" in last  # totals of every row
    first = flat(pdf_text(path, 1))
    assert "1,000 rows (the first" in first and "3 pages" in first


def render(path: Path, page: int = 1) -> tuple[int, int, bytes]:
    prefix = path.with_suffix("")
    subprocess.run(
        ["pdftoppm", "-r", "40", "-f", str(page), "-l", str(page), path, prefix], check=True
    )
    return read_ppm(next(prefix.parent.glob(f"{prefix.name}-*.ppm")))


def test_zebra_rows_are_shaded(tmp_path: Path) -> None:
    _, _, pixels = render(write(tmp_path / "z.pdf", template(), [(0, 40)]))
    zebra = bytes(ZEBRA)
    shaded = sum(1 for i in range(0, len(pixels), 3) if pixels[i : i + 3] == zebra)
    assert shaded > 2_000, shaded


def test_emoji_are_drawn_or_marked_never_dropped(tmp_path: Path) -> None:
    if emoji_font() is None:
        pytest.skip("fonts-symbola is not installed (scripts/test-services.sh installs it)")
    names = ["Party 🎉 time", "Thumbs 👍", "Newer 🥰 emoji", "✓ ★ ☂"]
    tmpl = template(pdf={"chart": {"type": "bar", "x": "customer", "y": "amount"}})
    path = write(tmp_path / "e.pdf", tmpl, [(0, 8)], names=names)
    text = "".join(pdf_text(path).split())  # pdftotext's spacing between symbols varies
    assert "Party🎉time" in text and "Thumbs👍" in text and "✓★☂" in text
    assert f"Newer{MISSING_MARK}emoji" in text  # Unicode 11: in no installed font
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
    assert "Symbola" in fonts


def test_right_to_left_text_is_shaped_and_ordered(tmp_path: Path) -> None:
    names = ["مرحبا بالعالم", "שלום עולם"]
    text = pdf_text(write(tmp_path / "rtl.pdf", template(), [(0, 2)], names=names))
    # pdftotext gives text in logical order only when the glyphs were laid out right to left
    # and carry their characters: unshaped text comes out reversed (as before uharfbuzz).
    assert "שלום עולם" in text
    assert "مرحبا بالعالم" in text
