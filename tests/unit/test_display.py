"""Display formats and totals: parsed from templates with clear errors, drawn the same way in
text and as Excel number formats, and read back from the XLSX by openpyxl and LibreOffice.
"""

from __future__ import annotations

import csv
import subprocess
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import openpyxl
import pyarrow as pa
import pytest

from reportd.adapters.template_files import parse_template
from reportd.domain.display import Display, DisplayKind, TotalKind
from reportd.domain.errors import ValidationError
from reportd.domain.models import Template
from reportd.generation.formats.base import WriteContext
from reportd.generation.formats.csv import CsvWriter
from reportd.generation.formats.display import ColumnDisplay, excel_format, number_text
from reportd.generation.formats.schema import canonical_schema
from reportd.generation.formats.totals import Totals
from reportd.generation.formats.xlsx import XlsxWriter
from tests.unit.test_xlsx import libreoffice

BASE: dict[str, Any] = {
    "id": "sales",
    "name": "Sales",
    "source": "shop",
    "query": "SELECT 1",
}
FIELDS: list[dict[str, Any]] = [
    {"name": "id", "type": "integer", "format": {"number": 0}},
    {"name": "customer", "type": "string"},
    {"name": "amount", "type": "number", "format": {"currency": "EUR"}},
    {"name": "rate", "type": "number", "format": {"percent": 1}},
    {"name": "weight", "type": "number", "format": "#,##0.0 kg"},
    {"name": "day", "type": "date", "format": {"date": "dd MMM yyyy"}},
    {
        "name": "at",
        "type": "datetime",
        "format": {"datetime": "yyyy-MM-dd HH:mm", "timezone": "Europe/Berlin"},
    },
]
TOTALS = {"id": "count", "amount": "sum", "rate": "avg", "weight": "max", "day": "min"}


def template(**changes: Any) -> Template:
    data = {**BASE, "fields": FIELDS, "totals": TOTALS, **changes}
    return parse_template(data, "sales.yaml")


def rows(schema: pa.Schema) -> pa.RecordBatch:
    return pa.record_batch(
        [
            pa.array([1, 2, 3, 1204]),
            pa.array(["Ærø", "Bob", None, "Dee"]),
            pa.array([1234.5, -2.675, None, 1_000_000.0]),
            pa.array([0.125, 0.5, 0.0, None]),
            pa.array([1.25, 10_500.0, None, 0.04]),
            pa.array([date(2024, 1, 5), date(2023, 12, 31), None, date(2024, 2, 29)]),
            pa.array(
                [datetime(2024, 1, 5, 23, 30), datetime(2024, 7, 1, 8, 0), None, None],
                pa.timestamp("us"),
            ),
        ],
        schema=schema,
    )


def context(tmpl: Template) -> WriteContext:
    return WriteContext(template=tmpl, fields=tmpl.fields, report_name="Sales 2024")


# --- parsing ------------------------------------------------------------------------------


def test_template_formats_and_totals_are_parsed() -> None:
    tmpl = template(display={"timezone": "Asia/Seoul"})
    amount = tmpl.display.of("amount")
    assert amount is not None and amount.kind is DisplayKind.CURRENCY
    assert (amount.prefix, amount.decimals) == ("€", 2)
    weight = tmpl.display.of("weight")
    assert weight is not None and (weight.suffix, weight.decimals) == (" kg", 1)
    assert tmpl.display.timezone == "Asia/Seoul"
    assert tmpl.totals == (
        ("id", TotalKind.COUNT),
        ("amount", TotalKind.SUM),
        ("rate", TotalKind.AVG),
        ("weight", TotalKind.MAX),
        ("day", TotalKind.MIN),
    )
    plain = parse_template({**BASE, "fields": [{"name": "x"}]}, "t.yaml")
    assert plain.display == Display() and plain.totals == ()


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ({"type": "string", "format": {"number": 2}}, "number is for"),
        ({"type": "number", "format": {"number": 2, "currency": "EUR"}}, "exactly one of"),
        ({"type": "number", "format": {"number": 11}}, "decimals must be an integer from 0"),
        ({"type": "number", "format": {"currency": "euro"}}, "ISO 4217"),
        ({"type": "number", "format": {"number": "#,##0.00 ;x"}}, "is not of the form"),
        ({"type": "number", "format": {"percent": "0.00"}}, "ends with %"),
        ({"type": "number", "format": {"number": 2, "timezone": "UTC"}}, "takes ['decimals']"),
        ({"type": "date", "format": {"date": "YYYY-MM-DD"}}, "'YYYY' in date pattern"),
        ({"type": "date", "format": {"date": "dd.MM.yyyy HH:mm"}}, "is a time letter"),
        ({"type": "date", "format": {"datetime": "yyyy"}}, "datetime is for"),
        ({"type": "datetime", "format": {"datetime": "yyyy-mm-dd"}}, "minutes 'mm'"),
        ({"type": "datetime", "format": {"datetime": "HH:mm a"}}, "'a' (AM/PM)"),
        ({"type": "datetime", "format": {"datetime": "HH", "timezone": "Mars/Base"}}, "time zone"),
        ({"type": "datetime", "format": {"datetime": "'at HH"}}, "unbalanced quote"),
    ],
)
def test_bad_formats_are_refused_with_the_field_named(field: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_template({**BASE, "fields": [{"name": "x", **field}]}, "bad.yaml")
    assert message in str(caught.value)
    assert "bad.yaml: fields[0] (x).format" in str(caught.value)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"totals": {"customer": "sum"}}, "totals.customer: sum needs a ['decimal'"),
        ({"totals": {"nope": "sum"}}, "'nope' is not a field"),
        ({"totals": {"amount": "total"}}, "is not one of sum, avg, count, min, max"),
        ({"totals": ["amount"]}, "totals must be a mapping"),
        ({"display": {"tz": "UTC"}}, "display takes only"),
        ({"display": {"decimal_mark": ",", "thousands_mark": ","}}, "must differ"),
        ({"display": {"timezone": "Nowhere"}}, "display.timezone: unknown time zone"),
        ({"pdf": {"max_pages": 0}}, "pdf.max_pages must be a whole number"),
        ({"csv": {"formatted": "yes"}}, "csv.formatted must be true or false"),
    ],
)
def test_bad_template_keys_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        template(**changes)
    assert message in str(caught.value)
    assert str(caught.value).startswith("sales.yaml: ")


def test_count_and_min_max_fit_other_types() -> None:
    tmpl = template(totals={"customer": "count", "at": "max", "day": "min"})
    assert [kind for _, kind in tmpl.totals] == [TotalKind.COUNT, TotalKind.MAX, TotalKind.MIN]


# --- rendering ----------------------------------------------------------------------------


def shown(name: str, tmpl: Template | None = None) -> ColumnDisplay:
    tmpl = tmpl or template()
    schema = canonical_schema(tmpl.fields)
    return ColumnDisplay(tmpl.display.of(name), tmpl.display, schema.field(name).type)


def test_numbers_round_half_up_group_and_sign_first() -> None:
    amount = shown("amount")
    assert amount.value_text(1234.5) == "€1,234.50"
    assert amount.value_text(-2.675) == "-€2.68"  # Excel's rounding, not binary's 2.67
    assert amount.value_text(-0.001) == "€0.00"  # no "-0.00"
    assert shown("rate").value_text(0.125) == "12.5%"
    assert shown("weight").value_text(10500) == "10,500.0 kg"
    assert shown("id").value_text(1204) == "1,204"
    assert amount.value_text(Decimal("12345678901234567.895")) == "€12,345,678,901,234,567.90"


def test_currency_codes_symbols_and_positions() -> None:
    def text(spec: dict[str, Any], value: float) -> str:
        fields = [{"name": "x", "type": "number", "format": spec}]
        return shown("x", parse_template({**BASE, "fields": fields}, "t.yaml")).value_text(value)

    assert text({"currency": "USD"}, 5) == "$5.00"
    assert text({"currency": "JPY"}, 1234.4) == "¥1,234"
    assert text({"currency": "CHF"}, 5) == "CHF 5.00"
    assert text({"currency": "EUR", "position": "after"}, 5) == "5.00 €"
    assert text({"currency": "EUR", "symbol": "EUR", "decimals": 0}, 5.5) == "EUR 6"


def test_marks_follow_the_template() -> None:
    tmpl = template(display={"decimal_mark": ",", "thousands_mark": "."})
    assert shown("amount", tmpl).value_text(1234567.891) == "€1.234.567,89"


def test_dates_and_zones() -> None:
    day = shown("day")
    assert day.value_text(date(2024, 2, 9)) == "09 Feb 2024"
    at = shown("at")  # naive values are UTC; shown in Berlin (CET in January, CEST in July)
    texts = at.texts(pa.array([datetime(2024, 1, 5, 23, 30), datetime(2024, 7, 1, 8)]))
    assert texts.to_pylist() == ["2024-01-06 00:30", "2024-07-01 10:00"]
    fields = [{"name": "t", "type": "datetime", "format": {"datetime": "EEE d MMMM, h:mm a"}}]
    odd = parse_template({**BASE, "fields": fields}, "t.yaml")
    assert shown("t", odd).value_text(datetime(2024, 3, 4, 15, 7)) == "Mon 4 March, 3:07 PM"
    zoned = parse_template(
        {**BASE, "fields": [{"name": "t", "type": "datetime"}], "display": {"timezone": "UTC"}},
        "t.yaml",
    )
    seoul = datetime(2024, 1, 1, 9, tzinfo=ZoneInfo("Asia/Seoul"))
    column = pa.array([seoul], pa.timestamp("us", "Asia/Seoul"))
    assert shown("t", zoned).texts(column).to_pylist() == ["2024-01-01T00:00:00Z"]


def test_excel_codes_match_the_text() -> None:
    tmpl = template()
    codes = {name: excel_format(fmt) for name, fmt in tmpl.display.formats.items()}
    assert codes == {
        "id": "#,##0",
        "amount": '"€"#,##0.00',
        "rate": "#,##0.0%",
        "weight": '#,##0.0" kg"',
        "day": 'dd" "mmm" "yyyy',
        "at": 'yyyy"-"mm"-"dd" "hh":"mm',
    }


def test_totals_fold_batches() -> None:
    tmpl = template()
    schema = canonical_schema(tmpl.fields)
    totals = Totals(tmpl.totals, schema)
    totals.add(rows(schema))
    totals.add(rows(schema).slice(0, 1))
    values = {t.name: t.value for t in totals.items}
    assert values["id"] == 5
    assert values["amount"] == pytest.approx(1234.5 * 2 - 2.675 + 1_000_000)
    assert values["rate"] == pytest.approx((0.125 * 2 + 0.5) / 4)
    assert values["weight"] == 10_500.0
    assert values["day"] == date(2023, 12, 31)
    empty = Totals(tmpl.totals, schema)
    assert [t.value for t in empty.items] == [0, None, None, None, None]
    assert number_text(5, tmpl.display.formats["amount"], tmpl.display) == "€5.00"


# --- CSV ----------------------------------------------------------------------------------


def read_csv(path: Path, delimiter: str = ",") -> list[list[str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.reader(handle, delimiter=delimiter))


def write_csv(path: Path, tmpl: Template) -> list[list[str]]:
    schema = canonical_schema(tmpl.fields)
    with CsvWriter(path, schema, context(tmpl)) as writer:
        writer.write(rows(schema))
    return read_csv(path, tmpl.csv.delimiter)


def test_csv_is_raw_unless_the_template_asks(tmp_path: Path) -> None:
    raw = write_csv(tmp_path / "raw.csv", template())
    assert raw[1] == ["1", "Ærø", "1234.5", "0.125", "1.25", "2024-01-05", "2024-01-05T23:30:00"]
    shaped = write_csv(tmp_path / "f.csv", template(csv={"formatted": True, "delimiter": ";"}))
    assert shaped[0] == ["id", "customer", "amount", "rate", "weight", "day", "at"]
    assert shaped[1] == [
        "1",
        "Ærø",
        "€1,234.50",
        "12.5%",
        "1.3 kg",
        "05 Jan 2024",
        "2024-01-06 00:30",
    ]
    assert shaped[3][2:4] == ["", "0.0%"]  # NULL stays empty
    assert "1,204" in (tmp_path / "f.csv").read_text(encoding="utf-8")


# --- XLSX ---------------------------------------------------------------------------------


def write_xlsx(path: Path, tmpl: Template, batches: int = 1) -> Path:
    schema = canonical_schema(tmpl.fields)
    with XlsxWriter(path, schema, context(tmpl)) as writer:
        for _ in range(batches):
            writer.write(rows(schema))
    return path


@pytest.mark.parametrize("batches", [1, 8], ids=["cells", "table"])
def test_xlsx_cells_stay_typed_with_real_number_formats(tmp_path: Path, batches: int) -> None:
    path = write_xlsx(tmp_path / "s.xlsx", template(), batches)
    sheet = openpyxl.load_workbook(path).active
    assert sheet is not None
    first = list(sheet[2])
    assert [c.value for c in first] == [
        1,
        "Ærø",
        1234.5,
        0.125,
        1.25,
        datetime(2024, 1, 5),
        datetime(2024, 1, 6, 0, 30),  # Berlin wall time
    ]
    assert [c.number_format for c in first] == [
        "#,##0",
        "General",
        '"€"#,##0.00',
        "#,##0.0%",
        '#,##0.0" kg"',
        'dd" "mmm" "yyyy',
        'yyyy"-"mm"-"dd" "hh":"mm',
    ]
    assert sheet["G3"].value == datetime(2024, 7, 1, 10, 0)  # CEST
    assert sheet.auto_filter.ref == f"A1:G{1 + 4 * batches}"


def test_xlsx_total_row_holds_values_formatted_like_the_column(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "s.xlsx", template(), batches=2)
    sheet = openpyxl.load_workbook(path).active
    assert sheet is not None
    assert sheet.max_row == 11  # header, 8 rows, a blank row, the totals
    assert all(cell.value is None for cell in sheet[10])
    total = list(sheet[11])
    assert [c.value for c in total] == [
        8,
        "Total",
        pytest.approx(2 * (1234.5 - 2.675 + 1_000_000)),
        pytest.approx(0.625 / 3),
        10_500.0,
        datetime(2023, 12, 31),
        None,
    ]
    assert [c.number_format for c in total[:6]] == [
        '"count "#,##0',
        "General",
        '"€"#,##0.00',
        '"avg "#,##0.0%',
        '"max "#,##0.0" kg"',
        '"min "dd" "mmm" "yyyy',
    ]
    assert all(c.font.bold for c in total[:6])
    assert all(isinstance(c.value, (int, float)) for c in (total[0], total[2], total[3]))


def libreoffice_shown(xlsx: Path, folder: Path) -> list[list[str]]:
    """The sheet as LibreOffice shows it: its CSV export with "as shown" on."""
    folder.mkdir()
    command = [
        libreoffice(),
        f"-env:UserInstallation=file://{folder}/profile",
        "--headless",
        "--convert-to",
        "csv:Text - txt - csv (StarCalc):44,34,76,1,,1033,false,true,true,false,false",
        "--outdir",
        str(folder),
        str(xlsx),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=180)
    return read_csv(folder / f"{xlsx.stem}.csv")


def test_libreoffice_shows_the_formats_and_totals(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "s.xlsx", template())
    shown_rows = libreoffice_shown(path, tmp_path / "lo")
    assert shown_rows[1] == [
        "1",
        "Ærø",
        "€1,234.50",
        "12.5%",
        "1.3 kg",
        "05 Jan 2024",
        "2024-01-06 00:30",
    ]
    assert shown_rows[2][2] == "-€2.68"
    assert shown_rows[-1][:6] == [
        "count 4",
        "Total",
        "€1,001,231.83",
        "avg 20.8%",
        "max 10,500.0 kg",
        "min 31 Dec 2023",
    ]


def test_chart_ticks_follow_the_value_format() -> None:
    assert shown("amount").tick_text(2_000_000) == "€2,000,000"
    assert shown("amount").tick_text(np.float64(3e6)) == "€3,000,000"  # what matplotlib passes
    assert shown("amount").tick_text(2.5) == "€2.50" and shown("amount").tick_text(0) == "€0"
    assert shown("rate").tick_text(0.25) == "25%" and shown("rate").tick_text(0.125) == "12.5%"


def test_xlsx_totals_of_many_sheets_go_on_the_last(tmp_path: Path) -> None:
    tmpl = template()
    schema = canonical_schema(tmpl.fields)
    path = tmp_path / "s.xlsx"
    with XlsxWriter(path, schema, context(tmpl), rows_per_sheet=4) as writer:
        writer.write(rows(schema))  # exactly one full sheet: the totals need another
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Sales 2024", "Sales 2024 (2)"]
    second = book["Sales 2024 (2)"]
    assert second["A3"].value == 4 and second["B3"].value == "Total"
    assert book["Sales 2024"].max_row == 5


def test_xlsx_prints_on_the_page_width_with_the_header_repeated(tmp_path: Path) -> None:
    sheet = openpyxl.load_workbook(write_xlsx(tmp_path / "s.xlsx", template())).active
    assert sheet is not None
    # fitToWidth is left out of the file: OOXML's default is 1 page wide.
    assert sheet.page_setup.fitToWidth in (None, 1) and sheet.page_setup.fitToHeight == 0
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == "$1:$1"
    assert "Page &P of &N" in sheet.oddFooter.right.text
