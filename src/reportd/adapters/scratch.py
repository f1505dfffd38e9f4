"""One scratch folder per process for everything a run writes before storage has it.

A report's partial CSV/JSON/NDJSON/XLSX files and DuckDB's spill files are a tenant's data.
They used to go to the system temp folder (``reportd-<id>-*``, ``reportd-duckdb-<pid>``),
where a worker killed with ``kill -9`` left them for good: no restart and no retry knew
about them. Now each process works under ``<root>/<host>-<pid>-<token>/`` (root:
``[worker] temp_dir``, by default ``<data_dir>/tmp``): ``runs/`` holds each attempt's folder
(removed when the attempt ends, ``reportd.app.runs``), ``duckdb/`` the spill.

The process holds an exclusive ``flock`` on the folder's ``.lock`` while it lives; the kernel
drops it when the process dies, however it dies. Every process, when it opens its own
folder, removes the folders whose lock it can take: those of dead processes, on this host or
any other sharing the root. A PID reused by another program does not fool it.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import secrets
import shutil
import socket
import time
from pathlib import Path

__all__ = ["Scratch"]

log = logging.getLogger("reportd.adapters.scratch")

LOCK = ".lock"
UNLOCKED_GRACE = 3600.0  # seconds a folder without a lock file is left alone (being made)


class Scratch:
    """This process' scratch folder; ``open`` makes it and sweeps the dead ones first."""

    def __init__(self, path: Path, lock_fd: int) -> None:
        self.path = path
        self.runs = path / "runs"
        self.duckdb = path / "duckdb"
        self._lock_fd: int | None = lock_fd

    @classmethod
    def open(cls, root: Path) -> Scratch:
        root.mkdir(parents=True, exist_ok=True)
        swept = sweep(root)
        if swept:
            log.info(
                "scratch of dead processes removed",
                extra={"action": "scratch_swept", "folders": [p.name for p in swept]},
            )
        name = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        # Locked under a dot name, then renamed: a sweep never sees it unlocked.
        making = root / f".{name}"
        making.mkdir(mode=0o700)
        fd = os.open(making / LOCK, os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        path = root / name
        making.rename(path)
        scratch = cls(path, fd)
        scratch.runs.mkdir()
        scratch.duckdb.mkdir()
        return scratch

    def close(self) -> None:
        """Remove this process' folder (a clean exit); a killed process leaves it to the
        next ``open`` anywhere on the same root."""
        if self._lock_fd is None:
            return
        shutil.rmtree(self.path, ignore_errors=True)
        os.close(self._lock_fd)
        self._lock_fd = None


def sweep(root: Path) -> list[Path]:
    """Remove the folders under ``root`` whose owner is gone; the folders removed."""
    removed: list[Path] = []
    for folder in sorted(root.iterdir()):
        if folder.is_dir() and _abandoned(folder):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _abandoned(folder: Path) -> bool:
    if folder.name.startswith("."):  # being made right now, or its maker died doing so
        return _older_than(folder, UNLOCKED_GRACE)
    try:
        fd = os.open(folder / LOCK, os.O_RDWR)
    except FileNotFoundError:  # not one of ours: left alone for a while
        return _older_than(folder, UNLOCKED_GRACE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False  # its process is alive
    finally:
        os.close(fd)  # also drops the lock just taken
    return True


def _older_than(folder: Path, seconds: float) -> bool:
    with contextlib.suppress(OSError):
        return time.time() - folder.stat().st_mtime > seconds
    return False
