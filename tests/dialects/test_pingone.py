"""PingOne data explorations (seeds/003_27eea77a82f209ec.txt) against a real server process.

The document's create body and its poll (with the trailing slash) are sent as written, with
``{{apiPath}}`` the server's ``/v1`` and ``{{envID}}`` the key's tenant; the devices data and
the "Devices report" template (named by the document's template id) are this module's own.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import pyzipper

from tests.server_fixtures import RunningServer, start_server

ENV = "abfba8f6-49eb-49f5-a5d9-80ad5c98f9f6"  # the document's envID
OTHER_ENV = "7d1e2c3b-0000-4000-8000-000000000002"
TEMPLATE_ID = "db632bfd-7054-4bde-b108-a384aac2d513"  # the document's dataExplorationTemplate
DOC_FIELDS = ["userId", "username", "phone", "deviceStatus", "deviceId"]
DOC_FIELD_REFS = [{"name": name} for name in DOC_FIELDS]
DOC_FILTER = '(mfaEnabled eq "true")'
# The document's request body, byte for byte apart from the template id variable.
DOC_BODY = (
    '{\n    "dataExplorationTemplate": {\n        "id": "' + TEMPLATE_ID + '"\n    },\n'
    '    "fields": [\n'
    '        {\n            "name": "userId"\n        },\n'
    '        {\n            "name": "username"\n        },\n'
    '        {\n            "name": "phone"\n        },\n'
    '        {\n            "name": "deviceStatus"\n        },\n'
    '        {\n            "name": "deviceId"\n        }\n'
    "    ],\n"
    '    "filter": "(mfaEnabled eq \\"true\\")",\n'
    '    "deliverAs":"ASYNC_FILE"\n}'
)
BODY_KEYS = [
    "_links", "id", "environment", "createdAt", "updatedAt", "expiresAt", "fields", "filter",
    "orderBy", "status", "deliverAs", "zipPassword", "csvPresignedUrl", "jsonPresignedUrl",
    "sync", "dataExplorationTemplate",
]  # fmt: skip
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

# userId, username, phone, deviceStatus, deviceId, mfaEnabled, deviceType, env
DEVICES: list[tuple[str, str, str, str, str, bool, str, str]] = [
    ("u-1", "ada", "+15550001", "ACTIVE", "d-1", True, "SMS", ENV),
    ("u-1", "ada", "+15550001", "ACTIVE", "d-2", True, "EMAIL", ENV),
    ("u-2", "brian", "+15550002", "BLOCKED", "d-3", False, "SMS", ENV),
    ("u-3", "chloé", "+33600003", "ACTIVATION_REQUIRED", "d-4", True, "TOTP", ENV),
    ("u-4", "dmitri", "+49150004", "ACTIVE", "d-5", False, "VOICE", ENV),
    ("u-9", "other-env", "+15559999", "ACTIVE", "d-9", True, "SMS", OTHER_ENV),
]

DEVICES_TEMPLATE = f"""\
id: {TEMPLATE_ID}
name: Devices report
description: MFA devices with their users.
source: directory
query: |
  SELECT user_id AS "userId", username, phone, device_status AS "deviceStatus",
         device_id AS "deviceId", mfa_enabled AS "mfaEnabled", device_type AS "deviceType"
  FROM devices WHERE env = :tenant_id ORDER BY device_id
fields:
  - {{name: userId, type: string, filterable: true, sortable: true}}
  - {{name: username, type: string, filterable: true, sortable: true}}
  - {{name: phone, type: string, filterable: true}}
  - {{name: deviceStatus, type: string, filterable: true, sortable: true}}
  - {{name: deviceId, type: string, filterable: true, sortable: true}}
  - {{name: mfaEnabled, type: boolean, filterable: true}}
  - {{name: deviceType, type: string, filterable: true, sortable: true}}
formats: [csv, json]
display_name: devices-report
"""

CONFIG = """\
templates_dir = "templates"

[[sources]]
name = "shop"
url = "duckdb:///orders.duckdb"

[[sources]]
name = "directory"
url = "duckdb:///directory.duckdb"

[worker]
poll_interval = 0.1
"""


def write_directory(root: Path) -> None:
    import duckdb

    (root / "templates").mkdir(parents=True, exist_ok=True)
    (root / "templates" / "devices.yaml").write_text(DEVICES_TEMPLATE)
    with duckdb.connect(str(root / "directory.duckdb")) as conn:
        conn.execute(
            "CREATE TABLE devices (user_id VARCHAR, username VARCHAR, phone VARCHAR, "
            "device_status VARCHAR, device_id VARCHAR, mfa_enabled BOOLEAN, "
            "device_type VARCHAR, env VARCHAR)"
        )
        conn.executemany("INSERT INTO devices VALUES (?, ?, ?, ?, ?, ?, ?, ?)", DEVICES)


def launch(root: Path, database_url: str | None, **env: str) -> RunningServer:
    write_directory(root)
    return start_server(
        root, config_toml=CONFIG, database_url=database_url, tenant=ENV, env=env or None
    )


@pytest.fixture(scope="module")
def pingone(
    backend_database: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    with launch(tmp_path_factory.mktemp("pingone"), backend_database) as running:
        yield running


@pytest.fixture(scope="module")
def api(pingone: RunningServer) -> Iterator[httpx.Client]:
    """``{{apiPath}}`` with ``Authorization: Bearer {{accessToken}}`` (a real, scoped key)."""
    token = pingone.make_key(
        ENV, name="pingone-worker", scopes=("reports:read", "reports:write", "templates:read")
    )
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=f"{pingone.url}/v1", headers=headers, timeout=30) as client:
        yield client


def create(api: httpx.Client, body: dict[str, Any] | str) -> httpx.Response:
    content = body if isinstance(body, str) else json.dumps(body)
    return api.post(
        f"/environments/{ENV}/dataExplorations",
        content=content,
        headers={"Content-Type": "application/json"},
    )


def poll(api: httpx.Client, exploration_id: str, timeout: float = 60) -> dict[str, Any]:
    """The document's poll, trailing slash included, until the status is no more IN_PROGRESS."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = api.get(f"/environments/{ENV}/dataExplorations/{exploration_id}/")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] != "IN_PROGRESS":
            return body
        time.sleep(0.1)
    raise AssertionError(f"data exploration {exploration_id} still IN_PROGRESS")


def expected_rows(where: Any = lambda d: d[5]) -> list[dict[str, str]]:
    return [dict(zip(DOC_FIELDS, d[:5], strict=True)) for d in DEVICES if d[7] == ENV and where(d)]


def unzip(content: bytes, password: str) -> bytes:
    with pyzipper.AESZipFile(io.BytesIO(content)) as archive:
        archive.setpassword(password.encode())
        (name,) = archive.namelist()
        plain: bytes = archive.read(name)
        return plain


def assert_pingone_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert str(uuid.UUID(body["id"])) == body["id"]
    assert body["message"].startswith("The request could not be completed.")
    assert set(body) <= {"id", "code", "message", "details"}
    return body


# -- the documented flow ------------------------------------------------------------------------


def test_documented_create_poll_and_both_zips(pingone: RunningServer, api: httpx.Client) -> None:
    created = create(api, DOC_BODY)
    assert created.status_code == 201, created.text
    first = created.json()
    assert first["status"] == "IN_PROGRESS"
    assert "zipPassword" not in first
    assert "csvPresignedUrl" not in first

    body = poll(api, first["id"])
    assert list(body) == BODY_KEYS
    env_href = f"{pingone.url}/v1/environments/{ENV}"
    assert body["_links"] == {
        "self": {"href": f"{env_href}/dataExplorations/{first['id']}"},
        "environment": {"href": env_href},
        "dataExplorationTemplate": {"href": f"{env_href}/dataExplorationTemplates/{TEMPLATE_ID}"},
    }
    assert body["id"] == first["id"]
    assert body["environment"] == {"id": ENV}
    for key in ("createdAt", "updatedAt", "expiresAt"):
        assert TIMESTAMP.match(body[key]), body[key]
    created_at, expires_at = _moment(body["createdAt"]), _moment(body["expiresAt"])
    assert created_at == _moment(first["createdAt"])
    assert expires_at - created_at == timedelta(minutes=30)
    assert _moment(body["updatedAt"]) >= created_at
    assert body["fields"] == [{"name": n} for n in DOC_FIELDS]
    assert body["filter"] == DOC_FILTER
    assert body["orderBy"] == []
    assert body["status"] == "SUCCESS"
    assert body["deliverAs"] == "ASYNC_FILE"
    assert body["sync"] is False
    assert body["dataExplorationTemplate"] == {"id": TEMPLATE_ID, "name": "Devices report"}

    password = body["zipPassword"]
    assert isinstance(password, str)
    assert len(password) >= 8
    with httpx.Client(timeout=30) as anonymous:  # the links need no credential
        csv_zip = anonymous.get(body["csvPresignedUrl"])
        json_zip = anonymous.get(body["jsonPresignedUrl"])
    assert csv_zip.status_code == json_zip.status_code == 200
    assert urlsplit(body["csvPresignedUrl"]).path.endswith(".csv.zip")
    assert urlsplit(body["jsonPresignedUrl"]).path.endswith(".json.zip")

    rows = list(csv.DictReader(io.StringIO(unzip(csv_zip.content, password).decode())))
    assert rows == expected_rows()
    assert json.loads(unzip(json_zip.content, password)) == expected_rows()

    with pytest.raises(RuntimeError, match=r"(?i)password"):
        unzip(csv_zip.content, password + "x")
    with pytest.raises(RuntimeError, match=r"(?i)password"):
        unzip(json_zip.content, "not-the-password")


def test_links_are_signed_afresh_on_every_get(api: httpx.Client) -> None:
    done = poll(api, create(api, DOC_BODY).json()["id"])
    time.sleep(1.1)  # link expiry has one-second resolution
    again = poll(api, done["id"])
    for key in ("csvPresignedUrl", "jsonPresignedUrl"):
        before, after = parse_qs(urlsplit(done[key]).query), parse_qs(urlsplit(again[key]).query)
        assert before["signature"] != after["signature"]
        assert int(after["expires"][0]) > int(before["expires"][0])
        assert abs(int(after["expires"][0]) - (time.time() + 300)) < 30  # five minutes
        assert urlsplit(done[key]).path == urlsplit(again[key]).path
    assert done["zipPassword"] == again["zipPassword"]
    with httpx.Client(timeout=30) as anonymous:  # the older link still works within its life
        assert anonymous.get(done["csvPresignedUrl"]).status_code == 200
        tampered = done["csvPresignedUrl"].replace("signature=", "signature=0")
        assert anonymous.get(tampered).status_code == 403


def test_order_by_objects_and_strings(api: httpx.Client) -> None:
    body = {
        "dataExplorationTemplate": {"id": TEMPLATE_ID},
        "fields": [{"name": "deviceId"}, {"name": "username"}],
        "orderBy": [{"name": "username", "order": "DESC"}, "-deviceId"],
        "deliverAs": "ASYNC_FILE",
    }
    done = poll(api, create(api, body).json()["id"])
    assert done["status"] == "SUCCESS"
    assert "filter" not in done
    assert done["orderBy"] == [
        {"name": "username", "order": "DESC"},
        {"name": "deviceId", "order": "DESC"},
    ]
    with httpx.Client(timeout=30) as anonymous:
        content = anonymous.get(done["jsonPresignedUrl"]).content
    rows = json.loads(unzip(content, done["zipPassword"]))
    mine = sorted((d for d in DEVICES if d[7] == ENV), key=lambda d: (d[1], d[4]), reverse=True)
    assert rows == [{"deviceId": d[4], "username": d[1]} for d in mine]


def test_the_same_report_through_the_native_api(pingone: RunningServer, api: httpx.Client) -> None:
    done = poll(api, create(api, DOC_BODY).json()["id"])
    native = httpx.Client(
        base_url=pingone.url, headers={"Authorization": f"Bearer {pingone.admin_key}"}, timeout=30
    )
    report = native.get(f"/v1/reports/{done['id']}").json()
    assert report["id"] == done["id"]
    assert report["state"] == "FINISHED"
    assert report["template_id"] == TEMPLATE_ID
    assert report["packaging"] == "zip"
    assert report["filter"] == DOC_FILTER
    assert report["fields"] == DOC_FIELDS
    by_format = {a["format"]: a for a in report["artifacts"]}
    assert set(by_format) == {"csv", "json"}
    with httpx.Client(timeout=30) as anonymous:
        for fmt in ("csv", "json"):
            via_pingone = anonymous.get(done[f"{fmt}PresignedUrl"]).content
            via_native = native.get(
                f"/v1/reports/{done['id']}/download", params={"format": fmt}
            ).content
            assert via_native == via_pingone
            assert by_format[fmt]["sha256"] == hashlib.sha256(via_pingone).hexdigest()
            assert (
                by_format[fmt]["filename"]
                == urlsplit(done[f"{fmt}PresignedUrl"]).path.split("/")[-1]
            )
    native.close()


def test_templates_list_and_one(pingone: RunningServer, api: httpx.Client) -> None:
    listed = api.get(f"/environments/{ENV}/dataExplorationTemplates")
    assert listed.status_code == 200
    body = listed.json()
    env_href = f"{pingone.url}/v1/environments/{ENV}"
    assert body["_links"] == {"self": {"href": f"{env_href}/dataExplorationTemplates"}}
    embedded = body["_embedded"]["dataExplorationTemplates"]
    assert body["count"] == body["size"] == len(embedded)
    (devices,) = [t for t in embedded if t["id"] == TEMPLATE_ID]
    assert devices["name"] == "Devices report"
    assert devices["environment"] == {"id": ENV}
    names = [f["name"] for f in devices["fields"]]
    assert names[:5] == DOC_FIELDS
    mfa = next(f for f in devices["fields"] if f["name"] == "mfaEnabled")
    assert mfa == {"name": "mfaEnabled", "type": "BOOLEAN", "filterable": True, "sortable": False}

    one = api.get(f"/environments/{ENV}/dataExplorationTemplates/{TEMPLATE_ID}")
    assert one.json() == devices
    missing = api.get(f"/environments/{ENV}/dataExplorationTemplates/nope")
    assert_pingone_error(missing, 404, "NOT_FOUND")


# -- errors in PingOne's body -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filter_text", "message"),
    [
        ('(mfaEnabled eq "true"', "position"),
        ('(mfaEnabled eq "maybe")', "position"),
        ('(secret eq "x")', "unknown field 'secret'"),
        ('(username zz "ada")', "position"),
    ],
)
def test_bad_filter_is_invalid_data(api: httpx.Client, filter_text: str, message: str) -> None:
    body = {"dataExplorationTemplate": {"id": TEMPLATE_ID}, "filter": filter_text}
    error = assert_pingone_error(create(api, body), 400, "INVALID_DATA")
    (detail,) = error["details"]
    assert detail["code"] == "INVALID_VALUE"
    assert detail["target"] == "filter"
    assert message in detail["message"]


@pytest.mark.parametrize(
    ("body", "code", "target"),
    [
        ({"fields": [{"name": "userId"}]}, "REQUIRED_VALUE", "dataExplorationTemplate"),
        ({"dataExplorationTemplate": {}}, "REQUIRED_VALUE", "dataExplorationTemplate.id"),
        (
            {"dataExplorationTemplate": {"id": TEMPLATE_ID}, "deliverAs": "EMAIL"},
            "INVALID_VALUE",
            "deliverAs",
        ),
        (
            {"dataExplorationTemplate": {"id": TEMPLATE_ID}, "fields": [{"name": "password"}]},
            "INVALID_VALUE",
            "fields",
        ),
        (
            {"dataExplorationTemplate": {"id": TEMPLATE_ID}, "orderBy": ["phone"]},
            "INVALID_VALUE",
            "orderBy",
        ),
        (
            {"dataExplorationTemplate": {"id": TEMPLATE_ID}, "orderBy": [{"order": "DESC"}]},
            "REQUIRED_VALUE",
            "orderBy.0.name",
        ),
    ],
)
def test_invalid_body_is_invalid_data(
    api: httpx.Client, body: dict[str, Any], code: str, target: str
) -> None:
    error = assert_pingone_error(create(api, body), 400, "INVALID_DATA")
    assert any(d["code"] == code and d["target"].startswith(target) for d in error["details"]), (
        error
    )


def test_malformed_json_is_invalid_data(api: httpx.Client) -> None:
    assert_pingone_error(create(api, '{"dataExplorationTemplate": '), 400, "INVALID_DATA")


def test_unknown_template_and_exploration_are_not_found(api: httpx.Client) -> None:
    body = {"dataExplorationTemplate": {"id": str(uuid.uuid4())}}
    assert_pingone_error(create(api, body), 404, "NOT_FOUND")
    missing = api.get(f"/environments/{ENV}/dataExplorations/{uuid.uuid4()}")
    assert_pingone_error(missing, 404, "NOT_FOUND")


def test_another_environment_is_access_failed(pingone: RunningServer, api: httpx.Client) -> None:
    mine = poll(api, create(api, DOC_BODY).json()["id"])
    assert_pingone_error(
        api.get(f"/environments/{OTHER_ENV}/dataExplorations/{mine['id']}"), 403, "ACCESS_FAILED"
    )
    wrong_env = api.post(f"/environments/{OTHER_ENV}/dataExplorations", content=DOC_BODY)
    assert_pingone_error(wrong_env, 403, "ACCESS_FAILED")
    listed = api.get(f"/environments/{OTHER_ENV}/dataExplorationTemplates")
    assert_pingone_error(listed, 403, "ACCESS_FAILED")

    # The other environment's own key, in its own environment, does not see this one's report.
    theirs = pingone.make_key(OTHER_ENV, name="other", scopes=("reports:read",))
    response = httpx.get(
        f"{pingone.url}/v1/environments/{OTHER_ENV}/dataExplorations/{mine['id']}",
        headers={"Authorization": f"Bearer {theirs}"},
        timeout=30,
    )
    assert_pingone_error(response, 404, "NOT_FOUND")


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-key", "Basic dXNlcjpwYXNz"])
def test_missing_or_bad_token_is_access_failed(
    pingone: RunningServer, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    for method, path in (
        ("GET", f"/v1/environments/{ENV}/dataExplorations/{uuid.uuid4()}"),
        ("POST", f"/v1/environments/{ENV}/dataExplorations"),
        ("GET", f"/v1/environments/{ENV}/dataExplorationTemplates"),
    ):
        response = httpx.request(
            method, f"{pingone.url}{path}", headers=headers, content=DOC_BODY, timeout=30
        )
        error = assert_pingone_error(response, 401, "ACCESS_FAILED")
        assert response.headers["www-authenticate"] == "Bearer"
        assert error["details"][0]["code"] == "INVALID_TOKEN"


# -- 30 minutes, made short -----------------------------------------------------------------------


def test_expires_at_is_honoured_then_the_exploration_is_gone(
    backend_database: str | None, tmp_path: Path
) -> None:
    from tests.conftest import create_pg_database, drop_pg_database

    database_url = None if backend_database is None else create_pg_database()
    try:
        _expiry_flow(tmp_path, database_url)
    finally:
        if database_url is not None:
            drop_pg_database(database_url)


def _expiry_flow(root: Path, database_url: str | None) -> None:
    expiry = 4
    with launch(root, database_url, REPORTD_DIALECTS__PINGONE_EXPIRY=str(expiry)) as server:
        token = server.make_key(ENV, name="w", scopes=("reports:read", "reports:write"))
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=f"{server.url}/v1", headers=headers, timeout=30) as client:
            done = poll(client, create(client, DOC_BODY).json()["id"])
            assert done["status"] == "SUCCESS"
            created_at = _moment(done["createdAt"])
            assert _moment(done["expiresAt"]) - created_at == timedelta(seconds=expiry)
            link = done["csvPresignedUrl"]
            assert httpx.get(link, timeout=30).status_code == 200

            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                response = client.get(f"/environments/{ENV}/dataExplorations/{done['id']}")
                if response.status_code == 404:
                    break
                time.sleep(0.2)
            assert_pingone_error(response, 404, "NOT_FOUND")
            assert datetime.now(created_at.tzinfo) >= created_at + timedelta(seconds=expiry)
            assert httpx.get(link, timeout=30).status_code in (404, 410)  # the files went


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# -- entries (PingOne's sibling pages: deliverAs ENTRIES, sync, expand=entries, /entries) -------


def entries_of(api: httpx.Client, first: str) -> list[dict[str, Any]]:
    """Every entry, following ``_links.next`` as PingOne's paging page says to."""
    found: list[dict[str, Any]] = []
    url: str | None = first
    while url:
        page = api.get(url)
        assert page.status_code == 200, page.text
        body = page.json()
        assert body["size"] == len(body["_embedded"]["entries"])
        found += body["_embedded"]["entries"]
        url = body["_links"].get("next", {}).get("href")
    return found


def test_entries_is_the_default_and_pages_with_next_links(api: httpx.Client) -> None:
    body = {"dataExplorationTemplate": {"id": TEMPLATE_ID}, "fields": DOC_FIELD_REFS}
    created = create(api, body).json()
    assert created["deliverAs"] == "ENTRIES"
    done = poll(api, created["id"])
    assert done["status"] == "SUCCESS" and "zipPassword" not in done
    first = f"{done['_links']['entries']['href']}?limit=2"
    rows = entries_of(api, first)
    mine = [dict(zip(DOC_FIELDS, d[:5], strict=True)) for d in DEVICES if d[7] == ENV]
    assert sorted(rows, key=json.dumps) == sorted(mine, key=json.dumps)
    page = api.get(first).json()
    assert page["count"] == len(mine) and page["size"] == 2
    assert "cursor=" in page["_links"]["next"]["href"]
    bad = api.get(f"{done['_links']['entries']['href']}?cursor=!!!")
    assert_pingone_error(bad, 400, "INVALID_DATA")


def test_sync_with_expand_entries_answers_with_the_rows(api: httpx.Client) -> None:
    body = {
        "dataExplorationTemplate": {"id": TEMPLATE_ID},
        "fields": DOC_FIELD_REFS,
        "filter": '(deviceType eq "SMS")',
        "sync": "true",
        "deliverAs": "ENTRIES",
    }
    response = api.post(
        f"/environments/{ENV}/dataExplorations?expand=entries&limit=1000", json=body
    )
    assert response.status_code == 201, response.text
    done = response.json()
    assert done["status"] == "SUCCESS" and done["sync"] is True
    expected = [
        dict(zip(DOC_FIELDS, d[:5], strict=True)) for d in DEVICES if d[7] == ENV and d[6] == "SMS"
    ]
    assert sorted(done["_embedded"]["entries"], key=json.dumps) == sorted(expected, key=json.dumps)
    no_sync = {**body, "sync": "false"}
    refused = api.post(f"/environments/{ENV}/dataExplorations?expand=entries", json=no_sync)
    assert_pingone_error(refused, 400, "INVALID_DATA")


def test_async_file_zips_open_with_unzip(api: httpx.Client, tmp_path: Path) -> None:
    """PingOne's zips are ZipCrypto by default: Info-ZIP unzip (and Windows) open them."""
    import shutil
    import subprocess

    if shutil.which("unzip") is None:
        pytest.skip("needs Info-ZIP unzip")
    body = {"dataExplorationTemplate": {"id": TEMPLATE_ID}, "deliverAs": "ASYNC_FILE"}
    done = poll(api, create(api, body).json()["id"])
    archive = tmp_path / "report.csv.zip"
    archive.write_bytes(httpx.get(done["csvPresignedUrl"], timeout=30).content)
    opened = subprocess.run(
        ["unzip", "-P", done["zipPassword"], "-d", str(tmp_path / "out"), str(archive)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert opened.returncode == 0, opened.stdout + opened.stderr
    (csv_file,) = (tmp_path / "out").iterdir()
    assert csv_file.read_text().splitlines()[0].startswith("userId")
