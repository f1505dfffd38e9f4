"""The demo data set and templates: deterministic, well-formed, and every template runs on it.

`reportd serve` and `reportd demo` depend on both without a human checking them, so a template
whose query no longer matches the generated tables must fail here, not in a first-run demo.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from reportd.entrypoints.demo.data import BASE_ROWS, TENANTS, build_demo_database

SCALE = 0.02
SRC = Path(__file__).resolve().parents[2] / "src"
TEMPLATES_DIR = SRC / "reportd" / "entrypoints" / "demo" / "templates"
TEMPLATE_IDS = (
    "certificate_orders",
    "cloud_costs",
    "malware_samples",
    "directory_users",
    "directory_devices",
    "invoices",
)
FORMATS = ["csv", "json", "ndjson", "xlsx", "parquet", "pdf"]
FIELD_TYPES = {"string", "integer", "number", "boolean", "date", "datetime"}
REQUIRED_KEYS = {
    "id",
    "name",
    "description",
    "source",
    "query",
    "fields",
    "parameters",
    "formats",
    "display_name",
    "timeout",
    "retention",
    "pdf",
}
# A `:name` placeholder, but not the `::` cast operator nor a time literal such as '12:30'.
PLACEHOLDER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    counts = build_demo_database(path, scale=SCALE)
    return path, counts


@pytest.fixture
def con(demo_db: tuple[Path, dict[str, int]]) -> Any:
    connection = duckdb.connect(str(demo_db[0]), read_only=True)
    yield connection
    connection.close()


def _fingerprint(path: Path) -> dict[str, tuple[Any, ...]]:
    """Per table: row count, column types and an order-sensitive hash of every row."""
    connection = duckdb.connect(str(path), read_only=True)
    try:
        result: dict[str, tuple[Any, ...]] = {}
        for table in BASE_ROWS:
            row = connection.execute(
                f"SELECT count(*), bit_xor(hash(t)), "
                f"md5(string_agg(CAST(hash(t) AS VARCHAR), ',' ORDER BY rowid)) FROM {table} t"
            ).fetchone()
            types = connection.execute(f"DESCRIBE {table}").fetchall()
            assert row is not None
            result[table] = (*row, tuple((c[0], c[1]) for c in types))
        return result
    finally:
        connection.close()


def _load_templates() -> dict[str, dict[str, Any]]:
    templates: dict[str, dict[str, Any]] = {}
    for file in sorted(TEMPLATES_DIR.glob("*.yaml")):
        with file.open(encoding="utf-8") as handle:
            doc = yaml.safe_load(handle)
        assert isinstance(doc, dict), file
        templates[doc["id"]] = doc
    return templates


def test_build_returns_scaled_row_counts(demo_db: tuple[Path, dict[str, int]], con: Any) -> None:
    _, counts = demo_db
    assert set(counts) == set(BASE_ROWS)
    for table, base in BASE_ROWS.items():
        assert counts[table] == max(20, round(base * SCALE))
        (actual,) = con.execute(f"SELECT count(*) FROM {table}").fetchone()
        assert actual == counts[table]


def test_build_is_deterministic(tmp_path: Path, demo_db: tuple[Path, dict[str, int]]) -> None:
    again = tmp_path / "again.duckdb"
    build_demo_database(again, scale=SCALE)
    assert _fingerprint(again) == _fingerprint(demo_db[0])


def test_rebuild_replaces_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "demo.duckdb"
    first = build_demo_database(path, scale=0.001)
    second = build_demo_database(path, scale=0.002)
    assert second["cloud_costs"] > first["cloud_costs"]
    assert sorted(p.name for p in path.parent.iterdir()) == ["demo.duckdb"]


def test_scale_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="scale"):
        build_demo_database(tmp_path / "x.duckdb", scale=0)


def test_every_table_has_both_tenants(con: Any) -> None:
    for table in BASE_ROWS:
        rows = dict(con.execute(f"SELECT tenant, count(*) FROM {table} GROUP BY tenant").fetchall())
        assert set(rows) == set(TENANTS), table
        assert rows["demo"] > rows["acme"] > 0, table


def test_hashes_look_real_and_are_unique(con: Any) -> None:
    for column, length in (("md5", 32), ("sha1", 40), ("sha256", 64)):
        pattern = f"[0-9a-f]{{{length}}}"
        bad, distinct, total = con.execute(
            f"SELECT count(*) FILTER (WHERE NOT regexp_full_match({column}, '{pattern}')),"
            f" count(DISTINCT {column}), count(*) FROM malware_samples"
        ).fetchone()
        assert bad == 0, column
        assert distinct == total, column


def test_identifiers_are_unique_and_devices_have_owners(con: Any) -> None:
    for table, column in (
        ("certificate_orders", "order_id"),
        ("malware_samples", "sample_id"),
        ("directory_users", "user_id"),
        ("directory_users", "username"),
        ("directory_devices", "device_id"),
        ("invoices", "invoice_id"),
    ):
        distinct, total = con.execute(
            f"SELECT count(DISTINCT {column}), count(*) FROM {table}"
        ).fetchone()
        assert distinct == total, (table, column)
    uuid_like = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
    (bad,) = con.execute(
        f"SELECT count(*) FROM directory_users WHERE NOT regexp_full_match(user_id, '{uuid_like}')"
    ).fetchone()
    assert bad == 0
    (orphans,) = con.execute(
        "SELECT count(*) FROM directory_devices d LEFT JOIN directory_users u "
        "ON u.user_id = d.user_id AND u.tenant = d.tenant WHERE u.user_id IS NULL"
    ).fetchone()
    assert orphans == 0


def test_text_includes_non_ascii(con: Any) -> None:
    (korean,) = con.execute(
        "SELECT count(*) FROM certificate_orders WHERE organization = '주식회사 한빛'"
    ).fetchone()
    assert korean > 0
    (accented,) = con.execute(
        "SELECT count(*) FROM invoices WHERE customer <> strip_accents(customer)"
    ).fetchone()
    assert accented > 0


def test_statuses_follow_the_domains(con: Any) -> None:
    def values(table: str, column: str) -> set[str]:
        return {r[0] for r in con.execute(f"SELECT DISTINCT {column} FROM {table}").fetchall()}

    assert values("certificate_orders", "status") == {"issued", "pending", "revoked", "expired"}
    assert values("cloud_costs", "provider") == {"aws", "google", "azure"}
    assert values("malware_samples", "classification") == {"malicious", "suspicious", "goodware"}
    assert values("invoices", "status") == {"paid", "open", "overdue"}
    assert "ACTIVE" in values("directory_devices", "device_status")
    (mismatch,) = con.execute(
        "SELECT count(*) FROM invoices WHERE paid <> (status = 'paid')"
    ).fetchone()
    assert mismatch == 0
    (out_of_range,) = con.execute(
        "SELECT count(*) FROM malware_samples WHERE risk_score NOT BETWEEN 0 AND 10"
    ).fetchone()
    assert out_of_range == 0


def test_one_template_file_per_domain() -> None:
    templates = _load_templates()
    assert sorted(templates) == sorted(TEMPLATE_IDS)
    for file in TEMPLATES_DIR.glob("*.yaml"):
        assert yaml.safe_load(file.read_text(encoding="utf-8"))["id"] == file.stem


@pytest.mark.parametrize("template_id", TEMPLATE_IDS)
def test_template_is_well_formed(template_id: str) -> None:
    doc = _load_templates()[template_id]
    assert set(doc) >= REQUIRED_KEYS, REQUIRED_KEYS - set(doc)
    assert re.fullmatch(r"[a-z0-9_-]+", doc["id"])
    assert doc["source"] == "demo"
    assert doc["formats"] == FORMATS
    assert isinstance(doc["timeout"], int)
    assert isinstance(doc["retention"], int)
    assert "tenant = :tenant_id" in doc["query"]

    names = [f["name"] for f in doc["fields"]]
    assert len(names) == len(set(names))
    for field in doc["fields"]:
        assert field["type"] in FIELD_TYPES, field
        assert isinstance(field.get("label"), str), field
        assert isinstance(field.get("filterable"), bool), field
        assert isinstance(field.get("sortable"), bool), field

    schema = doc["parameters"]
    assert schema["type"] == "object"
    options = set(PLACEHOLDER.findall(doc["query"])) - {"tenant_id"}
    assert options, "a demo template should have at least one option"
    assert options == set(schema["properties"])
    assert "tenant_id" not in schema["properties"]
    for name, prop in schema["properties"].items():
        assert "default" in prop, name

    pdf = doc["pdf"]
    assert pdf["title"]
    assert set(pdf.get("columns", [])) <= set(names)
    if "chart" in pdf:
        assert set(pdf["chart"]) == {"type", "x", "y"}
        assert {pdf["chart"]["x"], pdf["chart"]["y"]} <= set(names)


def test_malware_template_names_its_subject_keys() -> None:
    doc = _load_templates()["malware_samples"]
    assert doc["subject"] == {"keys": {"md5": "md5", "sha1": "sha1", "sha256": "sha256"}}


_DUCKDB_TYPES = {
    "string": {"VARCHAR"},
    "integer": {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UBIGINT", "UINTEGER"},
    "number": {"DOUBLE", "FLOAT"},
    "boolean": {"BOOLEAN"},
    "date": {"DATE"},
    "datetime": {"TIMESTAMP", "TIMESTAMP WITH TIME ZONE"},
}


@pytest.mark.parametrize("template_id", TEMPLATE_IDS)
def test_template_query_runs_on_the_demo_data(template_id: str, con: Any) -> None:
    doc = _load_templates()[template_id]
    sql = PLACEHOLDER.sub(r"$\1", doc["query"])
    defaults = {k: v["default"] for k, v in doc["parameters"]["properties"].items()}

    def run(tenant: str, **options: Any) -> Any:
        return con.execute(sql, {"tenant_id": tenant, **defaults, **options})

    demo = run("demo")
    columns = [d[0] for d in demo.description]
    rows = demo.fetchall()
    assert rows, "the defaults should select the demo tenant's rows"
    described = {
        row[0]: row[1]
        for row in con.execute(f"DESCRIBE {sql}", {"tenant_id": "demo", **defaults}).fetchall()
    }
    for field in doc["fields"]:
        assert field["name"] in columns, field["name"]
        assert described[field["name"]] in _DUCKDB_TYPES[field["type"]], field

    acme = run("acme").fetchall()
    assert 0 < len(acme) < len(rows)
    assert run("nobody").fetchall() == []

    # Every enumerated option value (other than the catch-all) narrows the result.
    for name, prop in doc["parameters"]["properties"].items():
        for value in prop.get("enum", []):
            if value != prop["default"]:
                assert len(run("demo", **{name: value}).fetchall()) < len(rows), (name, value)
