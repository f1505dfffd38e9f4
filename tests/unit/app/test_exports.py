"""``reportd export``'s use case over the fake: the workers' check and pipeline, no queue."""

from __future__ import annotations

from pathlib import Path

import pytest

from reportd.domain.errors import ValidationError
from reportd.domain.models import ReportRequest
from tests.unit.app.conftest import World


def test_export_runs_the_same_pipeline_in_process(world: World, tmp_path: Path) -> None:
    world.principal()
    files = world.app.exports.export("acme", ReportRequest("orders", ("csv",)), tmp_path)
    assert [f.filename for f in files] == ["orders.csv"]
    assert (tmp_path / "orders.csv").read_text().startswith("orders csv acme")
    assert world.generator.runs[-1].tenant_id == "acme"
    assert world.app.runs.claim("w1") is None  # nothing was queued for a worker


def test_export_names_are_known_before_a_row_is_read(world: World) -> None:
    world.principal()
    names = world.app.exports.names("acme", ReportRequest("orders", ("json",)))
    assert names[0].startswith("Orders-") and names[0].endswith(".json")
    zipped = world.app.exports.names("acme", ReportRequest("orders", ("csv",), packaging="zip"))
    assert zipped[0].endswith(".csv.zip")
    assert world.generator.runs == []


def test_a_bad_request_is_refused_before_anything_runs(world: World, tmp_path: Path) -> None:
    world.principal()
    bad = ReportRequest("orders", ("csv",), fields=("no_such_field",))
    with pytest.raises(ValidationError, match="unknown fields"):
        world.app.exports.export("acme", bad, tmp_path)
    assert world.generator.runs == []
    assert list(tmp_path.iterdir()) == []
