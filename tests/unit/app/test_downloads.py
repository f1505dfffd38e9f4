"""Downloads: which file, when, and signed links that need no other credential."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from reportd.app.downloads import file_path
from reportd.domain.errors import (
    ArtifactNotFound,
    FormatInapplicable,
    InvalidSignature,
    LinkExpired,
    ReportNotFound,
    ReportNotReady,
)
from tests.unit.app.conftest import World


def test_a_queued_report_is_not_ready(world: World) -> None:
    caller = world.principal()
    report = world.create(caller)
    with pytest.raises(ReportNotReady):
        world.app.downloads.open_download(caller, report.id, "csv")


def test_the_file_of_a_finished_report_streams_its_bytes(world: World) -> None:
    caller = world.principal()
    world.create(caller, formats=("csv", "json"))
    done = world.run_next()
    found = world.app.downloads.open_download(caller, done.id, "json")
    assert found.artifact.filename == "orders.json"
    body = b"".join(found.open())
    assert body.startswith(b'[{"order_id": 0')
    assert b"".join(found.open(0, 4)) == body[:5]  # an inclusive range, as HTTP's
    with pytest.raises(FormatInapplicable, match="no pdf file"):
        world.app.downloads.open_download(caller, done.id, "pdf")
    with pytest.raises(ArtifactNotFound):
        world.app.downloads.open_download(caller, done.id, "csv", part=2)


def test_another_tenant_cannot_download(world: World) -> None:
    world.create(world.principal("acme"))
    done = world.run_next()
    with pytest.raises(ReportNotFound):
        world.app.downloads.open_download(world.principal("globex"), done.id, "csv")


def test_a_signed_link_opens_the_file_and_nothing_else(world: World) -> None:
    caller = world.principal()
    world.create(caller)
    done = world.run_next()
    link = world.app.downloads.download_link(caller, done.id, "csv", expires_in=60)
    parts = urlsplit(link.url)
    assert link.url.startswith("https://reports.example/v1/files/")  # public_url wins
    assert parts.path == file_path(done.id, "orders.csv")
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    opened = world.app.downloads.open_signed(
        done.id, "orders.csv", query["expires"], query["signature"]
    )
    assert opened.artifact.sha256 == link.artifact.sha256
    with pytest.raises(InvalidSignature):
        world.app.downloads.open_signed(done.id, "orders.csv", query["expires"], "0" * 64)
    with pytest.raises(InvalidSignature):  # an edited expiry breaks the signature
        world.app.downloads.open_signed(
            done.id, "orders.csv", str(int(query["expires"]) + 1), query["signature"]
        )


def test_an_expired_link_is_refused(world: World) -> None:
    caller = world.principal()
    world.create(caller)
    done = world.run_next()
    path = file_path(done.id, "orders.csv")
    from reportd.adapters.storage.signing import LinkSigner
    from tests.unit.app.conftest import SECRET

    old = LinkSigner(SECRET).signed_query(path, 1_000)
    with pytest.raises(LinkExpired):
        world.app.downloads.open_signed(done.id, "orders.csv", old["expires"], old["signature"])
