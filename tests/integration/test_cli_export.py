"""``reportd export`` writes every part, where it was told, and never clobbers a file."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from reportd.entrypoints.cli.main import app

ROWS = 72_000
SPLIT_TEMPLATE = """\
id: ledger
name: Ledger
source: books
query: SELECT entry_id, amount FROM ledger ORDER BY entry_id
fields:
  - {name: entry_id, type: integer}
  - {name: amount, type: number}
formats: [csv, pdf]
display_name: ledger
max_rows_per_file: 30000
"""


@pytest.fixture
def world(tmp_path: Path) -> Path:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "ledger.yaml").write_text(SPLIT_TEMPLATE)
    with duckdb.connect(str(tmp_path / "books.duckdb")) as con:
        con.execute(
            "CREATE TABLE ledger AS SELECT i AS entry_id, i / 100.0 AS amount "
            f"FROM range({ROWS}) r(i)"
        )
    config = tmp_path / "reportd.toml"
    config.write_text(
        'templates_dir = "templates"\n[[sources]]\nname = "books"\nurl = "duckdb:///books.duckdb"\n'
    )
    return config


def export(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app,
        ["export", "--config", str(config), "--data-dir", str(config.parent / "d"),
         "-t", "ledger", *args],
    )  # fmt: skip
    return result.exit_code, result.stderr


def _ids(path: Path) -> list[int]:
    return [int(row[0]) for row in list(csv.reader(io.StringIO(path.read_text())))[1:]]


def test_every_part_is_written_into_a_folder(world: Path, tmp_path: Path) -> None:
    code, err = export(world, "-f", "csv", "-o", f"{tmp_path}/out/")
    assert code == 0, err
    day = datetime.now(UTC).date().isoformat()
    parts = sorted((tmp_path / "out").iterdir())
    assert [p.name for p in parts] == [f"ledger-{day}-part-{n:03d}.csv" for n in (1, 2, 3)]
    ids = [i for part in parts for i in _ids(part)]
    assert ids == list(range(ROWS))  # nothing lost, nothing twice, in order
    assert [len(_ids(p)) for p in parts] == [30_000, 30_000, 12_000]
    assert "3 files, 72,000 rows" in err
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]


def test_parts_of_a_named_file_are_numbered_after_it(world: Path, tmp_path: Path) -> None:
    code, err = export(world, "-f", "csv", "-o", str(tmp_path / "ledger.csv"))
    assert code == 0, err
    names = sorted(p.name for p in tmp_path.glob("ledger-*.csv"))
    assert names == ["ledger-001.csv", "ledger-002.csv", "ledger-003.csv"]


def test_a_second_run_is_refused_before_it_reads_a_row_unless_forced(
    world: Path, tmp_path: Path
) -> None:
    target = tmp_path / "ledger.pdf"
    target.write_text("keep me")
    code, err = export(world, "-f", "pdf", "-o", str(target))
    assert code == 1
    assert "error already_exists" in " ".join(err.split()) and "--force" in err
    assert target.read_text() == "keep me"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".reportd-export")]
    code, err = export(world, "-f", "csv", "-o", f"{tmp_path}/again/")
    assert code == 0, err
    code, err = export(world, "-f", "csv", "-o", f"{tmp_path}/again/")
    assert code == 1 and "already_exists" in err
    code, err = export(world, "-f", "csv", "-o", f"{tmp_path}/again/", "--force")
    assert code == 0, err


def test_user_errors_are_one_line_not_a_traceback(world: Path) -> None:
    code, err = export(world, "-f", "docx")
    assert code == 1
    assert "Traceback" not in err and err.strip().startswith("error ")
