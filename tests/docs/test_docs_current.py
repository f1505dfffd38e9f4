"""Docs that say the opposite of the code: phrases left over from before a thing was built."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
STALE = ("not built yet", "not acted on yet", "not implemented yet", "coming soon")


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_no_page_says_a_built_thing_is_missing(path: Path) -> None:
    text = path.read_text().lower()
    assert not [phrase for phrase in STALE if phrase in text]
