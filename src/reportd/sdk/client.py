"""The Python SDK over reportd's native HTTP API (``/v1``).

::

    from pathlib import Path
    from reportd.sdk.client import Client

    with Client("http://127.0.0.1:8000", "rk_...") as client:
        report = client.create_report("orders", ["csv"], filter="amount gt 50")
        client.wait(report["id"])
        path = client.download(report["id"], Path("."), format="csv")

``AsyncClient`` has the same methods as coroutines. Both sit on ``_BaseClient``, which
builds every request and maps every answer, so the two cannot disagree; only the I/O loops
are written twice (as httpx does). Resources are the server's JSON, as plain dicts.
Every error body comes back as the class of ``reportd.domain.errors`` the server raised,
with its message and details; an unreachable server is ``Unavailable``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import tempfile
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator
from contextlib import aclosing, asynccontextmanager, closing, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self
from urllib.parse import quote

import httpx

from reportd import __version__
from reportd.app.webhooks import verify as _verify_signature
from reportd.domain.errors import (
    AuthenticationFailed,
    Conflict,
    Forbidden,
    NotFound,
    RangeNotSatisfiable,
    RateLimited,
    ReportdError,
    ReportExpired,
    Unavailable,
    ValidationError,
    error_class_for,
)
from reportd.domain.states import FINAL_STATES as _FINAL_STATES

__all__ = [
    "DEFAULT_TIMEOUT",
    "FINAL_STATES",
    "AsyncClient",
    "BytesCallback",
    "ChecksumMismatch",
    "Client",
    "ReportCallback",
    "error_from_response",
    "verify_webhook",
]

DEFAULT_TIMEOUT = 30.0
DOWNLOAD_ATTEMPTS = 6  # the first try and five resumes

JSON = dict[str, Any]
ReportCallback = Callable[[JSON], None]
"""Called with the report each time its state or progress changes."""
BytesCallback = Callable[[int, int], None]
"""Called with (bytes so far, total bytes) while a file downloads."""
FINAL_STATES: frozenset[str] = frozenset(state.value for state in _FINAL_STATES)
"""The states a report does not leave (``wait`` returns on any of them)."""

# When a body carries no code we know, its status still says what kind of error it is.
_BY_STATUS: dict[int, type[ReportdError]] = {
    400: ValidationError,
    401: AuthenticationFailed,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: ReportExpired,
    416: RangeNotSatisfiable,
    422: ValidationError,
    429: RateLimited,
    502: Unavailable,
    503: Unavailable,
    504: Unavailable,
}
_DETAIL_ATTRIBUTES = ("position", "expression", "retry_after")


class ChecksumMismatch(ReportdError):
    """The downloaded file's sha256 differs from the report's artifact."""

    code = "checksum_mismatch"
    status = 502


# -- errors ---------------------------------------------------------------------------------


def error_from_response(response: httpx.Response) -> ReportdError:
    """The domain error an error response stands for (its body must have been read)."""
    code, message, details = _error_fields(response)
    cls = error_class_for(code) if code else ReportdError
    if cls is ReportdError and code != ReportdError.code:
        cls = _BY_STATUS.get(response.status_code, ReportdError)
    # Not cls(...): some classes take other arguments; the wire already has the message.
    error = cls.__new__(cls)
    ReportdError.__init__(error, message or None, details=details)
    if code and code != cls.code:
        object.__setattr__(error, "code", code)  # keep a code this SDK does not know yet
    if isinstance(details, dict):
        for name in _DETAIL_ATTRIBUTES:
            if name in details:
                setattr(error, name, details[name])
    return error


def _error_fields(response: httpx.Response) -> tuple[str | None, str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        return error["code"], str(error.get("message") or ""), error.get("details")
    text = response.text.strip()[:200]
    return None, f"HTTP {response.status_code} from {response.request.url}: {text}", None


def verify_webhook(payload: bytes | str, header: str, secret: str, *, tolerance: int = 300) -> JSON:
    """The event body (the report) of a webhook whose ``Reportd-Signature`` checks out.

    Pass the raw request body as received (not re-serialized JSON), the header's value and
    the subscription's ``whsec_...`` secret. Raises ``InvalidSignature`` for a wrong or
    missing signature, or a timestamp more than ``tolerance`` seconds from now (a replay).
    """
    _verify_signature(payload, header, secret, tolerance)
    try:
        body = json.loads(payload)
    except ValueError as exc:
        raise ValidationError("the webhook body is not JSON") from exc
    if not isinstance(body, dict):
        raise ValidationError("the webhook body is not a JSON object")
    return body


def _unreachable(base_url: str, exc: httpx.TransportError) -> Unavailable:
    reason = str(exc) or type(exc).__name__
    return Unavailable(f"cannot reach reportd at {base_url}: {reason}", details={"reason": reason})


# -- what both clients share ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Call:
    """One request, before a sync or async transport sends it."""

    method: str
    path: str
    params: dict[str, Any] | None = None
    json: JSON | None = None
    headers: dict[str, str] | None = None


class _EventDecoder:
    """Server-sent events, line by line, to the reports of ``event: report`` messages."""

    def __init__(self) -> None:
        self._event = ""
        self._data: list[str] = []

    def feed(self, line: str) -> JSON | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        return None

    def _dispatch(self) -> JSON | None:
        event, data = self._event or "message", "\n".join(self._data)
        self._event, self._data = "", []
        if event != "report" or not data:
            return None
        report: JSON = json.loads(data)
        return report


class _Waiter:
    """The deadline and progress reporting of ``wait``, for both clients."""

    def __init__(self, report_id: str, timeout: float | None, on_progress: ReportCallback | None):
        self.report_id = report_id
        self.timeout = timeout
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self._on_progress = on_progress
        self._last: tuple[Any, ...] | None = None

    def remaining(self) -> float | None:
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())

    def see(self, report: JSON) -> bool:
        """Report a change to the callback; True once the report is final."""
        progress = report.get("progress") or {}
        snapshot = (report.get("state"), progress.get("rows"), progress.get("total_rows"))
        if snapshot != self._last and self._on_progress is not None:
            self._on_progress(report)
        self._last = snapshot
        return report.get("state") in FINAL_STATES

    def check(self) -> None:
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise TimeoutError(f"report {self.report_id} not final after {self.timeout}s")

    def pause(self, poll_interval: float) -> float:
        left = self.remaining()
        return poll_interval if left is None else min(poll_interval, left)


@dataclass
class _Download:
    """One file on its way to ``target``: a temp file beside it, resumed with ``Range``."""

    call: _Call
    target: Path
    temp: Path
    sha256: str
    size: int
    done: int = 0
    hasher: Any = field(default_factory=hashlib.sha256)

    @classmethod
    def start(cls, call: _Call, dest: Path, link: JSON) -> _Download:
        filename = Path(str(link["filename"])).name  # never a path from the server
        target = dest / filename if dest.is_dir() else dest
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".part"
        )
        os.close(handle)
        os.chmod(temp, 0o644)  # mkstemp makes it private; a downloaded report is an ordinary file
        return cls(call, target, Path(temp), str(link["sha256"]), int(link["file_size"]))

    def request(self) -> _Call:
        """The next request: from where the last one broke off, if anywhere."""
        if not self.done:
            return self.call
        headers = {"Range": f"bytes={self.done}-", "If-Range": f'"{self.sha256}"'}
        return replace(self.call, headers=headers)

    def open(self, response: httpx.Response) -> IO[bytes]:
        """Append on a matching 206; anything else is the whole file again."""
        content_range = response.headers.get("content-range", "")
        if response.status_code == 206 and content_range.startswith(f"bytes {self.done}-"):
            return self.temp.open("ab")
        self.done, self.hasher = 0, hashlib.sha256()
        return self.temp.open("wb")

    def write(self, handle: IO[bytes], chunk: bytes) -> None:
        handle.write(chunk)
        self.hasher.update(chunk)
        self.done += len(chunk)

    def finish(self) -> Path:
        digest = self.hasher.hexdigest()
        if digest != self.sha256:
            raise ChecksumMismatch(
                f"{self.target.name}: sha256 {digest} != {self.sha256}",
                details={"expected": self.sha256, "actual": digest, "bytes": self.done},
            )
        self.temp.replace(self.target)
        return self.target

    def discard(self) -> None:
        self.temp.unlink(missing_ok=True)


def _report_path(report_id: str, suffix: str = "") -> str:
    return f"/v1/reports/{quote(report_id, safe='')}{suffix}"


def _webhook_path(webhook_id: str, suffix: str = "") -> str:
    return f"/v1/webhooks/{quote(webhook_id, safe='')}{suffix}"


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


class _BaseClient:
    """Request building and answer mapping, shared by ``Client`` and ``AsyncClient``."""

    def __init__(self, base_url: str, api_key: str, *, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "Accept": "application/json",
            "User-Agent": f"reportd-python/{__version__}",
        }

    @staticmethod
    def _create_call(
        template_id: str, formats: list[str], idempotency_key: str | None, body: JSON
    ) -> _Call:
        payload = _without_none({"template_id": template_id, "formats": list(formats), **body})
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return _Call("POST", "/v1/reports", json=payload, headers=headers)

    @staticmethod
    def _list_call(filters: dict[str, Any]) -> _Call:
        return _Call("GET", "/v1/reports", params=_without_none(filters))

    @staticmethod
    def _file_params(fmt: str | None, part: int | None) -> dict[str, Any]:
        return _without_none({"format": fmt, "part": part})

    def _stream_timeout(self, read_timeout: float | None) -> httpx.Timeout:
        return httpx.Timeout(self.timeout, read=read_timeout)

    def _checked(self, response: httpx.Response) -> httpx.Response:
        if response.is_error:
            raise error_from_response(response)
        return response

    @staticmethod
    def _json(response: httpx.Response) -> JSON:
        body: JSON = response.json()
        return body


# -- the blocking client --------------------------------------------------------------------


class Client(_BaseClient):
    """A blocking client; use it as a context manager so its connections are closed."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(base_url, api_key, timeout=timeout)
        self._http = httpx.Client(
            base_url=self.base_url, headers=self._headers, timeout=timeout, transport=transport
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _send(self, call: _Call) -> httpx.Response:
        try:
            response = self._http.request(
                call.method, call.path, params=call.params, json=call.json, headers=call.headers
            )
        except httpx.TransportError as exc:
            raise _unreachable(self.base_url, exc) from exc
        return self._checked(response)

    @contextmanager
    def _stream(self, call: _Call, read_timeout: float | None) -> Iterator[httpx.Response]:
        """A streamed response, checked; broken connections become ``Unavailable``."""
        request = self._http.build_request(
            call.method,
            call.path,
            params=call.params,
            headers=call.headers,
            timeout=self._stream_timeout(read_timeout),
        )
        try:
            response = self._http.send(request, stream=True)
            try:
                if response.is_error:
                    response.read()
                yield self._checked(response)
            finally:
                response.close()
        except httpx.TransportError as exc:
            raise _unreachable(self.base_url, exc) from exc

    # reports

    def create_report(
        self,
        template_id: str,
        formats: list[str],
        *,
        name: str | None = None,
        options: JSON | None = None,
        fields: list[str] | None = None,
        filter: str | None = None,
        order_by: list[str] | None = None,
        packaging: str | None = None,
        zip_password: bool | str | None = None,
        storage_id: str | None = None,
        expires_in: int | None = None,
        callback_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> JSON:
        """Ask for a report; it is generated in the background (see ``wait``)."""
        body = {
            "name": name,
            "options": options,
            "fields": fields,
            "filter": filter,
            "order_by": order_by,
            "packaging": packaging,
            "zip_password": zip_password,
            "storage_id": storage_id,
            "expires_in": expires_in,
            "callback_url": callback_url,
        }
        return self._json(
            self._send(self._create_call(template_id, formats, idempotency_key, body))
        )

    def get_report(self, report_id: str) -> JSON:
        return self._json(self._send(_Call("GET", _report_path(report_id))))

    def list_reports(
        self,
        *,
        state: str | None = None,
        template_id: str | None = None,
        schedule_id: str | None = None,
        created_by: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> JSON:
        """One page: ``{results, total_count, next_cursor}``."""
        filters = {
            "state": state,
            "template_id": template_id,
            "schedule_id": schedule_id,
            "created_by": created_by,
            "limit": limit,
            "cursor": cursor,
        }
        return self._json(self._send(self._list_call(filters)))

    def iter_reports(
        self,
        *,
        state: str | None = None,
        template_id: str | None = None,
        schedule_id: str | None = None,
        created_by: str | None = None,
        limit: int | None = None,
    ) -> Iterator[JSON]:
        """Every matching report, page after page (``limit`` is the page size)."""
        cursor: str | None = None
        while True:
            page = self.list_reports(
                state=state,
                template_id=template_id,
                schedule_id=schedule_id,
                created_by=created_by,
                limit=limit,
                cursor=cursor,
            )
            yield from page["results"]
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def cancel(self, report_id: str) -> JSON:
        return self._json(self._send(_Call("POST", _report_path(report_id, "/cancel"))))

    def delete(self, report_id: str) -> None:
        self._send(_Call("DELETE", _report_path(report_id)))

    # templates

    def list_templates(self) -> JSON:
        """``{results, total_count}``."""
        return self._json(self._send(_Call("GET", "/v1/templates")))

    def get_template(self, template_id: str) -> JSON:
        path = f"/v1/templates/{quote(template_id, safe='')}"
        return self._json(self._send(_Call("GET", path)))

    # webhooks

    def create_webhook(self, url: str, events: list[str]) -> JSON:
        """Subscribe ``url`` to ``events``; the answer's ``secret`` is shown only this once."""
        call = _Call("POST", "/v1/webhooks", json={"url": url, "events": list(events)})
        return self._json(self._send(call))

    def list_webhooks(self) -> JSON:
        """``{results, total_count}``."""
        return self._json(self._send(_Call("GET", "/v1/webhooks")))

    def get_webhook(self, webhook_id: str) -> JSON:
        return self._json(self._send(_Call("GET", _webhook_path(webhook_id))))

    def delete_webhook(self, webhook_id: str) -> None:
        self._send(_Call("DELETE", _webhook_path(webhook_id)))

    def webhook_deliveries(
        self, webhook_id: str, *, limit: int | None = None, offset: int | None = None
    ) -> JSON:
        """The delivery log, newest first: ``{results, total_count}``."""
        params = _without_none({"limit": limit, "offset": offset})
        call = _Call("GET", _webhook_path(webhook_id, "/deliveries"), params)
        return self._json(self._send(call))

    def callback_secret(self) -> str:
        """The secret ``callback_url`` deliveries of this tenant are signed with."""
        body = self._json(self._send(_Call("GET", "/v1/webhooks/callback_secret")))
        return str(body["secret"])

    # files

    def download_url(
        self, report_id: str, format: str | None = None, part: int | None = None
    ) -> JSON:
        """A signed link that needs no credential: ``{download_url, expires_at, filename, ...}``."""
        call = _Call(
            "GET", _report_path(report_id, "/download_url"), self._file_params(format, part)
        )
        return self._json(self._send(call))

    def download(
        self,
        report_id: str,
        dest: Path,
        *,
        format: str | None = None,
        part: int | None = None,
        on_progress: BytesCallback | None = None,
    ) -> Path:
        """Fetch one artifact into ``dest`` (a file, or a directory to use the server's name).

        The bytes go to a temp file beside it, resume with ``Range`` if the connection
        breaks, and are renamed into place only once their sha256 matches the artifact's.
        """
        params = self._file_params(format, part)
        link = self.download_url(report_id, format, part)
        call = _Call("GET", _report_path(report_id, "/download"), params)
        state = _Download.start(call, Path(dest), link)
        try:
            self._fetch(state, on_progress)
            return state.finish()
        finally:
            state.discard()

    def _fetch(self, state: _Download, on_progress: BytesCallback | None) -> None:
        for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
            try:
                self._fetch_once(state, on_progress)
                return
            except Unavailable:
                if attempt == DOWNLOAD_ATTEMPTS:
                    raise

    def _fetch_once(self, state: _Download, on_progress: BytesCallback | None) -> None:
        with self._stream(state.request(), self.timeout) as response, state.open(response) as out:
            for chunk in response.iter_bytes():
                state.write(out, chunk)
                if on_progress is not None:
                    on_progress(state.done, state.size)

    # progress

    def iter_events(
        self, report_id: str, *, read_timeout: float | None = None
    ) -> Generator[JSON, None, None]:
        """The report at each change of state or progress, until it is final.

        ``read_timeout``: how long to wait for the next event (None: as long as it takes).
        """
        decoder = _EventDecoder()
        call = _Call(
            "GET", _report_path(report_id, "/events"), headers={"Accept": "text/event-stream"}
        )
        with self._stream(call, read_timeout) as response:
            for line in response.iter_lines():
                report = decoder.feed(line)
                if report is not None:
                    yield report

    def wait(
        self,
        report_id: str,
        *,
        timeout: float | None = None,
        poll_interval: float = 0.5,
        on_progress: ReportCallback | None = None,
    ) -> JSON:
        """The report once final (whatever the outcome); ``TimeoutError`` after ``timeout``.

        Follows the event stream, and polls instead if the stream breaks.
        """
        waiter = _Waiter(report_id, timeout, on_progress)
        final = self._wait_streaming(report_id, waiter)
        if final is not None:
            return final
        return self._wait_polling(report_id, waiter, poll_interval)

    def _wait_streaming(self, report_id: str, waiter: _Waiter) -> JSON | None:
        """The final report from the stream, or None if the stream ended or broke first."""
        waiter.check()
        try:
            with closing(self.iter_events(report_id, read_timeout=waiter.remaining())) as events:
                for report in events:
                    if waiter.see(report):
                        return report
                    waiter.check()
        except ReportdError as exc:
            if exc.status < 500:
                raise
        return None

    def _wait_polling(self, report_id: str, waiter: _Waiter, poll_interval: float) -> JSON:
        while True:
            waiter.check()
            report = self.get_report(report_id)
            if waiter.see(report):
                return report
            time.sleep(waiter.pause(poll_interval))


# -- the asyncio client ---------------------------------------------------------------------


class AsyncClient(_BaseClient):
    """The same API as ``Client``, as coroutines; use it with ``async with``."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(base_url, api_key, timeout=timeout)
        self._http = httpx.AsyncClient(
            base_url=self.base_url, headers=self._headers, timeout=timeout, transport=transport
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _send(self, call: _Call) -> httpx.Response:
        try:
            response = await self._http.request(
                call.method, call.path, params=call.params, json=call.json, headers=call.headers
            )
        except httpx.TransportError as exc:
            raise _unreachable(self.base_url, exc) from exc
        return self._checked(response)

    @asynccontextmanager
    async def _stream(
        self, call: _Call, read_timeout: float | None
    ) -> AsyncIterator[httpx.Response]:
        request = self._http.build_request(
            call.method,
            call.path,
            params=call.params,
            headers=call.headers,
            timeout=self._stream_timeout(read_timeout),
        )
        try:
            response = await self._http.send(request, stream=True)
            try:
                if response.is_error:
                    await response.aread()
                yield self._checked(response)
            finally:
                await response.aclose()
        except httpx.TransportError as exc:
            raise _unreachable(self.base_url, exc) from exc

    # reports

    async def create_report(
        self,
        template_id: str,
        formats: list[str],
        *,
        name: str | None = None,
        options: JSON | None = None,
        fields: list[str] | None = None,
        filter: str | None = None,
        order_by: list[str] | None = None,
        packaging: str | None = None,
        zip_password: bool | str | None = None,
        storage_id: str | None = None,
        expires_in: int | None = None,
        callback_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> JSON:
        body = {
            "name": name,
            "options": options,
            "fields": fields,
            "filter": filter,
            "order_by": order_by,
            "packaging": packaging,
            "zip_password": zip_password,
            "storage_id": storage_id,
            "expires_in": expires_in,
            "callback_url": callback_url,
        }
        call = self._create_call(template_id, formats, idempotency_key, body)
        return self._json(await self._send(call))

    async def get_report(self, report_id: str) -> JSON:
        return self._json(await self._send(_Call("GET", _report_path(report_id))))

    async def list_reports(
        self,
        *,
        state: str | None = None,
        template_id: str | None = None,
        schedule_id: str | None = None,
        created_by: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> JSON:
        filters = {
            "state": state,
            "template_id": template_id,
            "schedule_id": schedule_id,
            "created_by": created_by,
            "limit": limit,
            "cursor": cursor,
        }
        return self._json(await self._send(self._list_call(filters)))

    async def iter_reports(
        self,
        *,
        state: str | None = None,
        template_id: str | None = None,
        schedule_id: str | None = None,
        created_by: str | None = None,
        limit: int | None = None,
    ) -> AsyncGenerator[JSON, None]:
        cursor: str | None = None
        while True:
            page = await self.list_reports(
                state=state,
                template_id=template_id,
                schedule_id=schedule_id,
                created_by=created_by,
                limit=limit,
                cursor=cursor,
            )
            for report in page["results"]:
                yield report
            cursor = page.get("next_cursor")
            if not cursor:
                return

    async def cancel(self, report_id: str) -> JSON:
        return self._json(await self._send(_Call("POST", _report_path(report_id, "/cancel"))))

    async def delete(self, report_id: str) -> None:
        await self._send(_Call("DELETE", _report_path(report_id)))

    # templates

    async def list_templates(self) -> JSON:
        return self._json(await self._send(_Call("GET", "/v1/templates")))

    async def get_template(self, template_id: str) -> JSON:
        path = f"/v1/templates/{quote(template_id, safe='')}"
        return self._json(await self._send(_Call("GET", path)))

    # webhooks

    async def create_webhook(self, url: str, events: list[str]) -> JSON:
        call = _Call("POST", "/v1/webhooks", json={"url": url, "events": list(events)})
        return self._json(await self._send(call))

    async def list_webhooks(self) -> JSON:
        return self._json(await self._send(_Call("GET", "/v1/webhooks")))

    async def get_webhook(self, webhook_id: str) -> JSON:
        return self._json(await self._send(_Call("GET", _webhook_path(webhook_id))))

    async def delete_webhook(self, webhook_id: str) -> None:
        await self._send(_Call("DELETE", _webhook_path(webhook_id)))

    async def webhook_deliveries(
        self, webhook_id: str, *, limit: int | None = None, offset: int | None = None
    ) -> JSON:
        params = _without_none({"limit": limit, "offset": offset})
        call = _Call("GET", _webhook_path(webhook_id, "/deliveries"), params)
        return self._json(await self._send(call))

    async def callback_secret(self) -> str:
        body = self._json(await self._send(_Call("GET", "/v1/webhooks/callback_secret")))
        return str(body["secret"])

    # files

    async def download_url(
        self,
        report_id: str,
        format: str | None = None,
        part: int | None = None,
    ) -> JSON:
        call = _Call(
            "GET", _report_path(report_id, "/download_url"), self._file_params(format, part)
        )
        return self._json(await self._send(call))

    async def download(
        self,
        report_id: str,
        dest: Path,
        *,
        format: str | None = None,
        part: int | None = None,
        on_progress: BytesCallback | None = None,
    ) -> Path:
        params = self._file_params(format, part)
        link = await self.download_url(report_id, format, part)
        call = _Call("GET", _report_path(report_id, "/download"), params)
        state = _Download.start(call, Path(dest), link)
        try:
            await self._fetch(state, on_progress)
            return state.finish()
        finally:
            state.discard()

    async def _fetch(self, state: _Download, on_progress: BytesCallback | None) -> None:
        for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
            try:
                await self._fetch_once(state, on_progress)
                return
            except Unavailable:
                if attempt == DOWNLOAD_ATTEMPTS:
                    raise

    async def _fetch_once(self, state: _Download, on_progress: BytesCallback | None) -> None:
        async with self._stream(state.request(), self.timeout) as response:
            with state.open(response) as out:
                async for chunk in response.aiter_bytes():
                    state.write(out, chunk)
                    if on_progress is not None:
                        on_progress(state.done, state.size)

    # progress

    async def iter_events(
        self, report_id: str, *, read_timeout: float | None = None
    ) -> AsyncGenerator[JSON, None]:
        decoder = _EventDecoder()
        call = _Call(
            "GET", _report_path(report_id, "/events"), headers={"Accept": "text/event-stream"}
        )
        async with self._stream(call, read_timeout) as response:
            async for line in response.aiter_lines():
                report = decoder.feed(line)
                if report is not None:
                    yield report

    async def wait(
        self,
        report_id: str,
        *,
        timeout: float | None = None,
        poll_interval: float = 0.5,
        on_progress: ReportCallback | None = None,
    ) -> JSON:
        waiter = _Waiter(report_id, timeout, on_progress)
        final = await self._wait_streaming(report_id, waiter)
        if final is not None:
            return final
        return await self._wait_polling(report_id, waiter, poll_interval)

    async def _wait_streaming(self, report_id: str, waiter: _Waiter) -> JSON | None:
        waiter.check()
        try:
            events = self.iter_events(report_id, read_timeout=waiter.remaining())
            async with aclosing(events):
                async for report in events:
                    if waiter.see(report):
                        return report
                    waiter.check()
        except ReportdError as exc:
            if exc.status < 500:
                raise
        return None

    async def _wait_polling(self, report_id: str, waiter: _Waiter, poll_interval: float) -> JSON:
        while True:
            waiter.check()
            report = await self.get_report(report_id)
            if waiter.see(report):
                return report
            await asyncio.sleep(waiter.pause(poll_interval))
