"""The SDK (``Client`` and ``AsyncClient``) against a real reportd server process.

No mocks: faults (a download cut mid-file, an event stream that breaks) are injected by
an httpx transport wrapped around the real network, the interface httpx offers for it.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reportd.client import AsyncClient, Client
from reportd.domain.errors import (
    AuthenticationFailed,
    FilterSyntaxError,
    Forbidden,
    FormatInapplicable,
    ReportNotFound,
    TemplateNotFound,
    Unavailable,
    ValidationError,
)
from tests.server_fixtures import RunningServer, start_server

BIG_ORDERS = [7, 3, 1, 5, 2, 8]  # order ids with amount > 50, by amount descending


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with start_server(tmp_path_factory.mktemp("server")) as running:
        yield running


@pytest.fixture(scope="module")
def idle_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server without workers: its reports stay CREATED for as long as a test needs."""
    with start_server(tmp_path_factory.mktemp("idle"), workers=0) as running:
        yield running


@pytest.fixture
def client(server: RunningServer) -> Iterator[Client]:
    with Client(server.url, server.admin_key) as sdk:
        yield sdk


def route_csv(server: RunningServer, report_id: str) -> bytes:
    """The CSV as the download route serves it, fetched without the SDK."""
    headers = {"Authorization": f"Bearer {server.admin_key}"}
    with httpx.Client(base_url=server.url, headers=headers) as http:
        response = http.get(f"/v1/reports/{report_id}/download", params={"format": "csv"})
        response.raise_for_status()
        return response.content


def order_ids(content: bytes) -> list[int]:
    return [int(row["order_id"]) for row in csv.DictReader(io.StringIO(content.decode()))]


def csv_artifact(report: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = next(a for a in report["artifacts"] if a["format"] == "csv")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# -- fault injection over the real network ------------------------------------------------


class _CutStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, limit: int) -> None:
        self._inner, self._limit = inner, limit

    def __iter__(self) -> Iterator[bytes]:
        sent = 0
        for chunk in self._inner:
            yield chunk[: self._limit - sent]
            sent += len(chunk)
            if sent >= self._limit:
                raise httpx.ReadError("connection cut by the test")

    def close(self) -> None:
        self._inner.close()


class _ACutStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, limit: int) -> None:
        self._inner, self._limit = inner, limit

    async def __aiter__(self) -> AsyncIterator[bytes]:
        sent = 0
        async for chunk in self._inner:
            yield chunk[: self._limit - sent]
            sent += len(chunk)
            if sent >= self._limit:
                raise httpx.ReadError("connection cut by the test")

    async def aclose(self) -> None:
        await self._inner.aclose()


class Faults:
    """What to break, and a record of what was asked for."""

    def __init__(self, *, cut_download_at: int | None = None, break_events: bool = False):
        self.cut_download_at = cut_download_at
        self.break_events = break_events
        self.requests: list[httpx.Request] = []

    def before(self, request: httpx.Request) -> None:
        self.requests.append(request)
        if self.break_events and request.url.path.endswith("/events"):
            raise httpx.ReadError("event stream broken by the test", request=request)

    def cut_now(self, request: httpx.Request) -> int | None:
        """The byte to cut this response at (once), if it is to be cut."""
        limit = self.cut_download_at
        if limit is not None and request.url.path.endswith("/download"):
            self.cut_download_at = None
            return limit
        return None

    def paths(self, suffix: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.endswith(suffix)]


class FaultyTransport(httpx.BaseTransport):
    def __init__(self, faults: Faults) -> None:
        self.faults, self._inner = faults, httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.faults.before(request)
        response = self._inner.handle_request(request)
        limit = self.faults.cut_now(request)
        if limit is None:
            return response
        assert isinstance(response.stream, httpx.SyncByteStream)
        stream = _CutStream(response.stream, limit)
        return httpx.Response(response.status_code, headers=response.headers, stream=stream)

    def close(self) -> None:
        self._inner.close()


class AsyncFaultyTransport(httpx.AsyncBaseTransport):
    def __init__(self, faults: Faults) -> None:
        self.faults, self._inner = faults, httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.faults.before(request)
        response = await self._inner.handle_async_request(request)
        limit = self.faults.cut_now(request)
        if limit is None:
            return response
        assert isinstance(response.stream, httpx.AsyncByteStream)
        stream = _ACutStream(response.stream, limit)
        return httpx.Response(response.status_code, headers=response.headers, stream=stream)

    async def aclose(self) -> None:
        await self._inner.aclose()


# -- the blocking client --------------------------------------------------------------------


def test_create_wait_download(server: RunningServer, client: Client, tmp_path: Path) -> None:
    created = client.create_report(
        "orders", ["csv", "json"], filter="amount gt 50", order_by=["-amount"], name="big"
    )
    assert created["state"] == "CREATED"
    assert created["name"] == "big"
    seen: list[str] = []
    report = client.wait(created["id"], timeout=30, on_progress=lambda r: seen.append(r["state"]))
    assert report["state"] == "FINISHED"
    assert seen[-1] == "FINISHED"
    path = client.download(report["id"], tmp_path, format="csv")
    artifact = csv_artifact(report)
    assert path == tmp_path / artifact["filename"]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == artifact["sha256"]
    assert path.read_bytes() == route_csv(server, report["id"])
    assert order_ids(path.read_bytes()) == BIG_ORDERS
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left


def test_download_to_a_file_path_reports_progress(client: Client, tmp_path: Path) -> None:
    report = client.wait(client.create_report("orders", ["ndjson"])["id"], timeout=30)
    progress: list[tuple[int, int]] = []
    dest = tmp_path / "sub" / "orders.ndjson"
    path = client.download(report["id"], dest, on_progress=lambda d, t: progress.append((d, t)))
    assert path == dest
    size = report["artifacts"][0]["size"]
    assert progress[-1] == (size, size)
    assert len(path.read_text().splitlines()) == 8


def test_download_resumes_with_range(server: RunningServer, tmp_path: Path) -> None:
    faults = Faults(cut_download_at=100)
    with Client(server.url, server.admin_key, transport=FaultyTransport(faults)) as sdk:
        report = sdk.wait(sdk.create_report("orders", ["csv"])["id"], timeout=30)
        path = sdk.download(report["id"], tmp_path / "orders.csv")
    downloads = faults.paths("/download")
    assert len(downloads) == 2
    assert downloads[1].headers["range"] == "bytes=100-"
    assert downloads[1].headers["if-range"] == f'"{csv_artifact(report)["sha256"]}"'
    assert path.read_bytes() == route_csv(server, report["id"])


def test_wait_falls_back_to_polling(server: RunningServer) -> None:
    faults = Faults(break_events=True)
    with Client(server.url, server.admin_key, transport=FaultyTransport(faults)) as sdk:
        created = sdk.create_report("orders", ["csv"])
        report = sdk.wait(created["id"], timeout=30, poll_interval=0.05)
    assert report["state"] == "FINISHED"
    assert faults.paths("/events")
    assert faults.paths(f"/v1/reports/{created['id']}")


def test_wait_times_out(idle_server: RunningServer) -> None:
    with Client(idle_server.url, idle_server.admin_key) as sdk:
        created = sdk.create_report("orders", ["csv"])
        with pytest.raises(TimeoutError, match=created["id"]):
            sdk.wait(created["id"], timeout=0.5)


def test_iter_events_ends_with_the_final_state(client: Client) -> None:
    created = client.create_report("orders", ["csv"])
    states = [report["state"] for report in client.iter_events(created["id"])]
    assert states[-1] == "FINISHED"
    assert set(states) <= {"CREATED", "IN_PROGRESS", "FINISHED"}


def test_list_pages_with_cursors(server: RunningServer) -> None:
    key = server.make_key("paging-sync", name="pager")  # a tenant of its own: exact counts
    with Client(server.url, key) as sdk:
        made = {sdk.create_report("orders", ["csv"])["id"] for _ in range(5)}
        pages, cursor = [], None
        while True:
            page = sdk.list_reports(limit=2, cursor=cursor)
            assert page["total_count"] == 5
            pages.append([r["id"] for r in page["results"]])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert [len(p) for p in pages] == [2, 2, 1]
        assert {i for p in pages for i in p} == made
        assert [r["id"] for r in sdk.iter_reports(limit=2)] == [i for p in pages for i in p]
        assert {r["created_by"] for r in sdk.iter_reports(created_by="pager")} == {"pager"}
        assert list(sdk.iter_reports(template_id="slow")) == []


def test_cancel_a_queued_report(idle_server: RunningServer) -> None:
    with Client(idle_server.url, idle_server.admin_key) as sdk:
        created = sdk.create_report("orders", ["csv"])
        assert sdk.cancel(created["id"])["state"] == "CANCELED"
        report = sdk.wait(created["id"], timeout=5)
    assert report["state"] == "CANCELED"
    assert report["error"]["code"] == "canceled"


def test_cancel_a_running_report(client: Client) -> None:
    created = client.create_report("slow", ["csv"], options={"rows": 50_000_000})
    for report in client.iter_events(created["id"]):
        if report["progress"]["rows"] > 0:
            break
    assert client.cancel(created["id"])["state"] in {"IN_PROGRESS", "CANCELED"}
    assert client.wait(created["id"], timeout=10)["state"] == "CANCELED"


def test_delete(client: Client) -> None:
    report = client.wait(client.create_report("orders", ["csv"])["id"], timeout=30)
    client.delete(report["id"])
    with pytest.raises(ReportNotFound):
        client.get_report(report["id"])


def test_templates(client: Client) -> None:
    listed = client.list_templates()
    assert {t["id"] for t in listed["results"]} == {"orders", "slow"}
    assert listed["total_count"] == 2
    orders = client.get_template("orders")
    assert orders["formats"] == ["csv", "json", "ndjson"]
    with pytest.raises(TemplateNotFound):
        client.get_template("nope")


def test_download_url_is_a_working_signed_link(server: RunningServer, client: Client) -> None:
    report = client.wait(client.create_report("orders", ["csv"])["id"], timeout=30)
    link = client.download_url(report["id"], "csv")
    assert link["sha256"] == csv_artifact(report)["sha256"]
    with httpx.Client() as anonymous:
        assert anonymous.get(link["download_url"]).content == route_csv(server, report["id"])


def test_idempotency_key_gives_back_the_same_report(client: Client) -> None:
    first = client.create_report("orders", ["csv"], idempotency_key="same-request")
    again = client.create_report("orders", ["csv"], idempotency_key="same-request")
    assert again["id"] == first["id"]


# -- errors come back as the server's classes ---------------------------------------------


def test_bad_key_is_authentication_failed(server: RunningServer) -> None:
    with Client(server.url, "rk_wrong") as sdk, pytest.raises(AuthenticationFailed) as caught:
        sdk.list_reports()
    assert caught.value.code == "authentication_failed"
    assert caught.value.message == "the API key is not valid"


def test_unknown_report_is_report_not_found(client: Client) -> None:
    with pytest.raises(ReportNotFound, match="not found") as caught:
        client.get_report("no-such-report")
    assert caught.value.status == 404


@pytest.mark.parametrize("fmt", ["xlsx", "bogus"])
def test_format_inapplicable(client: Client, fmt: str) -> None:
    with pytest.raises(FormatInapplicable) as caught:
        client.create_report("orders", [fmt])
    assert isinstance(caught.value, ValidationError)
    assert fmt in caught.value.message


def test_bad_filter_keeps_its_position(client: Client) -> None:
    with pytest.raises(FilterSyntaxError) as caught:
        client.create_report("orders", ["csv"], filter="amount gt")
    error = caught.value
    assert error.details == {"position": 9, "expression": "amount gt"}
    assert error.position == 9
    assert "position 9" in error.message


def test_missing_scope_is_forbidden(server: RunningServer) -> None:
    key = server.make_key(name="reader", scopes=("reports:read",))
    with Client(server.url, key) as sdk, pytest.raises(Forbidden, match="reports:write"):
        sdk.create_report("orders", ["csv"])


def test_unreachable_server_is_unavailable() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with Client(url, "rk_x", timeout=2) as sdk, pytest.raises(Unavailable, match="cannot reach"):
        sdk.get_report("x")


# -- the asyncio client ---------------------------------------------------------------------


def test_async_create_wait_download(server: RunningServer, tmp_path: Path) -> None:
    async def scenario() -> tuple[dict[str, Any], Path]:
        async with AsyncClient(server.url, server.admin_key) as sdk:
            created = await sdk.create_report(
                "orders", ["csv"], filter="amount gt 50", order_by=["-amount"]
            )
            report = await sdk.wait(created["id"], timeout=30)
            return report, await sdk.download(report["id"], tmp_path, format="csv")

    report, path = asyncio.run(scenario())
    assert report["state"] == "FINISHED"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == csv_artifact(report)["sha256"]
    assert path.read_bytes() == route_csv(server, report["id"])
    assert order_ids(path.read_bytes()) == BIG_ORDERS


def test_async_download_resumes_and_wait_falls_back(server: RunningServer, tmp_path: Path) -> None:
    faults = Faults(cut_download_at=50, break_events=True)

    async def scenario() -> tuple[dict[str, Any], Path]:
        transport = AsyncFaultyTransport(faults)
        async with AsyncClient(server.url, server.admin_key, transport=transport) as sdk:
            report = await sdk.wait(
                (await sdk.create_report("orders", ["csv"]))["id"], timeout=30, poll_interval=0.05
            )
            return report, await sdk.download(report["id"], tmp_path / "o.csv")

    report, path = asyncio.run(scenario())
    assert report["state"] == "FINISHED"
    assert faults.paths("/download")[1].headers["range"] == "bytes=50-"
    assert path.read_bytes() == route_csv(server, report["id"])


def test_async_list_pages_with_cursors(server: RunningServer) -> None:
    key = server.make_key("paging-async", name="pager")

    async def scenario() -> tuple[set[str], list[str], dict[str, Any]]:
        async with AsyncClient(server.url, key) as sdk:
            made = {(await sdk.create_report("orders", ["csv"]))["id"] for _ in range(3)}
            listed = [r["id"] async for r in sdk.iter_reports(limit=2)]
            return made, listed, await sdk.list_reports(limit=2)

    made, listed, first_page = asyncio.run(scenario())
    assert len(listed) == 3
    assert set(listed) == made
    assert first_page["total_count"] == 3
    assert first_page["next_cursor"]


def test_async_errors_and_cancel(server: RunningServer, idle_server: RunningServer) -> None:
    async def scenario() -> dict[str, Any]:
        async with AsyncClient(server.url, "rk_wrong") as anonymous:
            with pytest.raises(AuthenticationFailed):
                await anonymous.get_report("x")
        async with AsyncClient(server.url, server.admin_key) as sdk:
            with pytest.raises(ReportNotFound):
                await sdk.get_report("no-such-report")
            with pytest.raises(FormatInapplicable):
                await sdk.create_report("orders", ["xlsx"])
            with pytest.raises(FilterSyntaxError) as caught:
                await sdk.create_report("orders", ["csv"], filter='customer eq "Ada" and')
            assert caught.value.details["position"] == len('customer eq "Ada" and')
        async with AsyncClient(idle_server.url, idle_server.admin_key) as idle:
            created = await idle.create_report("orders", ["csv"])
            await idle.cancel(created["id"])
            return await idle.wait(created["id"], timeout=5)

    assert asyncio.run(scenario())["state"] == "CANCELED"
