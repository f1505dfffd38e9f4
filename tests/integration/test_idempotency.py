"""Idempotency-Key end to end: a real server on SQLite and PostgreSQL, the store on both
databases, and the middleware around small inline apps for what the report routes never do
(answer 5xx, crash, or take their time)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reportd.adapters.db import Store
from reportd.adapters.db.idempotency import IdempotencyStore
from reportd.app import idempotency as rules
from reportd.domain.errors import AuthenticationFailed
from reportd.entrypoints.api.idempotency import IdempotencyMiddleware
from tests.server_fixtures import RunningServer

ORDERS = {"template_id": "orders", "formats": ["csv"]}


def client_for(server: RunningServer, key: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key}"}
    return httpx.Client(base_url=server.url, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def caller(backend_server: RunningServer) -> Iterator[httpx.Client]:
    """A key of its own, so counting reports by ``created_by`` counts this module's only."""
    with client_for(backend_server, backend_server.make_key(name="idem-caller")) as http:
        yield http


def post(http: httpx.Client, key: str, body: dict[str, Any] | None = None) -> httpx.Response:
    return http.post("/v1/reports", json=body or ORDERS, headers={"Idempotency-Key": key})


def reports_by(http: httpx.Client, name: str) -> list[dict[str, Any]]:
    listed = http.get("/v1/reports", params={"created_by": name, "limit": 1000})
    assert listed.status_code == 200, listed.text
    results: list[dict[str, Any]] = listed.json()["results"]
    return results


# -- through the real server ----------------------------------------------------------------


def test_repeat_replays_the_first_answer_and_creates_nothing(caller: httpx.Client) -> None:
    before = len(reports_by(caller, "idem-caller"))
    first = post(caller, "replay-1")
    again = post(caller, "replay-1")
    assert first.status_code == again.status_code == 202, first.text
    assert again.json()["id"] == first.json()["id"]
    assert again.content == first.content
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert len(reports_by(caller, "idem-caller")) == before + 1


def test_json_with_other_key_order_is_the_same_request(caller: httpx.Client) -> None:
    first = caller.post(
        "/v1/reports",
        content=b'{"template_id": "orders", "formats": ["csv"]}',
        headers={"Idempotency-Key": "order-1", "Content-Type": "application/json"},
    )
    again = caller.post(
        "/v1/reports",
        content=b'{"formats":["csv"],"template_id":"orders"}',
        headers={"Idempotency-Key": "order-1", "Content-Type": "application/json"},
    )
    assert again.status_code == 202
    assert again.json()["id"] == first.json()["id"]


def test_same_key_with_another_body_is_422(caller: httpx.Client) -> None:
    assert post(caller, "reuse-1").status_code == 202
    other = post(caller, "reuse-1", {"template_id": "orders", "formats": ["json"]})
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"


def test_same_key_on_another_path_is_422(caller: httpx.Client) -> None:
    first = post(caller, "reuse-path")
    assert first.status_code == 202
    report_id = first.json()["id"]
    cancel = caller.post(
        f"/v1/reports/{report_id}/cancel", json=ORDERS, headers={"Idempotency-Key": "reuse-path"}
    )
    assert cancel.status_code == 422
    assert cancel.json()["error"]["code"] == "idempotency_key_reused"


def test_another_credential_with_the_same_key_is_another_request(
    backend_server: RunningServer, caller: httpx.Client
) -> None:
    first = post(caller, "shared-key")
    with client_for(backend_server, backend_server.make_key(name="idem-other")) as other:
        second = post(other, "shared-key")
        assert second.status_code == 202
        assert "idempotent-replayed" not in second.headers
        assert second.json()["id"] != first.json()["id"]
        assert len(reports_by(other, "idem-other")) == 1


def test_concurrent_duplicates_make_one_report(backend_server: RunningServer) -> None:
    key = backend_server.make_key(name="idem-race")
    barrier = threading.Barrier(8)

    def fire(_: int) -> httpx.Response:
        with client_for(backend_server, key) as http:
            barrier.wait()
            return post(http, "race-1")

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(fire, range(8)))
    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) <= {202, 409}, [a.text for a in answers]
    assert 202 in statuses
    assert len({a.json()["id"] for a in answers if a.status_code == 202}) == 1
    for conflict in (a for a in answers if a.status_code == 409):
        assert conflict.json()["error"] == {
            "code": "conflict",
            "message": "a request with this Idempotency-Key is in progress",
        }
    with client_for(backend_server, key) as http:
        assert len(reports_by(http, "idem-race")) == 1


def test_an_overlong_key_is_a_validation_error(caller: httpx.Client) -> None:
    answer = post(caller, "k" * 256)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "validation_error"
    assert post(caller, "k" * 255).status_code == 202


def test_a_4xx_answer_is_replayed_too(caller: httpx.Client) -> None:
    body = {"template_id": "no-such-template", "formats": ["csv"]}
    first = post(caller, "four-oh-four", body)
    again = post(caller, "four-oh-four", body)
    assert first.status_code == again.status_code == 404
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"


def test_without_a_credential_the_key_is_not_used(backend_server: RunningServer) -> None:
    with httpx.Client(base_url=backend_server.url, timeout=30) as anonymous:
        first = post(anonymous, "anon")
        again = post(anonymous, "anon")
    assert first.status_code == again.status_code == 401
    assert "idempotent-replayed" not in again.headers


# -- the store on both databases --------------------------------------------------------------


@pytest.fixture
def store(database_url: str) -> Iterator[IdempotencyStore]:
    metadata = Store.connect(database_url)
    metadata.migrate()
    try:
        yield IdempotencyStore(metadata.engine)
    finally:
        metadata.close()


def record(key: str, *, body: bytes = b"{}", at: datetime | None = None) -> rules.IdempotencyRecord:
    return rules.IdempotencyRecord(
        scope=rules.credential_scope("rk_store"),
        key=key,
        method="POST",
        path="/v1/reports",
        request_hash=rules.fingerprint("POST", "/v1/reports", body),
        created_at=at or datetime.now(UTC),
    )


def test_only_one_of_many_concurrent_claims_wins(store: IdempotencyStore) -> None:
    with ThreadPoolExecutor(8) as pool:
        held = list(pool.map(lambda _: store.claim(record("race")), range(8)))
    assert held.count(None) == 1
    assert all(h is not None and h.response is None for h in held if h is not None)


def test_completed_answer_is_kept_byte_for_byte(store: IdempotencyStore) -> None:
    assert store.claim(record("done")) is None
    answer = rules.StoredResponse(201, (("location", "/x"),), b"\x00\xffbody")
    store.complete(rules.credential_scope("rk_store"), "done", answer)
    held = store.claim(record("done"))
    assert held is not None
    assert held.response == answer


def test_expired_keys_are_reclaimed_and_purged(store: IdempotencyStore) -> None:
    old = datetime.now(UTC) - timedelta(hours=25)
    assert store.claim(record("old", at=old)) is None
    store.complete(rules.credential_scope("rk_store"), "old", rules.StoredResponse(202, (), b""))
    assert store.claim(record("old", body=b"other")) is None  # expired: a new first request
    assert store.claim(record("older", at=old)) is None
    assert store.purge() == 1
    assert store.get(rules.credential_scope("rk_store"), "older") is None
    assert store.get(rules.credential_scope("rk_store"), "old") is not None


def test_an_abandoned_claim_is_taken_over(store: IdempotencyStore) -> None:
    stale = datetime.now(UTC) - rules.LOCK_TIMEOUT - timedelta(seconds=1)
    assert store.claim(record("stale", at=stale)) is None
    assert store.claim(record("stale")) is None


# -- the middleware around inline apps ------------------------------------------------------


class Flaky:
    """Fails (500, or a crash) on its first calls, then succeeds, counting every run."""

    def __init__(self, failures: int, *, crash: bool = False) -> None:
        self.failures = failures
        self.crash = crash
        self.runs = 0

    async def handle(self, request: Request) -> Response:
        self.runs += 1
        if self.runs <= self.failures:
            if self.crash:
                raise RuntimeError("boom")
            return JSONResponse({"error": "storage down"}, status_code=503)
        return JSONResponse({"run": self.runs}, status_code=201)


async def _known(request: Request) -> None:
    """The inline app's only credential (the middleware authenticates before it replays)."""
    if request.headers.get("authorization") != "Bearer rk_inline":
        raise AuthenticationFailed()


def inline(store: IdempotencyStore, endpoint: Any) -> httpx.AsyncClient:
    app = Starlette(routes=[Route("/things", endpoint, methods=["POST"])])
    wrapped = IdempotencyMiddleware(app, store=store, authenticate=_known)
    transport = httpx.ASGITransport(app=wrapped, raise_app_exceptions=False)
    headers = {"Authorization": "Bearer rk_inline", "Idempotency-Key": "k"}
    return httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers)


async def twice(store: IdempotencyStore, endpoint: Any) -> list[httpx.Response]:
    async with inline(store, endpoint) as http:
        return [await http.post("/things", json={"a": 1}) for _ in range(2)]


def test_a_5xx_answer_is_not_kept_so_the_retry_runs(store: IdempotencyStore) -> None:
    flaky = Flaky(failures=1)
    first, retry = asyncio.run(twice(store, flaky.handle))
    assert (first.status_code, retry.status_code) == (503, 201)
    assert flaky.runs == 2
    assert "idempotent-replayed" not in retry.headers
    replay = asyncio.run(twice(store, flaky.handle))
    assert [r.json() for r in replay] == [{"run": 2}, {"run": 2}]
    assert flaky.runs == 2


def test_a_crash_lets_the_key_go(store: IdempotencyStore) -> None:
    flaky = Flaky(failures=1, crash=True)
    first, retry = asyncio.run(twice(store, flaky.handle))
    assert (first.status_code, retry.status_code) == (500, 201)
    assert flaky.runs == 2


def test_a_repeat_while_the_first_runs_is_409(store: IdempotencyStore) -> None:
    async def scenario() -> tuple[httpx.Response, httpx.Response]:
        gate = asyncio.Event()
        entered = asyncio.Event()

        async def slow(request: Request) -> Response:
            entered.set()
            await gate.wait()
            return JSONResponse({"ok": True}, status_code=201)

        async with inline(store, slow) as http:
            first = asyncio.ensure_future(http.post("/things", json={"a": 1}))
            await entered.wait()
            second = await http.post("/things", json={"a": 1})
            gate.set()
            return await first, second

    first, second = asyncio.run(scenario())
    assert first.status_code == 201
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "conflict"
