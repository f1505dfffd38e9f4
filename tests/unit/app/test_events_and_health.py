"""Events (a failing listener never fails the caller) and readiness (names what is down)."""

from __future__ import annotations

import logging

import pytest

from reportd.app.events import Signal
from reportd.app.health import Readiness
from reportd.domain.errors import StorageUnavailable, Unavailable
from tests.unit.app.conftest import World


def test_a_failing_listener_is_logged_and_the_others_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    signal = Signal("work_queued")
    heard: list[str] = []

    def broken() -> None:
        raise RuntimeError("listener bug")

    signal.connect(broken)
    signal.connect(lambda: heard.append("second"))
    with caplog.at_level(logging.ERROR, logger="reportd.app.events"):
        signal.emit()
    assert heard == ["second"]
    assert "event listener failed" in caplog.text
    signal.disconnect(broken)
    signal.disconnect(broken)  # twice is harmless
    signal.emit()
    assert heard == ["second", "second"]


def test_readiness_names_every_dependency_that_is_down() -> None:
    def away() -> None:
        raise StorageUnavailable("the bucket is away")

    ok = Readiness({"database": lambda: None}, ["default"])
    assert ok.check() == {"database": "ok", "storages": ["default"]}
    down = Readiness({"database": lambda: None, "storage:default": away}, ["default"])
    with pytest.raises(Unavailable) as caught:
        down.check()
    assert caught.value.details == {"down": {"storage:default": "the bucket is away"}}


def test_the_composed_app_is_ready_over_the_fakes(world: World) -> None:
    assert world.app.readiness.check()["storages"] == ["default"]
