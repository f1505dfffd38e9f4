"""Several formats from one pass: zip bundles, split parts, and formats added later."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import duckdb
import httpx
import pytest
import pyzipper

from tests.integration.test_reports_api import create, wait_final
from tests.server_fixtures import DEFAULT_CONFIG, RunningServer, start_server, write_sample_world

PARTS_TEMPLATE = """\
id: numbers
name: Numbers
source: shop
query: |
  SELECT range AS n, 'row ' || CAST(range AS VARCHAR) AS label
  FROM range(CAST(:rows AS BIGINT)) WHERE :tenant_id IS NOT NULL
fields:
  - {name: n, type: integer, filterable: true, sortable: true}
  - {name: label, type: string}
parameters:
  type: object
  properties:
    rows: {type: integer, default: 2500}
formats: [csv, json, ndjson]
display_name: Numbers
max_rows_per_file: 1000
"""

# Reads a Parquet file through an in-memory DuckDB, so the test can change the data under it.
KEPT_TEMPLATE = """\
id: kept_orders
name: Orders with kept rows
source: files
query: |
  SELECT order_id, customer, amount, created_at, paid
  FROM read_parquet('{parquet}') WHERE tenant = :tenant_id
fields:
  - {name: order_id, type: integer, sortable: true}
  - {name: customer, type: string}
  - {name: amount, type: number}
  - {name: created_at, type: datetime}
  - {name: paid, type: boolean}
formats: [csv, json, ndjson]
display_name: Kept
keep_data: true
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("outputs")
    write_sample_world(root)
    (root / "templates" / "numbers.yaml").write_text(PARTS_TEMPLATE)
    parquet = root / "orders.parquet"
    with duckdb.connect(str(root / "orders.duckdb")) as con:
        con.execute(f"COPY orders TO '{parquet}' (FORMAT PARQUET)")
    (root / "templates" / "kept.yaml").write_text(KEPT_TEMPLATE.replace("{parquet}", str(parquet)))
    config = DEFAULT_CONFIG + '\n[[sources]]\nname = "files"\nurl = "duckdb://"\n'
    with start_server(root, config_toml=config) as running:
        yield running


@pytest.fixture
def api(server: RunningServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {server.admin_key}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        yield client


def download(api: httpx.Client, report: dict[str, Any], fmt: str, part: int | None = None) -> bytes:
    params: dict[str, Any] = {"format": fmt}
    if part is not None:
        params["part"] = part
    response = api.get(f"/v1/reports/{report['id']}/download", params=params)
    assert response.status_code == 200, response.text
    return response.content


def test_zip_bundles_every_format_in_one_archive(api: httpx.Client) -> None:
    report = wait_final(
        api,
        create(api, template_id="orders", formats=["csv", "json", "zip"], zip_password=True)["id"],
    )
    assert report["state"] == "FINISHED"
    by_format = {a["format"]: a for a in report["artifacts"]}
    assert set(by_format) == {"csv", "json", "zip"}
    bundle = by_format["zip"]
    assert bundle["filename"].startswith("Orders-") and bundle["filename"].endswith(".zip")
    assert bundle["mime_type"] == "application/zip"
    password = report["zip_password"]
    assert password and len(password) >= 16
    data = download(api, report, "zip")
    with pyzipper.AESZipFile(io.BytesIO(data)) as archive:
        names = sorted(archive.namelist())
        assert names == sorted([by_format["csv"]["filename"], by_format["json"]["filename"]])
        with pytest.raises(RuntimeError):
            archive.read(names[0], pwd=b"wrong password")
        archive.setpassword(password.encode())
        assert archive.read(by_format["csv"]["filename"]) == download(api, report, "csv")
        assert archive.read(by_format["json"]["filename"]) == download(api, report, "json")


def test_zip_alone_or_zip_later_is_refused(api: httpx.Client) -> None:
    alone = api.post("/v1/reports", json={"template_id": "orders", "formats": ["zip"]})
    assert alone.json()["error"]["code"] == "format_inapplicable"


def test_per_format_packaging_and_gzip(api: httpx.Client) -> None:
    report = wait_final(
        api, create(api, template_id="orders", formats=["csv", "json"], packaging="zip")["id"]
    )
    for artifact in report["artifacts"]:
        assert artifact["filename"].endswith(f".{artifact['format']}.zip")
        with zipfile.ZipFile(io.BytesIO(download(api, report, artifact["format"]))) as archive:
            assert archive.namelist() == [artifact["filename"].removesuffix(".zip")]


def test_large_outputs_split_into_numbered_parts(api: httpx.Client) -> None:
    report = wait_final(api, create(api, template_id="numbers", formats=["csv", "ndjson"])["id"])
    assert report["state"] == "FINISHED"
    csv_parts = sorted(
        (a for a in report["artifacts"] if a["format"] == "csv"), key=lambda a: a["part"]
    )
    assert [a["part"] for a in csv_parts] == [1, 2, 3]
    assert [a["rows"] for a in csv_parts] == [1000, 1000, 500]
    assert [a["filename"].rsplit("-", 1)[1] for a in csv_parts] == ["001.csv", "002.csv", "003.csv"]
    numbers: list[int] = []
    for part in (1, 2, 3):
        rows = list(csv.reader(io.StringIO(download(api, report, "csv", part).decode())))
        assert rows[0] == ["n", "label"]
        numbers.extend(int(r[0]) for r in rows[1:])
        link = api.get(
            f"/v1/reports/{report['id']}/download_url", params={"format": "csv", "part": part}
        ).json()
        assert link["filename"] == csv_parts[part - 1]["filename"]
    assert numbers == list(range(2500))
    ndjson = b"".join(download(api, report, "ndjson", p) for p in (1, 2, 3))
    assert [json.loads(line)["n"] for line in ndjson.splitlines()] == list(range(2500))

    small = wait_final(
        api, create(api, template_id="numbers", formats=["csv"], options={"rows": 10})["id"]
    )
    assert [a["part"] for a in small["artifacts"]] == [None]
    assert "-part-" not in small["artifacts"][0]["filename"]


def test_a_format_added_later_comes_from_the_kept_rows(
    api: httpx.Client, server: RunningServer
) -> None:
    report = wait_final(
        api, create(api, template_id="kept_orders", formats=["csv"], order_by=["order_id"])["id"]
    )
    original_csv = download(api, report, "csv")
    # Change the source: a format made later must not see it.
    parquet = server.config_path.parent / "orders.parquet"
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT * REPLACE ('CHANGED' AS customer) FROM read_parquet('{parquet}')) "
            f"TO '{parquet}.new' (FORMAT PARQUET)"
        )
    (parquet.parent / "orders.parquet.new").replace(parquet)
    added = api.post(f"/v1/reports/{report['id']}/formats", json={"format": "ndjson"})
    assert added.status_code == 202, added.text
    assert download(api, report, "csv") == original_csv  # still served meanwhile
    done = wait_final(api, report["id"])
    assert done["formats"] == ["csv", "ndjson"]
    assert {a["format"] for a in done["artifacts"]} == {"csv", "ndjson"}
    lines = [json.loads(x) for x in download(api, done, "ndjson").splitlines()]
    rows = list(csv.DictReader(io.StringIO(original_csv.decode())))
    assert [x["customer"] for x in lines] == [r["customer"] for r in rows]
    assert "CHANGED" not in {x["customer"] for x in lines}
    assert done["expires_at"] == report["expires_at"]

    again = api.post(f"/v1/reports/{report['id']}/formats", json={"format": "ndjson"})
    assert again.status_code == 202 and again.json()["state"] == "FINISHED"
    plain = wait_final(api, create(api, template_id="orders", formats=["csv"])["id"])
    refused = api.post(f"/v1/reports/{plain['id']}/formats", json={"format": "json"})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "conflict"
    bundle = api.post(f"/v1/reports/{report['id']}/formats", json={"format": "zip"})
    assert bundle.json()["error"]["code"] == "format_inapplicable"
