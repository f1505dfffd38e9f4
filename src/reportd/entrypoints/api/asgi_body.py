"""A request body read ahead of the app, and handed to it again: for the pure ASGI middlewares
(bounds, idempotency) that must see a body before the routes do."""

from __future__ import annotations

from starlette.types import Message, Receive


async def read_body(receive: Receive, *, limit: int | None = None) -> bytes | None:
    """The whole body; None as soon as it grows past ``limit`` bytes (the rest left unread)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if limit is not None and size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the app the body already read, then the real channel."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
