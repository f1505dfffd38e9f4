"""A parcel's file as a local path, for clients that upload from a file (boto3's transfer)."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from reportd.adapters.delivery.streams import ChunkReader
from reportd.app.downloads import Download

__all__ = ["local_copy"]


@contextlib.contextmanager
def local_copy(download: Download) -> Iterator[Path]:
    """The file's own path when its storage is a local folder, else a temporary copy."""
    local = getattr(download.storage, "local_path", None)
    path = local(download.artifact.storage_key) if local is not None else None
    if path is not None:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="reportd-delivery-") as folder:
        copy = Path(folder) / "file"
        with copy.open("wb") as out:
            shutil.copyfileobj(ChunkReader(download.open()), out, 1 << 20)
        yield copy
