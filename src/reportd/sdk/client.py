"""The blocking client over reportd's native HTTP API (``/v1``).

::

    from pathlib import Path
    from reportd.client import Client

    with Client("http://127.0.0.1:8000", "rk_...") as client:
        report = client.create_report("orders", ["csv"], filter="amount gt 50")
        client.wait(report["id"])
        path = client.download(report["id"], Path("."), format="csv")

Resources are the server's JSON, as plain dicts. Every request is built by ``BaseClient``;
this class only sends it. ``AsyncClient`` (``async_client``) is the same API as coroutines.
"""

from __future__ import annotations

import os
import time
from collections.abc import Generator, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from reportd.domain.errors import ReportdError, Unavailable
from reportd.sdk.base import DEFAULT_TIMEOUT, BaseClient
from reportd.sdk.call import JSON, Call
from reportd.sdk.download import DOWNLOAD_ATTEMPTS, BytesCallback, Download
from reportd.sdk.errors import unreachable
from reportd.sdk.events import EventDecoder
from reportd.sdk.waiting import ReportCallback, Waiter

T = TypeVar("T")


class Client(BaseClient):
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

    def _send(self, call: Call[T]) -> T:
        try:
            response = self._http.request(
                call.method, call.path, params=call.params, json=call.json, headers=call.headers
            )
        except httpx.TransportError as exc:
            raise unreachable(self.base_url, exc) from exc
        return call.read(self._checked(response))

    @contextmanager
    def _stream(self, call: Call[None], read_timeout: float | None) -> Iterator[httpx.Response]:
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
            raise unreachable(self.base_url, exc) from exc

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
        destinations: list[str] | None = None,
        idempotency_key: str | None = None,
    ) -> JSON:
        """Ask for a report; it is generated in the background (see ``wait``)."""
        return self._send(
            self._build_create_report(
                template_id,
                formats,
                idempotency_key,
                name=name,
                options=options,
                fields=fields,
                filter=filter,
                order_by=order_by,
                packaging=packaging,
                zip_password=zip_password,
                storage_id=storage_id,
                expires_in=expires_in,
                callback_url=callback_url,
                destinations=destinations,
            )
        )

    def get_report(self, report_id: str) -> JSON:
        return self._send(self._build_get_report(report_id))

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
        return self._send(
            self._build_list_reports(
                state=state,
                template_id=template_id,
                schedule_id=schedule_id,
                created_by=created_by,
                limit=limit,
                cursor=cursor,
            )
        )

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
        return self._send(self._build_cancel(report_id))

    def delete(self, report_id: str) -> None:
        self._send(self._build_delete(report_id))

    # templates

    def list_templates(self) -> JSON:
        """``{results, total_count}``."""
        return self._send(self._build_list_templates())

    def get_template(self, template_id: str) -> JSON:
        return self._send(self._build_get_template(template_id))

    def create_template(self, definition: Mapping[str, Any]) -> JSON:
        """A tenant template from its definition (the YAML model as a dict); version 1.
        Refusals: ``TemplateInvalid`` (``details["errors"]``: path and message of each),
        ``QueryNotAllowed``, ``SourceNotGranted``."""
        return self._send(self._build_create_template(definition))

    def validate_template(self, definition: Mapping[str, Any]) -> JSON:
        """Check a definition as a create would, saving nothing: ``{valid, columns}``."""
        return self._send(self._build_validate_template(definition))

    def update_template(
        self, template_id: str, changes: Mapping[str, Any], *, version: int | None = None
    ) -> JSON:
        """A JSON merge patch: the new version. ``version``: ``VersionConflict`` unless
        the template is still at it."""
        return self._send(self._build_update_template(template_id, changes, version))

    def delete_template(self, template_id: str) -> None:
        self._send(self._build_delete_template(template_id))

    def get_template_version(self, template_id: str, version: int) -> JSON:
        return self._send(self._build_template_version(template_id, version))

    def report_template(self, report_id: str) -> JSON:
        """The definition a report was made from, at the version it ran."""
        return self._send(self._build_report_template(report_id))

    def preview(
        self,
        template_id: str,
        *,
        options: Mapping[str, Any] | None = None,
        fields: Sequence[str] | None = None,
        filter: str | None = None,
        order_by: Sequence[str] | None = None,
    ) -> JSON:
        """The first 50 rows and the row count a report with these choices would have."""
        call = self._build_preview(template_id, options, fields, filter, order_by)
        return self._send(call)

    # webhooks

    def create_webhook(self, url: str, events: list[str], *, signature: str | None = None) -> JSON:
        """Subscribe ``url`` to ``events``; the answer's ``secret`` is shown only this once.

        ``signature``: ``"reportd"``, ``"standard"`` (Standard Webhooks) or ``"both"``; the
        server's default (``both``) when None.
        """
        return self._send(self._build_create_webhook(url, events, signature))

    def update_webhook(self, webhook_id: str, *, signature: str) -> JSON:
        """Switch a subscription's signing scheme; its secret stays the same."""
        return self._send(self._build_update_webhook(webhook_id, signature))

    def list_webhooks(self) -> JSON:
        """``{results, total_count}``."""
        return self._send(self._build_list_webhooks())

    def get_webhook(self, webhook_id: str) -> JSON:
        return self._send(self._build_get_webhook(webhook_id))

    def delete_webhook(self, webhook_id: str) -> None:
        self._send(self._build_delete_webhook(webhook_id))

    def webhook_deliveries(
        self, webhook_id: str, *, limit: int | None = None, offset: int | None = None
    ) -> JSON:
        """The delivery log, newest first: ``{results, total_count}``."""
        return self._send(self._build_webhook_deliveries(webhook_id, limit, offset))

    def callback_secret(self) -> str:
        """The secret ``callback_url`` deliveries of this tenant are signed with."""
        return self._send(self._build_callback_secret())

    # destinations

    def create_destination(self, type: str, name: str | None = None, **fields: object) -> JSON:
        """A destination (``email``, ``s3``, ``sftp``, ``webhook``) with the type's settings
        and secrets as keywords; secrets never come back, except a ``generated_secrets``
        webhook ``secret`` in this answer."""
        return self._send(self._build_create_destination(type, name, fields))

    def update_destination(self, destination_id: str, **fields: object) -> JSON:
        """Change ``name``, settings or secrets (``None`` removes one)."""
        return self._send(self._build_update_destination(destination_id, fields))

    def list_destinations(self) -> JSON:
        """``{results, total_count}``."""
        return self._send(self._build_list_destinations())

    def get_destination(self, destination_id: str) -> JSON:
        return self._send(self._build_get_destination(destination_id))

    def delete_destination(self, destination_id: str) -> None:
        self._send(self._build_delete_destination(destination_id))

    # files

    def download_url(
        self, report_id: str, format: str | None = None, part: int | None = None
    ) -> JSON:
        """A signed link that needs no credential: ``{download_url, expires_at, filename, ...}``."""
        return self._send(self._build_download_url(report_id, format, part))

    def download(
        self,
        report_id: str,
        dest: str | os.PathLike[str],
        *,
        format: str | None = None,
        part: int | None = None,
        on_progress: BytesCallback | None = None,
    ) -> Path:
        """Fetch one artifact into ``dest``: a file, or a folder (existing, or ``"out/"``) for the
        server's name.

        The bytes go to a temp file beside it, resume with ``Range`` if the connection
        breaks, and are renamed into place only once their sha256 matches the artifact's.
        """
        link = self.download_url(report_id, format, part)
        with self._build_download(report_id, dest, link, format, part) as state:
            self._fetch(state, on_progress)
            return state.finish()

    def _fetch(self, state: Download, on_progress: BytesCallback | None) -> None:
        for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
            try:
                self._fetch_once(state, on_progress)
                return
            except Unavailable:
                if attempt == DOWNLOAD_ATTEMPTS:
                    raise

    def _fetch_once(self, state: Download, on_progress: BytesCallback | None) -> None:
        with self._stream(state.request(), self.timeout) as response, state.open(response) as out:
            for chunk in response.iter_bytes():
                state.write(out, chunk, on_progress)

    # progress

    def iter_events(
        self, report_id: str, *, read_timeout: float | None = None
    ) -> Generator[JSON, None, None]:
        """The report at each change of state or progress, until it is final.

        ``read_timeout``: how long to wait for the next event (None: as long as it takes).
        """
        decoder = EventDecoder()
        with self._stream(self._build_events(report_id), read_timeout) as response:
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
        waiter = Waiter(report_id, timeout, on_progress)
        final = self._wait_streaming(waiter)
        return final if final is not None else self._wait_polling(waiter, poll_interval)

    def _wait_streaming(self, waiter: Waiter) -> JSON | None:
        """The final report from the stream, or None if the stream ended or broke first."""
        waiter.check()
        events = self.iter_events(waiter.report_id, read_timeout=waiter.remaining())
        try:
            with closing(events):
                for report in events:
                    if waiter.see(report):
                        return report
                    waiter.check()
        except ReportdError as exc:
            if exc.status < 500:
                raise
        return None

    def _wait_polling(self, waiter: Waiter, poll_interval: float) -> JSON:
        while True:
            waiter.check()
            report = self.get_report(waiter.report_id)
            if waiter.see(report):
                return report
            time.sleep(waiter.pause(poll_interval))
