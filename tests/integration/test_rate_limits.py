"""Rate limits end to end: two real API processes over one database (a PostgreSQL database,
or one SQLite file), so every limit here is only met because both count in the same place.

Windows are a day long, so a test never straddles two (windows are aligned on the epoch);
tests isolate themselves with keys and tenants of their own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.conftest import create_pg_database, drop_pg_database
from tests.server_fixtures import RunningServer, start_server

WINDOW = 86_400
LIMITS = {
    "REPORTD_RATE_LIMITS__ENABLED": "true",
    "REPORTD_RATE_LIMITS__WINDOW_SECONDS": str(WINDOW),
    "REPORTD_RATE_LIMITS__KEY_CREATES": "3",
    "REPORTD_RATE_LIMITS__KEY_READS": "5",
    "REPORTD_RATE_LIMITS__TENANT_CREATES": "5",
}
ORDERS = {"template_id": "orders", "formats": ["csv"]}


@dataclass
class Pair:
    """Two API processes over the same metadata database."""

    a: RunningServer
    b: RunningServer

    def key(self, tenant: str | None = None, name: str = "limited") -> str:
        return self.a.make_key(tenant, name=name)

    def fresh_tenant(self) -> str:
        return f"rl-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def pair(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pair]:
    root = tmp_path_factory.mktemp(f"limits-{request.param}")
    if request.param == "postgresql":
        request.getfixturevalue("postgres_server")
        database_url = create_pg_database()
    else:
        database_url = f"sqlite:///{root / 'shared.db'}"
    try:
        with (
            start_server(root / "a", database_url=database_url, env=LIMITS, workers=0) as a,
            start_server(root / "b", database_url=database_url, env=LIMITS, workers=0) as b,
        ):
            yield Pair(a, b)
    finally:
        if request.param == "postgresql":
            drop_pg_database(database_url)


def call(server: RunningServer, key: str, method: str, path: str = "/v1/reports") -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
        if method == "POST":
            return http.post(path, json=ORDERS)
        return http.request(method, path)


def assert_limited(answer: httpx.Response, limit: int) -> None:
    assert answer.status_code == 429, answer.text
    assert answer.json()["error"]["code"] == "rate_limited"
    retry_after = int(answer.headers["retry-after"])
    assert 1 <= retry_after <= WINDOW
    assert answer.headers["ratelimit-limit"] == str(limit)
    assert answer.headers["ratelimit-remaining"] == "0"
    assert int(answer.headers["ratelimit-reset"]) == retry_after


def test_creates_over_the_key_limit_are_429_with_headers(pair: Pair) -> None:
    key = pair.key(pair.fresh_tenant())
    for remaining in (2, 1, 0):
        answer = call(pair.a, key, "POST")
        assert answer.status_code == 202, answer.text
        assert answer.headers["ratelimit-limit"] == "3"
        assert answer.headers["ratelimit-remaining"] == str(remaining)
        assert 1 <= int(answer.headers["ratelimit-reset"]) <= WINDOW
    assert_limited(call(pair.a, key, "POST"), limit=3)


def test_the_limit_is_shared_by_both_processes(pair: Pair) -> None:
    key = pair.key(pair.fresh_tenant())
    answers = [call(server, key, "POST") for server in (pair.a, pair.b, pair.a)]
    assert [a.status_code for a in answers] == [202, 202, 202]
    assert [a.headers["ratelimit-remaining"] for a in answers] == ["2", "1", "0"]
    assert_limited(call(pair.b, key, "POST"), limit=3)
    assert_limited(call(pair.a, key, "POST"), limit=3)


def test_reads_are_counted_apart_from_creates(pair: Pair) -> None:
    key = pair.key(pair.fresh_tenant())
    for _ in range(3):
        assert call(pair.a, key, "POST").status_code == 202
    assert_limited(call(pair.a, key, "POST"), limit=3)
    for index, server in enumerate((pair.a, pair.b, pair.a, pair.b, pair.a)):
        answer = call(server, key, "GET")
        assert answer.status_code == 200, answer.text
        assert answer.headers["ratelimit-limit"] == "5"
        assert answer.headers["ratelimit-remaining"] == str(4 - index)
    assert_limited(call(pair.b, key, "GET"), limit=5)


def test_the_tenant_limit_is_the_sum_of_its_keys(pair: Pair) -> None:
    tenant = pair.fresh_tenant()
    first, second, third = (pair.key(tenant, name=f"k{i}") for i in range(3))
    for _ in range(3):
        assert call(pair.a, first, "POST").status_code == 202
    # refused by its own key's limit, so it does not use the tenant's budget
    assert_limited(call(pair.a, first, "POST"), limit=3)
    assert call(pair.b, second, "POST").status_code == 202
    last = call(pair.a, second, "POST")
    assert last.status_code == 202
    assert (last.headers["ratelimit-limit"], last.headers["ratelimit-remaining"]) == ("5", "0")
    assert_limited(call(pair.b, third, "POST"), limit=5)
    # another tenant is untouched
    assert call(pair.a, pair.key(pair.fresh_tenant()), "POST").status_code == 202


def test_health_metrics_and_signed_links_are_not_limited(pair: Pair) -> None:
    with httpx.Client(base_url=pair.a.url, timeout=30) as http:
        for _ in range(8):
            for path in ("/healthz", "/readyz", "/metrics"):
                answer = http.get(path)
                assert answer.status_code == 200
                assert "ratelimit-limit" not in answer.headers
            link = http.get("/v1/files/some-report/orders.csv", params={"expires": "1"})
            assert link.status_code in (403, 404)
            assert "ratelimit-limit" not in link.headers


def test_an_unauthenticated_request_is_401_not_counted(pair: Pair) -> None:
    answer = call(pair.a, "rk_not-a-key", "GET")
    assert answer.status_code == 401
    assert "ratelimit-limit" not in answer.headers


def test_a_429_is_not_kept_by_idempotency(pair: Pair) -> None:
    key = pair.key(pair.fresh_tenant())
    for _ in range(3):
        assert call(pair.a, key, "POST").status_code == 202
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "after-429"}
    with httpx.Client(base_url=pair.b.url, headers=headers, timeout=30) as http:
        for _ in range(2):
            answer = http.post("/v1/reports", json=ORDERS)
            assert_limited(answer, limit=3)
            assert "idempotent-replayed" not in answer.headers
