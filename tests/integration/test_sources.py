"""The native SQL sources (PostgreSQL, MariaDB, SQLite): parameters, filters, cancel, validate.

Each test runs on the real engine; MariaDB and PostgreSQL are the machine's servers.
"""

from __future__ import annotations

import csv
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reportd.adapters.sources.base import Source
from reportd.adapters.sources.registry import build_source
from reportd.config import Settings, SourceSettings
from reportd.domain.errors import SourceError
from reportd.domain.formats import FieldType, Format
from reportd.domain.models import Field, Template
from reportd.entrypoints.cli.template_check import validate_templates
from reportd.generation.pipeline import RunControl, RunSpec, generate

NASTY = ["o'brien", 'say "hi"', "back\\slash", "50% off_", "x'); DROP TABLE people; --", "😀 한"]


def _pg_people(url: str) -> str:
    import psycopg

    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("CREATE TABLE people (id int, name text, tenant text)")
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO people VALUES (%s, %s, %s)",
                [(i, name, "t1") for i, name in enumerate(NASTY)],
            )
    return url.replace("postgresql+psycopg://", "postgresql://")


def _mysql_people(url: str) -> str:
    import pymysql

    host, database = url.removeprefix("mysql://root@").split("/", 1)
    conn = pymysql.connect(
        host=host.split(":")[0], port=int(host.split(":")[1]), user="root", database=database,
        autocommit=True, charset="utf8mb4",
    )  # fmt: skip
    with conn.cursor() as cursor:
        cursor.execute("CREATE TABLE people (id int, name text, tenant text) CHARSET utf8mb4")
        cursor.executemany(
            "INSERT INTO people VALUES (%s, %s, %s)",
            [(i, name, "t1") for i, name in enumerate(NASTY)],
        )
    conn.close()
    return url


def _sqlite_people(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE people (id INTEGER, name TEXT, tenant TEXT)")
        conn.executemany(
            "INSERT INTO people VALUES (?, ?, ?)",
            [(i, name, "t1") for i, name in enumerate(NASTY)],
        )
    return f"sqlite:///{path}"


@pytest.fixture(params=["postgresql", "mariadb", "sqlite"])
def people(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Source]:
    if request.param == "postgresql":
        url = _pg_people(request.getfixturevalue("pg_url"))
    elif request.param == "mariadb":
        url = _mysql_people(request.getfixturevalue("mysql_url"))
    else:
        url = _sqlite_people(tmp_path / "people.db")
    source = build_source("people", url)
    yield source
    source.close()


FIELDS = (
    Field("id", FieldType.INTEGER, filterable=True, sortable=True),
    Field("name", FieldType.STRING, filterable=True, sortable=True),
)
QUERY = "SELECT id, name FROM people WHERE tenant = :tenant_id AND name <> :skip"


def _rows(source: Source, tmp_path: Path, filter_text: str | None, skip: str = "") -> list[str]:
    template = Template("p", "People", "people", QUERY, FIELDS, (Format.CSV,))
    spec = RunSpec(
        template=template,
        tenant_id="t1",
        fields=("id", "name"),
        formats=(Format.CSV,),
        options={"skip": skip},
        filter=filter_text,
        order_by=("id",),
    )
    workdir = tmp_path / f"run-{time.monotonic_ns()}"
    workdir.mkdir()
    produced = generate(spec, source, workdir, RunControl()).files[0]
    with produced.path.open(newline="", encoding="utf-8") as handle:
        return [row["name"] for row in csv.DictReader(handle)]


@pytest.mark.parametrize("value", NASTY)
def test_values_are_bound_never_spliced(people: Source, tmp_path: Path, value: str) -> None:
    """A filter value and an option equal to each awkward name find exactly that row."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    assert _rows(people, tmp_path, f'name eq "{escaped}"') == [value]
    assert value not in _rows(people, tmp_path, None, skip=value)
    assert _rows(people, tmp_path, None) == NASTY  # the table is still there, whole


def test_like_filters_escape_their_wildcards(people: Source, tmp_path: Path) -> None:
    assert _rows(people, tmp_path, 'name co "%"') == ["50% off_"]
    assert _rows(people, tmp_path, 'name co "_"') == ["50% off_"]
    assert _rows(people, tmp_path, 'name sw "back\\\\"') == ["back\\slash"]
    assert _rows(people, tmp_path, 'name ew "한"') == ["😀 한"]


SLOW = {
    "postgresql": "SELECT id, name FROM people CROSS JOIN pg_sleep(30) WHERE :tenant_id <> ''",
    "mariadb": "SELECT id, name FROM people WHERE SLEEP(30) = 0 AND :tenant_id <> ''",
    # SQLite stops at the next batch (its ADBC driver has no cancel): many small batches.
    "sqlite": (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000000) "
        "SELECT i AS id, 'x' AS name FROM n WHERE :tenant_id <> ''"
    ),
}


def test_interrupt_stops_a_running_query(
    people: Source, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    kind = request.node.callspec.params["people"]
    stream = people.stream(SLOW[kind], {"tenant_id": "t1"}, batch_size=100)
    errors: list[BaseException] = []

    def read() -> None:
        try:
            list(stream)
        except SourceError as exc:
            errors.append(exc)

    reader = threading.Thread(target=read)
    started = time.monotonic()
    reader.start()
    time.sleep(1.0)
    stream.interrupt()
    reader.join(25)
    stream.close()
    assert not reader.is_alive(), "the query kept running after interrupt()"
    assert time.monotonic() - started < 25
    assert errors, "an interrupted query must end in a SourceError"
    assert "interrupted" in str(errors[0])


# -- templates validate reads its first rows through the real cast ---------------------------


def _settings(tmp_path: Path, url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        templates_dir=tmp_path / "templates",
        sources=[SourceSettings(name="src", url=url)],
        demo=False,
    )


def _write_template(tmp_path: Path, query: str, fields: str) -> None:
    folder = tmp_path / "templates"
    folder.mkdir(exist_ok=True)
    (folder / "t.yaml").write_text(
        f"id: t\nname: T\nsource: src\nquery: |\n  {query}\nfields:\n{fields}formats: [csv]\n"
    )


def test_validate_passes_what_runs_and_refuses_what_would_fail(tmp_path: Path) -> None:
    """The new user's three templates: offset timestamps, a JSON list, mixed JSON shapes."""
    path = tmp_path / "v.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE e (at TEXT, tags TEXT, doc TEXT, n TEXT)")
        conn.executemany(
            "INSERT INTO e VALUES (?, ?, ?, ?)",
            [
                ("2024-01-01T10:00:00+02:00", '["a","b"]', '{"k": 1}', "1.5"),
                ("2024-01-02 10:00:00", "[]", "[1, 2]", "NaN"),
            ],
        )
    fields = (
        "  - {name: at, type: datetime, timezone: UTC}\n  - {name: tags, type: list}\n"
        "  - {name: doc, type: json}\n  - {name: n, type: decimal}\n"
    )
    _write_template(tmp_path, "SELECT at, tags, doc, n FROM e WHERE :tenant_id <> ''", fields)
    assert validate_templates(_settings(tmp_path, f"sqlite:///{path}")) == []

    bad = "  - {name: at, type: datetime}\n  - {name: tags, type: integer}\n"
    _write_template(tmp_path, "SELECT at, tags FROM e WHERE :tenant_id <> ''", bad)
    problems = validate_templates(_settings(tmp_path, f"sqlite:///{path}"))
    assert len(problems) == 1
    message = problems[0][1]
    assert "'tags'" in message
    assert "row 1" in message
    assert "a" in message


def test_validate_reads_postgres_nan_and_jsonb_through_the_cast(
    pg_url: str, tmp_path: Path
) -> None:
    import psycopg

    with psycopg.connect(pg_url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("CREATE TABLE m (n numeric, doc jsonb)")
        conn.execute("""INSERT INTO m VALUES ('NaN', '{"a": 1}'), (1.25, '[1, "x"]')""")
    fields = "  - {name: n, type: decimal}\n  - {name: doc, type: json}\n"
    _write_template(tmp_path, "SELECT n, doc FROM m WHERE :tenant_id <> ''", fields)
    url = pg_url.replace("postgresql+psycopg://", "postgresql://")
    assert validate_templates(_settings(tmp_path, url)) == []
