"""E-mail destinations: through the operator's ``[smtp]`` server only, never a tenant's host.

The files are attached while together they fit ``[smtp] max_attachment_bytes``; above it the
mail carries a signed link per file instead (valid ``[delivery] link_ttl``), so a mail server's
size limit never loses a report. The body, in plain text and HTML, names the report, its rows
and its filter, and lists each file with its size and sha256 (a recipient can check a file).
An SMTP error names the operator's server and can tell which of the tenant's recipients its
relay knows, so the tenant's ``last_error`` says only "failed"; the operator's log has it.
"""

from __future__ import annotations

import html
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from reportd.app.deliveries import Parcel
from reportd.app.downloads import Download
from reportd.domain.destinations import NOT_CONFIGURED, Destination
from reportd.domain.errors import DeliveryFailed

__all__ = ["SmtpSender", "SmtpServer"]


@dataclass(frozen=True, slots=True)
class SmtpServer:
    """``[smtp]``, as the sender needs it."""

    host: str | None
    port: int = 587
    username: str | None = None
    password: str | None = None
    sender: str = "reportd@localhost"
    starttls: bool = True
    ssl: bool = False
    timeout: float = 30.0
    max_attachment_bytes: int = 10 * 1024 * 1024


class SmtpSender:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    def send(self, destination: Destination, secrets: Mapping[str, str], parcel: Parcel) -> None:
        if not self.server.host:
            raise DeliveryFailed(NOT_CONFIGURED, shown=NOT_CONFIGURED)
        message = self.message(destination, parcel)
        try:
            with self._connect() as smtp:
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"SMTP {self.server.host}:{self.server.port}: {exc}") from exc

    def message(self, destination: Destination, parcel: Parcel) -> EmailMessage:
        report = parcel.report
        attach = sum(f.artifact.size for f in parcel.files) <= self.server.max_attachment_bytes
        links = {} if attach else {f.artifact.filename: parcel.link(f) for f in parcel.files}
        message = EmailMessage()
        subject = destination.config.get("subject") or f"Report: {report.name}"
        message["Subject"] = " ".join(str(subject).split())  # no CR/LF into the header
        message["From"] = self.server.sender
        message["To"] = ", ".join(destination.config["to"])
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain="reportd")
        message.set_content(_text(parcel, links))
        message.add_alternative(_html(parcel, links), subtype="html")
        if attach:
            for download in parcel.files:
                maintype, _, subtype = download.artifact.mime_type.partition("/")
                message.add_attachment(
                    b"".join(download.open()),
                    maintype=maintype or "application",
                    subtype=subtype or "octet-stream",
                    filename=download.artifact.filename,
                )
        return message

    def _connect(self) -> smtplib.SMTP:
        server = self.server
        assert server.host is not None
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if server.ssl:
            smtp = smtplib.SMTP_SSL(
                server.host, server.port, timeout=server.timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=server.timeout)
        try:
            if server.starttls and not server.ssl:
                smtp.starttls(context=context)
            if server.username:
                smtp.login(server.username, server.password or "")
        except BaseException:
            smtp.close()  # refused TLS or login: the connection goes with the error
            raise
        return smtp


def _facts(parcel: Parcel) -> list[tuple[str, str]]:
    report = parcel.report
    return [
        ("Report", report.name),
        ("Template", report.template_id),
        ("Rows", f"{report.progress.rows:,}"),
        ("Filter", report.filter or "none"),
        ("Finished", report.finished_at.isoformat() if report.finished_at else "-"),
        ("Report id", report.id),
    ]


def _file_line(download: Download) -> str:
    artifact = download.artifact
    return f"{artifact.filename} ({artifact.size:,} bytes, sha256 {artifact.sha256})"


def _text(parcel: Parcel, links: Mapping[str, str]) -> str:
    lines = [f"{name}: {value}" for name, value in _facts(parcel)]
    lines.append("")
    lines.append("Files (links):" if links else "Files (attached):")
    for download in parcel.files:
        lines.append(f"- {_file_line(download)}")
        if download.artifact.filename in links:
            lines.append(f"  {links[download.artifact.filename]}")
    if links:
        lines += ["", "The files were too large to attach; the links expire."]
    return "\n".join(lines) + "\n"


def _html(parcel: Parcel, links: Mapping[str, str]) -> str:
    rows = "".join(
        f"<tr><th align='left'>{html.escape(name)}</th><td>{html.escape(value)}</td></tr>"
        for name, value in _facts(parcel)
    )
    items = []
    for download in parcel.files:
        text = html.escape(_file_line(download))
        link = links.get(download.artifact.filename)
        if link is not None:
            text = f"<a href='{html.escape(link, quote=True)}'>{text}</a>"
        items.append(f"<li>{text}</li>")
    title = html.escape(parcel.report.name)
    note = "<p>The files were too large to attach; the links expire.</p>" if links else ""
    return (
        f"<html><body><h2>{title}</h2><table>{rows}</table>"
        f"<p>Files ({'links' if links else 'attached'}):</p><ul>{''.join(items)}</ul>"
        f"{note}</body></html>"
    )
