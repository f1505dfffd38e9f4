"""A template's CSV layout: a UTF-8 BOM for Excel, and ``;``/tab/``|`` delimiters, read back
by Python's csv module exactly as the default comma file."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pytest

from reportd.adapters.template_files import parse_template
from reportd.domain.errors import ValidationError
from reportd.domain.formats import FieldType, Format
from reportd.domain.models import CsvLayout, Field, Template
from reportd.generation.formats.base import WriteContext
from reportd.generation.formats.csv import BOM, CsvWriter

FIELDS = (
    Field(name="name", type=FieldType.STRING),
    Field(name="amount", type=FieldType.NUMBER),
)
NAMES = ["plain", "서울 지점", "a;b", "tab\there", "pipe|d", 'say "hi"', "", None]
AMOUNTS = [1.5, -2.0, 3.25, None, 0.0, 1e-7, 10.0, 2.5]


def _write(path: Path, layout: CsvLayout) -> None:
    template = Template(id="t", name="T", source="s", query="q", fields=FIELDS,
                        formats=(Format.CSV,), csv=layout)  # fmt: skip
    schema = pa.schema([("name", pa.string()), ("amount", pa.float64())])
    batch = pa.record_batch([pa.array(NAMES), pa.array(AMOUNTS)], schema=schema)
    with CsvWriter(path, schema, WriteContext(template=template, fields=FIELDS)) as writer:
        writer.write(batch)


def _read(path: Path, delimiter: str, encoding: str = "utf-8") -> list[list[str]]:
    with path.open(newline="", encoding=encoding) as handle:
        return list(csv.reader(handle, delimiter=delimiter))


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_every_delimiter_reads_back_the_same_rows(tmp_path: Path, delimiter: str) -> None:
    _write(tmp_path / "comma.csv", CsvLayout())
    _write(tmp_path / "other.csv", CsvLayout(delimiter=delimiter))
    assert _read(tmp_path / "other.csv", delimiter) == _read(tmp_path / "comma.csv", ",")
    assert _read(tmp_path / "other.csv", delimiter)[2] == ["서울 지점", "-2"]


def test_bom_only_when_asked_and_excel_style_readers_skip_it(tmp_path: Path) -> None:
    _write(tmp_path / "plain.csv", CsvLayout())
    _write(tmp_path / "bom.csv", CsvLayout(bom=True, delimiter=";"))
    assert not (tmp_path / "plain.csv").read_bytes().startswith(BOM)
    assert (tmp_path / "bom.csv").read_bytes().startswith(BOM + b"name;amount\n")
    rows = _read(tmp_path / "bom.csv", ";", encoding="utf-8-sig")
    assert rows[0] == ["name", "amount"] and rows[2][0] == "서울 지점"


def test_template_files_refuse_a_bad_layout() -> None:
    base = {"id": "t", "name": "T", "source": "s", "query": "q",
            "fields": [{"name": "a"}], "formats": ["csv"]}  # fmt: skip
    assert parse_template({**base, "csv": {"bom": True, "delimiter": ";"}}).csv == CsvLayout(
        bom=True, delimiter=";"
    )
    for bad in ({"delimiter": "::"}, {"bom": "yes"}, {"quote": "'"}, "semicolon"):
        with pytest.raises(ValidationError, match="csv"):
            parse_template({**base, "csv": bad})
