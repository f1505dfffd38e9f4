"""The delivery adapters' pure parts: sealed secrets (Fernet, key rotation) and the mail."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from reportd.adapters.delivery.email import SmtpSender, SmtpServer
from reportd.adapters.secret_box import FernetBox, derive_key, new_key
from reportd.app.deliveries import Parcel
from reportd.domain.destinations import Destination, DestinationType
from reportd.domain.errors import ValidationError
from reportd.domain.formats import Format, Packaging
from reportd.domain.models import Artifact, Progress, Report
from reportd.domain.states import ReportState


def test_sealed_secrets_open_only_with_a_listed_key_and_keys_rotate() -> None:
    old, new = new_key(), new_key()
    sealed = FernetBox([old]).seal({"password": "hunter2"})
    assert "hunter2" not in sealed
    rotated = FernetBox([new, old])  # the new key seals, the old one still opens
    assert rotated.open(sealed) == {"password": "hunter2"}
    assert FernetBox([new]).open(rotated.seal({"a": "b"})) == {"a": "b"}
    with pytest.raises(ValidationError):
        FernetBox([new]).open(sealed)
    with pytest.raises(ValidationError):
        FernetBox(["not a key"])
    assert derive_key("s1") == derive_key("s1") != derive_key("s2")


@dataclass
class FakeDownload:
    artifact: Artifact
    body: bytes

    def open(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        return iter([self.body])


def _parcel(size: int, name: str = "Q1\r\nBcc: someone@evil.example") -> Parcel:
    report = Report(
        id="r1",
        tenant_id="t",
        template_id="orders",
        name=name,
        state=ReportState.FINISHED,
        formats=(Format.CSV,),
        fields=("a",),
        filter='customer eq "<b>Ada</b>"',
        progress=Progress(rows=1234),
    )
    body = b"x" * size
    artifact = Artifact(
        report_id="r1",
        format=Format.CSV,
        packaging=Packaging.NONE,
        filename="Q1-2026-12-02.csv",
        mime_type="text/csv",
        size=size,
        sha256="ab" * 32,
        storage_key="t/r1/1/Q1.csv",
    )
    download = FakeDownload(artifact, body)
    return Parcel(report=report, files=(download,), link=lambda d: "https://r.example/f?sig=1")  # type: ignore[arg-type]


def _mail(size: int) -> tuple[SmtpSender, Destination]:
    sender = SmtpSender(SmtpServer(host="smtp.example", max_attachment_bytes=100))
    destination = Destination(
        id="d", tenant_id="t", type=DestinationType.EMAIL, name="n", config={"to": ["a@b.io"]}
    )
    return sender, destination


def test_a_small_file_is_attached_and_the_body_names_report_rows_and_filter() -> None:
    sender, destination = _mail(10)
    message = sender.message(destination, _parcel(10))
    assert message["Subject"] == "Report: Q1 Bcc: someone@evil.example"  # one header line
    assert message["Bcc"] is None
    [attached] = list(message.iter_attachments())
    assert attached.get_filename() == "Q1-2026-12-02.csv"
    assert attached.get_payload(decode=True) == b"x" * 10
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    assert "Rows: 1,234" in text.get_content()
    assert 'Filter: customer eq "<b>Ada</b>"' in text.get_content()
    assert "&lt;b&gt;Ada&lt;/b&gt;" in html.get_content()  # escaped, not markup


def test_a_file_over_the_cap_goes_as_a_link() -> None:
    sender, destination = _mail(1000)
    message = sender.message(destination, _parcel(1000))
    assert list(message.iter_attachments()) == []
    text = message.get_body(preferencelist=("plain",))
    assert text is not None and "https://r.example/f?sig=1" in text.get_content()
