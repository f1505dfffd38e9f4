"""Issue 11, failure 6: revoking a key cuts what it already has open, on SQLite and PostgreSQL.

An SSE stream opened before the revocation kept streaming until its report ended (a report
of a billion rows: hours). Now the stream checks its key again every few seconds and ends
with an ``error`` event (``authentication_failed``). ``GIVE_UP`` only bounds a test that
would otherwise hang until the report ends (it did, before the fix); the stream is expected
to end within ``AUTH_RECHECK_SECONDS`` of the revocation.
"""

from __future__ import annotations

import json
import time

import httpx

from tests.integration.test_reports_api import create

GIVE_UP = 60.0  # seconds of streaming after the revocation


def test_an_open_event_stream_ends_when_its_key_is_revoked(api: httpx.Client) -> None:
    made = api.post("/v1/keys", json={"name": "streamer", "scopes": ["reports:read"]})
    assert made.status_code == 201, made.text
    key = made.json()
    report = create(api, template_id="slow", formats=["csv"], options={"rows": 10**9})
    headers = {"Authorization": f"Bearer {key['secret']}"}
    events: list[tuple[str, dict[str, object]]] = []
    try:
        with httpx.Client(base_url=str(api.base_url), headers=headers, timeout=60) as viewer:
            with viewer.stream("GET", f"/v1/reports/{report['id']}/events") as stream:
                assert stream.status_code == 200
                kind, revoked_at = "message", None
                for line in stream.iter_lines():
                    if revoked_at is not None and time.monotonic() - revoked_at > GIVE_UP:
                        break
                    if line.startswith("event: "):
                        kind = line[7:]
                    elif line.startswith("data: "):
                        events.append((kind, json.loads(line[6:])))
                        if len(events) == 1:  # streaming: now revoke the key
                            revoked = api.post(f"/v1/keys/{key['id']}/revoke")
                            assert revoked.status_code == 204, revoked.text
                            revoked_at = time.monotonic()
            # The key opens nothing new either.
            assert viewer.get(f"/v1/reports/{report['id']}").status_code == 401
    finally:
        api.post(f"/v1/reports/{report['id']}/cancel")
    assert events[0][0] == "report"
    kind, body = events[-1]
    assert kind == "error"
    assert body == {
        "error": {"code": "authentication_failed", "message": "the API key is not valid"}
    }
    # The stream ended on the revocation, not on the report's end.
    assert all(e[1].get("state") not in ("FINISHED", "CANCELED") for e in events[:-1])


def test_an_idempotent_replay_to_a_revoked_key_is_refused(api: httpx.Client) -> None:
    """The stored response of an Idempotency-Key was replayed to a revoked key for 24 h."""
    made = api.post("/v1/keys", json={"name": "replayer", "scopes": ["reports:write"]})
    assert made.status_code == 201, made.text
    key = made.json()
    headers = {"Authorization": f"Bearer {key['secret']}", "Idempotency-Key": "replay-1"}
    body = {"template_id": "orders", "formats": ["csv"]}
    with httpx.Client(base_url=str(api.base_url), headers=headers, timeout=30) as client:
        first = client.post("/v1/reports", json=body)
        assert first.status_code == 202, first.text
        again = client.post("/v1/reports", json=body)
        assert (again.status_code, again.json()["id"]) == (202, first.json()["id"])  # a replay
        assert api.post(f"/v1/keys/{key['id']}/revoke").status_code == 204
        # On PostgreSQL other connections learn of the revocation by NOTIFY, a moment later:
        # once the key is refused for a plain read, the replay must be refused too.
        for _ in range(100):
            if client.get("/v1/me").status_code == 401:
                break
            time.sleep(0.05)
        refused = client.post("/v1/reports", json=body)
    assert refused.status_code == 401, refused.text
    assert refused.json()["error"]["code"] == "authentication_failed"
    assert first.json()["id"] not in refused.text
