"""docs/architecture.md matches the tree: every path its tables name exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "architecture.md"
PACKAGE = ROOT / "src" / "reportd"
LAYERED = r"`((?:domain|app|adapters|generation|entrypoints|obs|sdk|testing)/[\w/.]*)`"


def test_every_path_the_page_names_exists() -> None:
    text = PAGE.read_text()
    named = set(re.findall(LAYERED, text)) | set(re.findall(r"`(\w+\.py)`", text))
    assert named, "the page names no path"
    missing = sorted(p for p in named if not (PACKAGE / p).exists())
    assert not missing, f"docs/architecture.md names paths that do not exist: {missing}"
