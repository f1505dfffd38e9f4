"""OAuth 2.0 client credentials against a real server, through authlib's client unchanged.

authlib's ``OAuth2Session`` fetches tokens at reportd's three token endpoints (``/oauth/token``,
getbill's ``/token``, PingOne's ``/{envID}/as/token``) with both client authentication methods,
then runs getbill's and PingOne's report flows with the token it got. Refused tokens (expired,
revoked, wrong environment, narrowed scope) and RFC 6749's error bodies are checked too.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from authlib.integrations.requests_client import OAuth2Session

from reportd.app.tokens import TokenSigner
from reportd.domain.credentials import Holder
from tests.credentials import cli, make_client
from tests.server_fixtures import OTHER_TENANT, RunningServer

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def client_pair(backend_server: RunningServer) -> tuple[str, str]:
    return make_client(backend_server)


@pytest.fixture
def session(client_pair: tuple[str, str]) -> Iterator[OAuth2Session]:
    client_id, secret = client_pair
    with OAuth2Session(client_id, secret) as oauth:
        yield oauth


def wait_finished(get: Any, url: str, done: str, key: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body: dict[str, Any] = get(url).json()
        if key == "status" and body.get("data", {}).get("status") in (done, "failed"):
            return body
        if key == "pingone" and body.get("status") in (done, "FAILED"):
            return body
        time.sleep(0.1)
    raise AssertionError(f"{url} did not finish in {timeout}s")


def test_getbill_flow_with_a_token_from_slash_token(
    backend_server: RunningServer, session: OAuth2Session
) -> None:
    base = backend_server.url
    token = session.fetch_token(f"{base}/token", grant_type="client_credentials")
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3600  # getbill's documented hour
    assert token["refresh_token"]  # getbill documents refresh tokens
    created = session.post(
        f"{base}/external-api/v1/reports", json={"template_id": "orders", "format": "csv"}
    )
    assert created.status_code == 202, created.text
    report_id = created.json()["data"]["id"]
    status = wait_finished(
        session.get, f"{base}/external-api/v1/reports/{report_id}", "completed", "status"
    )
    assert status["data"]["status"] == "completed"
    info = session.get(f"{base}/external-api/v1/reports/download/{report_id}").json()["data"]
    file = httpx.get(info["download_url"], timeout=30)  # the signed link needs no token
    assert file.status_code == 200
    assert file.content.startswith(b"order_id,customer")


def test_refresh_token_gives_a_new_access_token(
    backend_server: RunningServer, session: OAuth2Session
) -> None:
    url = f"{backend_server.url}/token"
    first = session.fetch_token(url, grant_type="client_credentials")
    again = session.refresh_token(url, refresh_token=first["refresh_token"])
    assert again["access_token"] != first["access_token"]
    assert session.get(f"{backend_server.url}/v1/reports").status_code == 200


def test_pingone_flow_with_a_token_from_as_token(
    backend_server: RunningServer, client_pair: tuple[str, str]
) -> None:
    env = backend_server.tenant
    base = backend_server.url
    client_id, secret = client_pair
    with OAuth2Session(
        client_id, secret, token_endpoint_auth_method="client_secret_post"
    ) as session:
        token = session.fetch_token(f"{base}/{env}/as/token", grant_type="client_credentials")
        assert "refresh_token" not in token
        created = session.post(
            f"{base}/v1/environments/{env}/dataExplorations",
            json={
                "dataExplorationTemplate": {"id": "orders"},
                "fields": [{"name": "order_id"}],
                "deliverAs": "ASYNC_FILE",
            },
        )
        assert created.status_code == 201, created.text
        url = created.json()["_links"]["self"]["href"]
        done = wait_finished(session.get, url, "SUCCESS", "pingone")
        assert done["status"] == "SUCCESS"
        archive = httpx.get(done["csvPresignedUrl"], timeout=30).content
    import pyzipper

    with pyzipper.AESZipFile(io.BytesIO(archive)) as bundle:
        bundle.setpassword(done["zipPassword"].encode())
        text = bundle.read(bundle.namelist()[0]).decode()
    assert text.splitlines()[0] == "order_id"


def test_the_as_token_of_another_environment_is_invalid_client(
    backend_server: RunningServer, client_pair: tuple[str, str]
) -> None:
    response = httpx.post(
        f"{backend_server.url}/{OTHER_TENANT}/as/token",
        data={"grant_type": "client_credentials"},
        auth=client_pair,
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("form", "basic", "status", "error"),
    [
        ({"grant_type": "client_credentials"}, ("nobody", "nothing"), 401, "invalid_client"),
        ({"grant_type": "password"}, None, 400, "unsupported_grant_type"),
        ({}, None, 400, "invalid_request"),
        ({"grant_type": "client_credentials", "scope": "admin"}, None, 400, "invalid_scope"),
        ({"grant_type": "refresh_token", "refresh_token": "x.y.z"}, None, 400, "invalid_grant"),
    ],
)
def test_rfc_6749_error_bodies(
    backend_server: RunningServer,
    client_pair: tuple[str, str],
    form: dict[str, str],
    basic: tuple[str, str] | None,
    status: int,
    error: str,
) -> None:
    response = httpx.post(f"{backend_server.url}/oauth/token", data=form, auth=basic or client_pair)
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert set(response.json()) == {"error", "error_description"}


def test_a_wrong_secret_is_invalid_client(
    backend_server: RunningServer, client_pair: tuple[str, str]
) -> None:
    form = {"grant_type": "client_credentials", "client_id": client_pair[0], "client_secret": "no"}
    response = httpx.post(f"{backend_server.url}/oauth/token", data=form)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_scope_narrows_the_token(backend_server: RunningServer, session: OAuth2Session) -> None:
    base = backend_server.url
    session.fetch_token(
        f"{base}/oauth/token", grant_type="client_credentials", scope="reports:read"
    )
    assert session.get(f"{base}/v1/reports").status_code == 200
    refused = session.post(f"{base}/v1/reports", json={"template_id": "orders", "formats": ["csv"]})
    assert refused.status_code == 403


def test_an_expired_token_is_refused(
    backend_server: RunningServer, client_pair: tuple[str, str]
) -> None:
    """A token signed by the server's own key, issued two hours ago for one hour."""
    secret = (backend_server.data_dir / "secret").read_text().strip()
    expired = TokenSigner(secret).issue(
        holder=Holder.CLIENT,
        subject=client_pair[0],
        tenant_id=backend_server.tenant,
        scopes=("reports:read",),
        version=1,
        ttl=3600,
        now=datetime.now(UTC) - timedelta(hours=2),
    )
    headers = {"Authorization": f"Bearer {expired}"}
    response = httpx.get(f"{backend_server.url}/v1/reports", headers=headers)
    assert response.status_code == 401
    getbill = httpx.get(f"{backend_server.url}/external-api/v1/reports", headers=headers)
    assert getbill.status_code == 401
    assert getbill.json()["error"] is True


def test_a_revoked_client_is_refused_at_once(backend_server: RunningServer) -> None:
    client_id, secret = make_client(backend_server, name="soon-revoked")
    base = backend_server.url
    with OAuth2Session(client_id, secret) as session:
        session.fetch_token(f"{base}/oauth/token", grant_type="client_credentials")
        assert session.get(f"{base}/v1/reports").status_code == 200
        cli(backend_server, "clients", "revoke", client_id)
        assert session.get(f"{base}/v1/reports").status_code == 401  # no cache, no delay
    again = httpx.post(
        f"{base}/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )
    assert again.status_code == 401
    assert again.json()["error"] == "invalid_client"
    listed = json.loads(cli(backend_server, "clients", "list", "--tenant", "acme", "--json"))
    [row] = [c for c in listed if c["client_id"] == client_id]
    assert row["revoked_at"] and "client_secret" not in row


def test_a_token_is_accepted_in_every_header(
    backend_server: RunningServer, session: OAuth2Session
) -> None:
    token = session.fetch_token(
        f"{backend_server.url}/oauth/token", grant_type="client_credentials"
    )["access_token"]
    for headers in (
        {"Authorization": f"Token {token}"},
        {"X-API-Key": token},
        {"X-DC-DEVKEY": token},
    ):
        assert httpx.get(f"{backend_server.url}/v1/reports", headers=headers).status_code == 200


def test_x_dc_devkey_wins_over_another_authorization(backend_server: RunningServer) -> None:
    headers = {"X-DC-DEVKEY": backend_server.admin_key, "Authorization": "Basic Zm9vOmJhcg=="}
    response = httpx.get(f"{backend_server.url}/reports/v1/report/history", headers=headers)
    assert response.status_code == 200, response.text
