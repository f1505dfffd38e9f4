"""Spectra Analyze PDF Report API (seeds/002_9759c129c990143b.txt) against a real server.

Every request of the document is sent as written: the cURL samples through curl itself, the
Python samples through httpx in the same shape (``requests`` is not a dependency). The samples
live in a DuckDB file of this module's own, on SQLite and on PostgreSQL metadata.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server_fixtures import OTHER_TENANT, TENANT, RunningServer, start_server

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")

DOC_SHA1 = "07dbef34d2996447ffa8e8230f17d538e88f6ad6"  # the document's request examples
DOC_STATUS_SHA1 = "862adc63da7c3737aad42458e22f99666f47ce0d"  # the document's response example
NOT_PROVIDED = {"detail": "Authentication credentials were not provided."}
INVALID_TOKEN = {"detail": "Invalid token."}
MALFORMED = {"detail": "Malformed hash."}
NO_SAMPLE = {"detail": "Sample does not exist on the appliance."}
NO_PDF = {"detail": "PDF does not exist."}
READY = {"status": 2, "status_message": "PDF is ready for download."}
MISSING = {"status": 1, "status_message": "PDF does not exist and must be created."}
BEING_CREATED = {"status": 0, "status_message": "PDF is being created. Please wait."}
ENDPOINTS = ("create", "status", "download")


@dataclass(frozen=True)
class Sample:
    sample_id: int
    file_name: str
    md5: str
    sha1: str
    sha256: str
    tenant: str = TENANT

    def hash(self, kind: str) -> str:
        return str(getattr(self, kind))


def _sample(sample_id: int, name: str, sha1: str | None = None, tenant: str = TENANT) -> Sample:
    content = f"sample {sample_id}".encode()
    return Sample(
        sample_id=sample_id,
        file_name=name,
        md5=hashlib.md5(content).hexdigest(),
        sha1=sha1 or hashlib.sha1(content).hexdigest(),
        sha256=hashlib.sha256(content).hexdigest(),
        tenant=tenant,
    )


CURL_SAMPLE = _sample(1, "invoice.exe", sha1=DOC_SHA1)
STATUS_SAMPLE = _sample(2, "dropper.dll", sha1=DOC_STATUS_SHA1)
EACH_KIND_SAMPLE = _sample(3, "loader.bin")
CASE_SAMPLE = _sample(4, "macro.docm")
EXPIRY_SAMPLE = _sample(5, "stealer.apk")
FOREIGN_SAMPLE = _sample(6, "their-sample.exe", tenant=OTHER_TENANT)
SAMPLES = (CURL_SAMPLE, STATUS_SAMPLE, EACH_KIND_SAMPLE, CASE_SAMPLE, EXPIRY_SAMPLE, FOREIGN_SAMPLE)

SAMPLES_TEMPLATE = """\
id: samples
name: Sample analysis
source: lab
query: |
  SELECT sample_id, file_name, md5, sha1, sha256, threat
  FROM samples WHERE tenant = :tenant_id
fields:
  - {name: sample_id, type: integer, filterable: true, sortable: true}
  - {name: file_name, type: string, label: File name, filterable: true}
  - {name: md5, type: string, label: MD5, filterable: true}
  - {name: sha1, type: string, label: SHA1, filterable: true}
  - {name: sha256, type: string, label: SHA256, filterable: true}
  - {name: threat, type: string, label: Threat}
formats: [pdf, csv]
display_name: sample-report
subject:
  keys: {md5: md5, sha1: sha1, sha256: sha256}
pdf:
  title: Sample analysis report
  landscape: true
"""

CONFIG = """\
templates_dir = "templates"

[[sources]]
name = "shop"
url = "duckdb:///orders.duckdb"

[[sources]]
name = "lab"
url = "duckdb:///samples.duckdb"

[worker]
poll_interval = 0.1

[dialects]
spectra_template = "samples"
"""


def write_lab(root: Path) -> None:
    import duckdb

    (root / "templates").mkdir(parents=True, exist_ok=True)
    (root / "templates" / "samples.yaml").write_text(SAMPLES_TEMPLATE)
    with duckdb.connect(str(root / "samples.duckdb")) as conn:
        conn.execute(
            "CREATE TABLE samples (sample_id INTEGER, file_name VARCHAR, md5 VARCHAR, "
            "sha1 VARCHAR, sha256 VARCHAR, threat VARCHAR, tenant VARCHAR)"
        )
        conn.executemany(
            "INSERT INTO samples VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (s.sample_id, s.file_name, s.md5, s.sha1, s.sha256, "Win32.Trojan.Test", s.tenant)
                for s in SAMPLES
            ],
        )


def launch(root: Path, database_url: str | None, **env: str) -> RunningServer:
    write_lab(root)
    # One worker slot: a long native report can hold it, so "being created" is observable.
    return start_server(
        root, config_toml=CONFIG, database_url=database_url, workers=1, env=env or None
    )


@pytest.fixture(scope="module")
def spectra(
    backend_database: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    with launch(tmp_path_factory.mktemp("spectra"), backend_database) as running:
        yield running


@pytest.fixture(scope="module")
def token(spectra: RunningServer) -> str:
    """A real key in the place of the document's ``exampletoken``."""
    return spectra.make_key(name="spectra-client", scopes=("reports:read", "reports:write"))


def python_sample(base: str, token: str, hash_value: str, endpoint: str) -> httpx.Response:
    """The document's Python sample, with its hostname changed (``requests`` -> httpx)."""
    url = f"{base}/api/pdf/{hash_value}/{endpoint}"
    headers = {"Authorization": f"Token {token}"}
    return httpx.get(url, headers=headers, timeout=30)


def curl_sample(base: str, token: str, hash_value: str, endpoint: str, *extra: str) -> str:
    """The document's cURL sample, run by curl; returns the body (or the --output file)."""
    command = [
        "curl", "--silent", "--show-error", "--fail-with-body",
        "-X", "GET", f"{base}/api/pdf/{hash_value}/{endpoint}",
        "--header", f"Authorization: Token {token}",
        *extra,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, check=True, timeout=60)
    return done.stdout.decode()


def wait_ready(base: str, token: str, hash_value: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body: dict[str, Any] = python_sample(base, token, hash_value, "status").json()
        if body["status"] in (2, 3):
            return body
        assert body == BEING_CREATED
        time.sleep(0.1)
    raise AssertionError(f"the PDF for {hash_value} was not made in {timeout}s")


def pdf_text(content: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(content)
    done = subprocess.run(
        ["pdftotext", "-raw", str(path), "-"],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return done.stdout.decode()


def assert_pdf_of(sample: Sample, content: bytes, tmp_path: Path) -> None:
    assert content.startswith(b"%PDF-")
    text = "".join(pdf_text(content, tmp_path).split())  # a wrapped cell still reads whole
    for kind in ("md5", "sha1", "sha256"):
        assert sample.hash(kind) in text, kind
    assert sample.file_name in text
    for other in SAMPLES:
        if other is not sample:
            assert other.md5 not in text  # the PDF is about this one sample only


# -- the documented flow ------------------------------------------------------------------------


def test_curl_samples_create_then_status_being_created_then_ready_then_download(
    spectra: RunningServer, token: str, tmp_path: Path
) -> None:
    native = httpx.Client(
        base_url=spectra.url, headers={"Authorization": f"Bearer {spectra.admin_key}"}
    )
    slow = native.post("/v1/reports", json={"template_id": "slow", "formats": ["csv"]}).json()
    _wait_state(native, slow["id"], "IN_PROGRESS")  # the only worker slot is now busy

    created = curl_sample(spectra.url, token, DOC_SHA1, "create")
    assert httpx.Response(200, content=created).json() == {
        "status_endpoint": f"/api/pdf/{DOC_SHA1}/status",
        "download_endpoint": f"/api/pdf/{DOC_SHA1}/download",
    }
    status = httpx.Response(200, content=curl_sample(spectra.url, token, DOC_SHA1, "status"))
    assert status.json() == BEING_CREATED

    native.post(f"/v1/reports/{slow['id']}/cancel")
    assert wait_ready(spectra.url, token, DOC_SHA1) == READY
    curl_sample(spectra.url, token, DOC_SHA1, "download", "--output", str(tmp_path / "report.pdf"))
    assert_pdf_of(CURL_SAMPLE, (tmp_path / "report.pdf").read_bytes(), tmp_path)
    native.close()


@pytest.mark.parametrize("kind", ["md5", "sha1", "sha256"])
def test_python_samples_by_each_hash_type_and_the_same_report_natively(
    spectra: RunningServer, token: str, tmp_path: Path, kind: str
) -> None:
    hash_value = EACH_KIND_SAMPLE.hash(kind)
    created = python_sample(spectra.url, token, hash_value, "create")
    assert created.status_code == 200
    assert created.json() == {
        "status_endpoint": f"/api/pdf/{hash_value}/status",
        "download_endpoint": f"/api/pdf/{hash_value}/download",
    }
    assert wait_ready(spectra.url, token, hash_value) == READY

    response = python_sample(spectra.url, token, hash_value, "download")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="sample-report-')
    assert disposition.split(";")[1].strip().endswith('.pdf"')
    assert_pdf_of(EACH_KIND_SAMPLE, response.content, tmp_path)

    # The same report through the native API: same file, same sha256.
    report = _native_report(spectra, f'{kind} eq "{hash_value}"')
    assert report["state"] == "FINISHED"
    assert report["formats"] == ["pdf"]
    (artifact,) = report["artifacts"]
    assert artifact["sha256"] == hashlib.sha256(response.content).hexdigest()
    native = httpx.get(
        f"{spectra.url}/v1/reports/{report['id']}/download",
        params={"format": "pdf"},
        headers={"Authorization": f"Bearer {spectra.admin_key}"},
        timeout=30,
    )
    assert native.content == response.content


def test_create_again_reuses_the_live_pdf_and_hex_case_does_not_matter(
    spectra: RunningServer, token: str
) -> None:
    lower = CASE_SAMPLE.sha256
    assert python_sample(spectra.url, token, lower, "create").status_code == 200
    assert wait_ready(spectra.url, token, lower) == READY
    first = python_sample(spectra.url, token, lower, "download").content

    upper = lower.upper()
    again = python_sample(spectra.url, token, upper, "create")
    assert again.json()["status_endpoint"] == f"/api/pdf/{upper}/status"  # as it was sent
    assert python_sample(spectra.url, token, upper, "status").json() == READY
    assert python_sample(spectra.url, token, upper, "download").content == first
    assert _native_count(spectra, f'sha256 eq "{lower}"') == 1


def test_status_before_create_and_a_pdf_asked_by_md5_is_not_found_by_sha1(
    spectra: RunningServer, token: str
) -> None:
    # The document's example: Endpoint 2 called before Endpoint 1.
    before = python_sample(spectra.url, token, DOC_STATUS_SHA1, "status")
    assert before.status_code == 200
    assert before.json() == MISSING
    assert python_sample(spectra.url, token, DOC_STATUS_SHA1, "download").json() == NO_PDF

    md5 = STATUS_SAMPLE.md5
    python_sample(spectra.url, token, md5, "create")
    assert wait_ready(spectra.url, token, md5) == READY
    for other in (STATUS_SAMPLE.sha1, STATUS_SAMPLE.sha256):
        assert python_sample(spectra.url, token, other, "status").json() == MISSING
        missing = python_sample(spectra.url, token, other, "download")
        assert missing.status_code == 404
        assert missing.json() == NO_PDF


# -- documented errors --------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    "hash_value",
    [
        "examplehash",  # the Python sample's placeholder, sent as is
        "z" * 40,  # the length of a SHA1, not hex
        "a" * 33,  # hex, of no hash's length
        CURL_SAMPLE.sha256 + "0",
    ],
)
def test_malformed_hash_is_404(
    spectra: RunningServer, token: str, endpoint: str, hash_value: str
) -> None:
    response = python_sample(spectra.url, token, hash_value, endpoint)
    assert response.status_code == 404
    assert response.json() == MALFORMED


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    "hash_value",
    [
        hashlib.sha256(b"never analysed").hexdigest(),
        hashlib.md5(b"never analysed").hexdigest(),
        FOREIGN_SAMPLE.sha1,  # another tenant's sample does not exist for this one
    ],
)
def test_unknown_sample_is_404(
    spectra: RunningServer, token: str, endpoint: str, hash_value: str
) -> None:
    response = python_sample(spectra.url, token, hash_value, endpoint)
    assert response.status_code == 404
    assert response.json() == NO_SAMPLE


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_missing_or_bad_token_is_403(spectra: RunningServer, endpoint: str) -> None:
    url = f"{spectra.url}/api/pdf/{DOC_SHA1}/{endpoint}"
    missing = httpx.get(url, timeout=30)
    assert missing.status_code == 403
    assert missing.json() == NOT_PROVIDED
    bad = httpx.get(url, headers={"Authorization": "Token exampletoken"}, timeout=30)
    assert bad.status_code == 403
    assert bad.json() == INVALID_TOKEN


def test_key_without_the_scope_is_drf_permission_denied(spectra: RunningServer) -> None:
    reader = spectra.make_key(name="read-only", scopes=("templates:read",))
    response = python_sample(spectra.url, reader, DOC_SHA1, "create")
    assert response.status_code == 403
    assert response.json() == {"detail": "You do not have permission to perform this action."}


# -- 30 minutes, made short -----------------------------------------------------------------------


def test_pdf_expires_then_status_says_it_does_not_exist(
    backend_database: str | None, tmp_path: Path
) -> None:
    database_url = backend_database
    if database_url is not None:  # a server of its own needs a database of its own
        from tests.conftest import create_pg_database

        database_url = create_pg_database()
    try:
        _expiry_flow(tmp_path, database_url)
    finally:
        if database_url is not None:
            from tests.conftest import drop_pg_database

            drop_pg_database(database_url)


def _expiry_flow(root: Path, database_url: str | None) -> None:
    ttl = 10  # long enough that a loaded machine still downloads before it expires
    with launch(root, database_url, REPORTD_DIALECTS__SPECTRA_PDF_TTL=str(ttl)) as server:
        token = server.make_key(name="spectra-client", scopes=("reports:read", "reports:write"))
        sha1 = EXPIRY_SAMPLE.sha1
        python_sample(server.url, token, sha1, "create")
        created_at = time.monotonic()
        assert wait_ready(server.url, token, sha1) == READY
        assert python_sample(server.url, token, sha1, "download").status_code == 200
        report = _native_report(server, f'sha1 eq "{sha1}"')

        time.sleep(max(0.0, created_at + ttl + 0.5 - time.monotonic()))
        assert python_sample(server.url, token, sha1, "status").json() == MISSING
        gone = python_sample(server.url, token, sha1, "download")
        assert gone.status_code == 404
        assert gone.json() == NO_PDF
        native = httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {server.admin_key}"}
        )
        _wait_state(native, report["id"], "EXPIRED")  # the files really went
        native.close()

        python_sample(server.url, token, sha1, "create")  # asked for again: a new PDF
        assert wait_ready(server.url, token, sha1) == READY
        assert _native_count(server, f'sha1 eq "{sha1}"') == 2


# -- helpers ------------------------------------------------------------------------------------


def _native_reports(server: RunningServer, filter_text: str) -> list[dict[str, Any]]:
    listed = httpx.get(
        f"{server.url}/v1/reports",
        params={"template_id": "samples", "limit": 1000},
        headers={"Authorization": f"Bearer {server.admin_key}"},
        timeout=30,
    ).json()
    return [r for r in listed["results"] if r["filter"] == filter_text]


def _native_report(server: RunningServer, filter_text: str) -> dict[str, Any]:
    (report,) = _native_reports(server, filter_text)
    return report


def _native_count(server: RunningServer, filter_text: str) -> int:
    return len(_native_reports(server, filter_text))


def _wait_state(client: httpx.Client, report_id: str, state: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.get(f"/v1/reports/{report_id}").json()["state"] == state:
            return
        time.sleep(0.05)
    raise AssertionError(f"report {report_id} never reached {state}")
