"""Queue wake-ups over PostgreSQL ``LISTEN/NOTIFY``.

Every transaction that makes a report claimable also runs ``NOTIFY reportd_queue`` (see
``notify_queue``); one ``QueueListener`` thread per worker process holds its own connection
(outside the pool, autocommit), listens on that channel and wakes the idle slots. A worker
then polls only as a slow fallback. The listener reconnects with backoff when the database
goes away and wakes the slots once on reconnecting, for reports queued in between.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy.engine import make_url

from reportd.adapters.db.database import QUEUE_CHANNEL

log = logging.getLogger("reportd.listen")

FIRST_BACKOFF = 0.2
MAX_BACKOFF = 5.0
WAIT_SLICE = 1.0  # seconds between checks of the stop flag while waiting for notifications
# Dead peers are noticed by TCP keepalive even when no NOTIFY ever comes.
KEEPALIVE = {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 3}


def listen_dsn(url: str) -> str | None:
    """A libpq URI for the metadata database, or None when it is not PostgreSQL."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return None
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


class QueueListener:
    """A daemon thread calling ``on_notify`` for every queue notification."""

    def __init__(
        self, dsn: str, on_notify: Callable[[], None], *, channel: str = QUEUE_CHANNEL
    ) -> None:
        self.dsn = dsn
        self.on_notify = on_notify
        self.channel = channel
        self._stop = threading.Event()
        self._active = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reportd-listen", daemon=True)

    @property
    def active(self) -> bool:
        """True while a LISTEN connection is up (the worker may then poll slowly)."""
        return self._active.is_set()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def wait_active(self, timeout: float) -> bool:
        return self._active.wait(timeout)

    def _run(self) -> None:
        backoff = FIRST_BACKOFF
        while not self._stop.is_set():
            try:
                self._listen()
                backoff = FIRST_BACKOFF
            except Exception as exc:  # psycopg and socket errors alike: reconnect
                self._active.clear()
                log.warning(
                    "queue listener lost its connection; reconnecting in %.1f s",
                    backoff,
                    extra={"action": "listen_error", "error": f"{type(exc).__name__}: {exc}"},
                )
                self._stop.wait(backoff)
                backoff = min(MAX_BACKOFF, backoff * 2)
        self._active.clear()

    def _listen(self) -> None:
        import psycopg
        from psycopg.conninfo import make_conninfo

        dsn = make_conninfo(self.dsn, connect_timeout=5, **KEEPALIVE)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"LISTEN {self.channel}")
            self._active.set()
            log.info("listening for queue notifications", extra={"action": "listen"})
            self.on_notify()  # reports queued while nobody listened
            while not self._stop.is_set():
                for _ in conn.notifies(timeout=WAIT_SLICE):
                    self.on_notify()
