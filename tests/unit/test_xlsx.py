"""The XLSX writer beyond the contract suite: typed cells, the header, sheets past Excel's row
limit, and the file as LibreOffice reads it.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import tracemalloc
import zipfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import openpyxl
import pyarrow as pa
import pytest

from reportd.domain.formats import FieldType, Format
from reportd.domain.models import Field
from reportd.generation.formats.registry import writer_class
from reportd.generation.formats.schema import canonical_schema, conform
from reportd.generation.formats.xlsx import MAX_WIDTH, ROWS_PER_SHEET, XlsxWriter, sheet_title
from reportd.generation.formats.xlsx_cells import CUT_MARK, MAX_CELL_CHARS
from tests.unit.test_formats import (
    FIELDS,
    TYPED_IN_EXCEL,
    context,
    csv_view,
    excel_view,
    expected_rows,
    read_xlsx,
    source_batch,
)

IN_CI = os.environ.get("CI", "").lower() == "true"
LIBREOFFICE_CSV = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"


def write_xlsx(
    path: Path,
    batches: Iterable[pa.RecordBatch],
    fields: tuple[Field, ...] = FIELDS,
    rows_per_sheet: int = ROWS_PER_SHEET,
) -> XlsxWriter:
    source = source_batch().schema if fields is FIELDS else None
    schema = canonical_schema(fields, source)
    with XlsxWriter(path, schema, context(fields), rows_per_sheet=rows_per_sheet) as writer:
        for batch in batches:
            writer.write(conform(batch, schema))
    return writer


def typed_batch() -> pa.RecordBatch:
    """Rows Excel holds typed, enough of them to go in as one table (not cell by cell)."""
    return pa.concat_batches([source_batch().take(TYPED_IN_EXCEL)] * 8)


def test_registry_names_the_xlsx_writer() -> None:
    assert writer_class(Format.XLSX) is XlsxWriter


def typed_rows() -> list[list[str | None]]:
    return [expected_rows()[i] for i in TYPED_IN_EXCEL] * 8


@pytest.mark.parametrize("table", [True, False], ids=["table", "cells"])
def test_cells_are_typed_with_date_formats(table: bool, tmp_path: Path) -> None:
    batch, expected = (typed_batch(), typed_rows()) if table else (source_batch(), expected_rows())
    write_xlsx(tmp_path / "out.xlsx", [batch])
    sheet = openpyxl.load_workbook(tmp_path / "out.xlsx").active
    assert sheet is not None
    first = list(sheet[2])
    assert [c.data_type for c in first] == ["s", "n", "n", "b", "d", "d", "d", "d"]
    assert first[1].value == 0 and first[2].value == 0.1 and first[3].value is True
    assert first[4].number_format == "yyyy-mm-dd"
    assert {c.number_format for c in first[5:]} == {"yyyy-mm-dd hh:mm:ss"}
    assert first[6].value == datetime(2024, 1, 2, 4, 4, 5)  # Paris wall time, no offset
    assert read_xlsx(tmp_path / "out.xlsx") == excel_view(expected)


def test_values_excel_cannot_hold_are_the_csv_text(tmp_path: Path) -> None:
    write_xlsx(tmp_path / "out.xlsx", [source_batch()])
    sheet = openpyxl.load_workbook(tmp_path / "out.xlsx").active
    assert sheet is not None
    assert sheet["B4"].value == "4611686018427387904" and sheet["B4"].data_type == "s"
    assert sheet["B8"].value == "-9223372036854775808"
    assert sheet["E3"].value == "0001-01-01" and sheet["E3"].data_type == "s"
    assert sheet["E5"].value == datetime(9999, 12, 31)


def test_long_texts_are_cut_and_exact_integers_stay_numbers(tmp_path: Path) -> None:
    fields = (Field("s"), Field("n", FieldType.INTEGER), Field("x", FieldType.NUMBER))
    batch = pa.RecordBatch.from_arrays(
        [
            pa.array(["é" * 40_000, "=1+1", "  pad "]),
            pa.array([2**53, -(2**53), 2**53 + 1]),
            pa.array([float("nan"), float("inf"), 1.5]),
        ],
        names=["s", "n", "x"],
    )
    write_xlsx(tmp_path / "out.xlsx", [batch], fields)
    sheet = openpyxl.load_workbook(tmp_path / "out.xlsx").active
    assert sheet is not None
    cut = sheet["A2"].value
    assert len(cut) == MAX_CELL_CHARS and cut.endswith(CUT_MARK)  # cut, and says so
    assert cut == "é" * (MAX_CELL_CHARS - len(CUT_MARK)) + CUT_MARK
    assert sheet["A3"].value == "=1+1" and sheet["A3"].data_type == "s"  # never a formula
    assert sheet["A4"].value == "  pad "
    assert [sheet[f"B{r}"].value for r in (2, 3, 4)] == [2**53, -(2**53), "9007199254740993"]
    assert [sheet[f"C{r}"].value for r in (2, 3, 4)] == [None, None, 1.5]


def test_header_is_bold_frozen_filtered_and_sized(tmp_path: Path) -> None:
    fields = (Field("name", label="Customer name"), Field("note"), Field("n", FieldType.INTEGER))
    batch = pa.RecordBatch.from_arrays(
        [
            pa.array(["ab", "abcdefghijklmnopqrstuvwxyz"]),
            pa.array(["x" * 500, None]),
            pa.array([1, 2]),
        ],
        names=["name", "note", "n"],
    )
    write_xlsx(tmp_path / "out.xlsx", [batch], fields)
    sheet = openpyxl.load_workbook(tmp_path / "out.xlsx").active
    assert sheet is not None
    assert [c.value for c in sheet[1]] == ["Customer name", "note", "n"]
    assert all(c.font.bold for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:C3"
    widths = [sheet.column_dimensions[col].width for col in "ABC"]
    assert 26 <= widths[0] <= 30  # the longest name, with a little room
    assert MAX_WIDTH <= widths[1] <= MAX_WIDTH + 1  # capped
    assert widths[2] >= len("n") + 4  # room for the filter button


@pytest.mark.parametrize("rows_per_sheet", [3, 5, 8, 16])
def test_rows_past_the_limit_continue_on_new_sheets(rows_per_sheet: int, tmp_path: Path) -> None:
    batches = [source_batch(), source_batch().slice(0, 1), source_batch().slice(1)]
    writer = write_xlsx(tmp_path / "out.xlsx", batches, rows_per_sheet=rows_per_sheet)
    assert writer.rows == 16
    book = openpyxl.load_workbook(tmp_path / "out.xlsx")
    sheets = -(-16 // rows_per_sheet)
    assert book.sheetnames == ["T", *(f"T ({n})" for n in range(2, sheets + 1))]
    for number, sheet in enumerate(book.worksheets):
        rows = min(rows_per_sheet, 16 - number * rows_per_sheet)
        assert [c.value for c in sheet[1]] == [f.name for f in FIELDS]
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref == f"A1:H{rows + 1}"
        assert sheet.max_row == rows + 1
    assert read_xlsx(tmp_path / "out.xlsx") == excel_view(expected_rows() * 2)


def test_an_empty_report_is_one_sheet_with_its_header(tmp_path: Path) -> None:
    assert write_xlsx(tmp_path / "out.xlsx", []).rows == 0
    book = openpyxl.load_workbook(tmp_path / "out.xlsx")
    assert book.sheetnames == ["T"]  # named after the report
    assert [c.value for c in book.active[1]] == [f.name for f in FIELDS]  # type: ignore[index]
    assert book.active.auto_filter.ref == "A1:H1"  # type: ignore[union-attr]


def test_rows_per_sheet_is_within_excel(tmp_path: Path) -> None:
    schema = canonical_schema(FIELDS)
    for bad in (0, ROWS_PER_SHEET + 1):
        with pytest.raises(ValueError, match="rows_per_sheet"):
            XlsxWriter(tmp_path / "out.xlsx", schema, context(), rows_per_sheet=bad)


def test_cell_by_cell_memory_is_flat(tmp_path: Path) -> None:
    """The path for rows with text-only values keeps nothing per row either."""
    schema = canonical_schema(FIELDS, source_batch().schema)
    batch = conform(pa.concat_batches([source_batch()] * 100), schema)

    def peak(batches: int) -> int:
        tracemalloc.start()
        with XlsxWriter(tmp_path / "out.xlsx", schema, context()) as writer:
            for _ in range(batches):
                writer.write(batch)
        result = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return result

    peak(1)
    small, large = peak(2), peak(16)
    assert large < small * 1.5 + 256 * 1024


# --- LibreOffice --------------------------------------------------------------------------


def libreoffice() -> str:
    found = shutil.which("libreoffice") or shutil.which("soffice")
    if found is None:
        if IN_CI:
            pytest.fail("LibreOffice is missing: scripts/test-services.sh installs it in CI")
        pytest.skip("LibreOffice is not installed (apt-get install libreoffice-calc-nogui)")
    return found


def convert_with_libreoffice(xlsx: Path, folder: Path) -> dict[str, list[list[str | None]]]:
    """Every sheet as LibreOffice's CSV export (raw values, not as shown), by sheet name."""
    folder.mkdir()
    command = [
        libreoffice(),
        f"-env:UserInstallation=file://{folder}/profile",  # no clash with another instance
        "--headless",
        "--convert-to",
        LIBREOFFICE_CSV,  # ...,-1: every sheet, one file each
        "--outdir",
        str(folder),
        str(xlsx),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=180)
    sheets = {}
    for path in sorted(folder.glob(f"{xlsx.stem}-*.csv")):
        with path.open(newline="", encoding="utf-8") as f:
            sheets[path.stem.removeprefix(f"{xlsx.stem}-")] = csv_view(list(csv.reader(f)))
    return sheets


def libreoffice_cell(field: Field, value: str | None) -> object:
    """A cell as LibreOffice's CSV can carry it, for both sides of the comparison.

    LibreOffice writes numbers in its own notation to 15 significant digits (Excel's precision;
    the file holds all 17, see the openpyxl checks), booleans in capitals, datetimes in the
    cell's format (whole seconds), and drops control characters from text.
    """
    if value is None:
        return None
    if field.type is FieldType.NUMBER:
        return float(f"{float(value):.15g}")
    if field.type is FieldType.BOOLEAN:
        return value.lower()
    if field.type is FieldType.DATETIME:
        return datetime.fromisoformat(value).replace(microsecond=0)
    return re.sub(r"[\x00-\x08\x0b-\x1f]", "", value)


def libreoffice_rows(rows: list[list[str | None]]) -> list[list[object]]:
    return [[libreoffice_cell(f, v) for f, v in zip(FIELDS, row, strict=True)] for row in rows]


def test_libreoffice_reads_every_sheet_with_the_csv_values(tmp_path: Path) -> None:
    batches = [source_batch(), typed_batch()]
    write_xlsx(tmp_path / "report.xlsx", batches, rows_per_sheet=30)  # 48 rows: two sheets
    sheets = convert_with_libreoffice(tmp_path / "report.xlsx", tmp_path / "lo")
    assert set(sheets) == {"T", "T (2)"}
    header = [f.name for f in FIELDS]
    assert all(rows[0] == header for rows in sheets.values())
    got = sheets["T"][1:] + sheets["T (2)"][1:]
    expected = expected_rows() + typed_rows()
    assert libreoffice_rows(got) == libreoffice_rows(excel_view(expected))


# --- Excel's real limit -------------------------------------------------------------------


@pytest.mark.slow
def test_the_real_row_limit_continues_on_sheet_2(tmp_path: Path) -> None:
    fields = (Field("n", FieldType.INTEGER),)
    total = ROWS_PER_SHEET + 5
    batches = (
        pa.RecordBatch.from_arrays([pa.array(range(start, min(start + 65_536, total)))], ["n"])
        for start in range(0, total, 65_536)
    )
    assert write_xlsx(tmp_path / "big.xlsx", batches, fields).rows == total
    book = openpyxl.load_workbook(tmp_path / "big.xlsx", read_only=True)
    assert book.sheetnames == ["T", "T (2)"]
    assert book["T"].max_row == 1_048_576  # Excel's last row, header included
    second = [row[0] for row in book["T (2)"].iter_rows(values_only=True)]
    assert second == ["n", *range(ROWS_PER_SHEET, total)]
    book.close()
    with zipfile.ZipFile(tmp_path / "big.xlsx") as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    last = sheet[sheet.rindex('<row r="1048576"') :]
    assert re.search(rf"<v>{ROWS_PER_SHEET - 1}(\.0)?</v>", last)
    assert '<autoFilter ref="A1:A1048576"/>' in sheet


def test_sheet_names_follow_excels_rules() -> None:
    assert sheet_title("Invoices", 1) == "Invoices"
    assert sheet_title("Invoices", 2) == "Invoices (2)"
    assert sheet_title("Q1: sales [EU]/* ?", 1) == "Q1 sales EU"
    long = sheet_title("A very long report name that goes past the limit", 12)
    assert len(long) <= 31 and long.endswith(" (12)")
    assert sheet_title("''", 1) == "Report"
