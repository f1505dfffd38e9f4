"""Idempotency-Key rules (Stripe's semantics), free of HTTP and of the database.

A POST that carries ``Idempotency-Key`` is remembered for 24 hours under the caller's
credential: a repeat with the same method, path and body gets the first answer back
verbatim; the same key with anything else is a client bug (422), and a repeat while the
first is still running is told so (409) rather than run twice. Only answers that a retry
would reproduce are kept: 5xx, 401 and 429 are not, so a retry after them can succeed.

The HTTP middleware (``reportd.entrypoints.api.idempotency``) and the store
(``reportd.adapters.db.idempotency``) apply these rules; dialect routers get them for free.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import orjson

from reportd.domain.errors import Conflict, IdempotencyKeyReused, ValidationError
from reportd.domain.idempotency import IdempotencyRecord, StoredResponse

HEADER = "idempotency-key"
REPLAYED_HEADER = "idempotent-replayed"
MAX_KEY_LENGTH = 255
TTL = timedelta(hours=24)
# A first request that has not finished after this long is taken to be dead (its process
# crashed between claiming the key and storing the answer), so the key can be claimed again.
LOCK_TIMEOUT = timedelta(minutes=5)
PURGE_INTERVAL_SECONDS = 60.0
# Headers worth replaying; the rest (Date, Server, RateLimit-*) describe the moment, not the answer.
KEPT_HEADERS = ("content-type", "location", "content-disposition", "etag")
# 4xx answers a retry may not reproduce: a key that starts working, a window that resets.
NOT_KEPT = frozenset({401, 429})


def check_key(key: str) -> str:
    """The key as given, or a 400: an empty or overlong key cannot be stored faithfully."""
    if not key.strip():
        raise ValidationError("Idempotency-Key must not be empty")
    if len(key) > MAX_KEY_LENGTH:
        raise ValidationError(
            f"Idempotency-Key is {len(key)} characters; at most {MAX_KEY_LENGTH} are allowed",
            details={"max_length": MAX_KEY_LENGTH},
        )
    return key


def credential_scope(credential: str) -> str:
    """Keys live per credential, so two callers can never see each other's answers."""
    return hashlib.sha256(credential.encode()).hexdigest()


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests "the same": method, path with query, and the body.

    A JSON body is compared by value (key order and spacing do not matter), the way a
    client re-serialising the same parameters would expect.
    """
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), _canonical(body)):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _canonical(body: bytes) -> bytes:
    if not body:
        return b""
    try:
        return orjson.dumps(orjson.loads(body), option=orjson.OPT_SORT_KEYS)
    except (orjson.JSONDecodeError, orjson.JSONEncodeError):  # not JSON, or beyond orjson
        return body


def is_expired(record: IdempotencyRecord, now: datetime) -> bool:
    return now - record.created_at >= TTL


def is_reclaimable(record: IdempotencyRecord, now: datetime) -> bool:
    """An expired key is free again; so is one whose first request died mid-way."""
    if is_expired(record, now):
        return True
    return record.response is None and now - record.created_at >= LOCK_TIMEOUT


def replay_of(held: IdempotencyRecord, request_hash: str) -> StoredResponse:
    """The answer to give back for a request whose key ``held`` already holds.

    ``held`` is live (neither expired nor abandoned; the store frees those). A different
    request under the same key is a 422; the same one while the first still runs, a 409.
    """
    if held.request_hash != request_hash:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was already used with a different request",
            details={"method": held.method, "path": held.path},
        )
    if held.response is None:
        raise Conflict("a request with this Idempotency-Key is in progress")
    return held.response


def should_store(status: int) -> bool:
    """2xx and 4xx answers are final; 5xx (and 401, 429) are left for a retry to redo."""
    return 200 <= status < 500 and status not in NOT_KEPT


def kept_headers(headers: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple((name.lower(), value) for name, value in headers if name.lower() in KEPT_HEADERS)


def purge_before(now: datetime) -> datetime:
    return now - TTL
