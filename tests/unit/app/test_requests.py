"""Request validation: the first reason a report cannot be made, with a stable code."""

from __future__ import annotations

from typing import Any

import pytest

from reportd.app.requests import dedup_key
from reportd.domain.errors import (
    FilterSyntaxError,
    FormatInapplicable,
    StorageNotFound,
    TemplateNotFound,
    ValidationError,
)
from reportd.domain.formats import Packaging
from reportd.domain.models import ReportRequest
from tests.unit.app.conftest import World


def check(world: World, **asked: Any) -> Any:
    asked.setdefault("template_id", "orders")
    asked.setdefault("formats", ("csv",))
    return world.app.reports.validate("acme", ReportRequest(**asked))


@pytest.mark.parametrize(
    ("asked", "error", "words"),
    [
        ({"template_id": "nope"}, TemplateNotFound, "nope"),
        ({"formats": ("pdf",)}, FormatInapplicable, "does not offer pdf"),
        ({"formats": ("zip",)}, FormatInapplicable, "bundles other formats"),
        ({"formats": ("docx",)}, FormatInapplicable, "not a format"),
        ({"fields": ("nope",)}, ValidationError, "unknown fields"),
        ({"fields": ("amount", "amount")}, ValidationError, "must not repeat"),
        ({"fields": ()}, ValidationError, "at least one field"),
        ({"filter": "amount gt"}, FilterSyntaxError, "."),
        ({"order_by": ("nope",)}, ValidationError, "nope"),
        ({"packaging": "rar"}, ValidationError, "packaging"),
        ({"zip_password": "secret12"}, ValidationError, "needs packaging"),
        ({"packaging": "zip", "zip_password": "short"}, ValidationError, "8 characters"),
        ({"storage_id": "archive"}, StorageNotFound, "archive"),
        ({"expires_in": 0}, ValidationError, "expires_in"),
        ({"callback_url": "not a url"}, ValidationError, "callback_url"),
        ({"options": {"since": 5}}, ValidationError, "options"),
    ],
)
def test_each_bad_request_says_why(
    world: World, asked: dict[str, Any], error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words):
        check(world, **asked)


def test_a_good_request_is_normalised(world: World) -> None:
    report = check(
        world,
        formats=("CSV", "csv", "json"),
        fields=("amount", "order_id"),
        filter="   ",
        packaging="zip",
        zip_password=True,
    )
    assert [f.value for f in report.formats] == ["csv", "json"]
    assert report.fields == ("amount", "order_id")
    assert report.filter is None
    assert report.packaging is Packaging.ZIP
    assert report.zip_password == "generated-password"  # asked for: the generator's


def test_the_dedup_key_ignores_the_password_and_the_name(world: World) -> None:
    a = check(world, packaging="zip", zip_password="first-password", name="a")
    b = check(world, packaging="zip", zip_password="other-password", name="b")
    c = check(world, packaging="zip", zip_password="first-password", formats=("json",))
    assert dedup_key(a) == dedup_key(b) == a.dedup_key
    assert dedup_key(a) != dedup_key(c)
