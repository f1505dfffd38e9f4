"""Per-subject reports: the hash rules, the row check, one live report per subject."""

from __future__ import annotations

import pytest

from reportd.app.subjects import SubjectState, parse_hash
from reportd.domain.errors import (
    MalformedSubjectKey,
    NoSubjectReport,
    NotFound,
    SubjectNotFound,
)
from tests.unit.app.conftest import MD5, SHA1, SHA256, World


def test_a_hash_is_told_apart_by_its_length_and_kept_lowercase() -> None:
    assert parse_hash(MD5) == ("md5", MD5)
    assert parse_hash(SHA1.upper()) == ("sha1", SHA1)
    assert parse_hash(SHA256) == ("sha256", SHA256)
    for bad in ("", "abc", "z" * 32, MD5 + "0"):
        with pytest.raises(MalformedSubjectKey):
            parse_hash(bad)


def test_subject_errors_are_in_the_error_tree() -> None:
    assert issubclass(MalformedSubjectKey, NotFound)
    assert SubjectNotFound.code == "subject_not_found"
    assert NoSubjectReport.code == "subject_report_not_found"


def test_an_unknown_row_is_not_found_even_with_a_good_hash(world: World) -> None:
    caller = world.principal()
    with pytest.raises(SubjectNotFound):
        world.app.subjects.resolve(caller, "samples", "0" * 64)
    with pytest.raises(SubjectNotFound):  # another tenant's rows are not this one's
        world.app.subjects.resolve(world.principal("globex"), "samples", MD5)


def test_asking_again_hands_back_the_live_report(world: World) -> None:
    caller = world.principal()
    first = world.app.subjects.request_report(caller, "samples", MD5, formats=["pdf"], ttl=1800)
    again = world.app.subjects.request_report(
        caller, "samples", MD5.upper(), formats=["pdf"], ttl=1800
    )
    assert again.id == first.id and first.subject == MD5
    assert first.filter == f'md5 eq "{MD5}"'
    by_sha1 = world.app.subjects.request_report(caller, "samples", SHA1, formats=["pdf"], ttl=60)
    assert by_sha1.id != first.id  # the same sample by another hash is another subject


def test_status_and_download_follow_the_report(world: World) -> None:
    caller = world.principal()
    assert world.app.subjects.status(caller, "samples", MD5).state is SubjectState.MISSING
    world.app.subjects.request_report(caller, "samples", MD5, formats=["pdf"], ttl=1800)
    assert world.app.subjects.status(caller, "samples", MD5).state is SubjectState.PENDING
    with pytest.raises(NoSubjectReport):
        world.app.subjects.open_download(caller, "samples", MD5, "pdf")
    world.run_next()
    assert world.app.subjects.status(caller, "samples", MD5).state is SubjectState.READY
    found = world.app.subjects.open_download(caller, "samples", MD5, "pdf")
    assert found.artifact.format.value == "pdf"


def test_a_canceled_subject_report_is_replaced(world: World) -> None:
    caller = world.principal()
    first = world.app.subjects.request_report(caller, "samples", MD5, formats=["pdf"], ttl=1800)
    world.app.reports.cancel(caller, first.id)
    second = world.app.subjects.request_report(caller, "samples", MD5, formats=["pdf"], ttl=1800)
    assert second.id != first.id
