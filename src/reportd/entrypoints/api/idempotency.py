"""Idempotency-Key for every POST, as a pure ASGI middleware.

It sits in front of every router (native and dialects), so a route needs nothing to be
idempotent. A request with a key is fingerprinted, its key claimed in the database, and
then either run (its answer buffered, stored, then sent) or answered from the store with
``Idempotent-Replayed: true``. The answer is stored *before* it is sent, so a client that
repeats the request right after reading the first answer is replayed, never told "in
progress". The credential is authenticated first, every time: a request whose key is
unknown or revoked goes on to the app (which answers 401 in the door's body) and is neither
remembered nor answered from the store, and nothing of an unauthenticated body is parsed.
Rules are in ``reportd.app.idempotency``; rows in ``reportd.adapters.db.idempotency``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reportd.app import idempotency as rules
from reportd.app.ports import IdempotencyRepository
from reportd.domain.errors import AuthenticationFailed, ReportdError
from reportd.domain.idempotency import IdempotencyRecord, StoredResponse
from reportd.entrypoints.api.asgi_body import read_body, replaying
from reportd.entrypoints.api.auth import authenticate as authenticate_request
from reportd.entrypoints.api.auth import key_from_headers
from reportd.entrypoints.api.errors import render

METHODS = frozenset({"POST"})


@dataclass(frozen=True, slots=True)
class _Claim:
    scope: str
    key: str


Authenticate = Callable[[Request], Awaitable[object]]


class IdempotencyMiddleware:
    """``authenticate``: the door's check of a request's credential (``auth.authenticate``),
    raising ``AuthenticationFailed``; asked before any replay or claim."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        store: IdempotencyRepository,
        authenticate: Authenticate = authenticate_request,
    ) -> None:
        self.app = app
        self.store = store
        self.authenticate = authenticate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in METHODS:
            await self.app(scope, receive, send)
            return
        key = Headers(scope=scope).get(rules.HEADER)
        credential = key_from_headers(Request(scope))
        if key is None or credential is None:  # no key, or a 401 to come: nothing to remember
            await self.app(scope, receive, send)
            return
        try:
            await self.authenticate(Request(scope))
        except AuthenticationFailed:  # the route answers the 401; nothing replayed or kept
            await self.app(scope, receive, send)
            return
        except ReportdError as exc:  # the store is away: said in the path's dialect
            await render(Request(scope), exc)(scope, receive, send)
            return
        try:
            await self._handle(scope, receive, send, key, credential)
        except ReportdError as exc:
            await render(Request(scope), exc)(scope, receive, send)  # the path's dialect

    async def _handle(
        self, scope: Scope, receive: Receive, send: Send, key: str, credential: str
    ) -> None:
        rules.check_key(key)
        body = await read_body(receive) or b""
        record = IdempotencyRecord(
            scope=rules.credential_scope(credential),
            key=key,
            method=scope["method"],
            path=_path(scope),
            request_hash=rules.fingerprint(scope["method"], _path(scope), body),
            created_at=datetime.now(UTC),
        )
        held = await run_in_threadpool(self.store.claim, record)
        if held is not None:
            await _replay(rules.replay_of(held, record.request_hash), send)
            return
        await self._run(scope, replaying(body, receive), send, _Claim(record.scope, key))

    async def _run(self, scope: Scope, receive: Receive, send: Send, claim: _Claim) -> None:
        """Run the request with the key held; store a final answer, or let the key go."""
        captured = _Captured()
        try:
            await self.app(scope, receive, captured.send)
        except BaseException:
            await run_in_threadpool(self.store.release, claim.scope, claim.key)
            raise
        response = captured.response()
        if response is not None and rules.should_store(response.status):
            await run_in_threadpool(self.store.complete, claim.scope, claim.key, response)
        else:
            await run_in_threadpool(self.store.release, claim.scope, claim.key)
        await captured.flush(send)


class _Captured:
    """The app's answer, held back until it is stored (POST answers are small)."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def send(self, message: Message) -> None:
        self.messages.append(message)

    def response(self) -> StoredResponse | None:
        start = next((m for m in self.messages if m["type"] == "http.response.start"), None)
        if start is None:
            return None
        headers = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in start.get("headers", ())]
        body = b"".join(
            m.get("body", b"") for m in self.messages if m["type"] == "http.response.body"
        )
        return StoredResponse(start["status"], rules.kept_headers(headers), body)

    async def flush(self, send: Send) -> None:
        for message in self.messages:
            await send(message)


async def _replay(response: StoredResponse, send: Send) -> None:
    headers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in response.headers]
    headers += [
        (b"content-length", str(len(response.body)).encode()),
        (rules.REPLAYED_HEADER.encode(), b"true"),
    ]
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


def _path(scope: Scope) -> str:
    query: bytes = scope.get("query_string", b"")
    path: str = scope.get("root_path", "") + scope["path"]
    return f"{path}?{query.decode('latin-1')}" if query else path
