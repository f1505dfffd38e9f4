"""Artifacts as files under one folder: the embedded default.

Uploads are written to ``<root>/.tmp/``, fsynced, then renamed into place with
``os.replace``; ``.tmp`` is on the same filesystem, so the rename is atomic and a reader
sees either nothing or the whole file.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from reportd.adapters.storage.base import (
    DEFAULT_CHUNK_SIZE,
    RESERVED_PREFIX,
    ArtifactStorage,
    ClosingIterator,
    check_range_args,
    resolve_range,
    validate_key,
    validate_prefix,
)
from reportd.domain.errors import ArtifactNotFound, StorageUnavailable

__all__ = ["LocalStorage"]

_COPY_CHUNK = 1 << 20
_PUBLISH_ATTEMPTS = 3


class LocalStorage(ArtifactStorage):
    """A folder on a local (or mounted) filesystem; the only backend with sendfile paths."""

    def __init__(self, id: str, root: Path | str) -> None:
        self.id = id
        self.root = Path(root)

    # -- writing ---------------------------------------------------------------------------

    def put_file(self, key: str, source: Path) -> int:
        target = self._path(key)
        tmp_dir = self._tmp_dir()
        with self._unavailable_on_oserror():
            tmp_dir.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, prefix="put-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out, source.open("rb") as src:
                size = self._copy(src, out)
            self._publish(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return size

    def _copy(self, src: BinaryIO, out: BinaryIO) -> int:
        """Copy and fsync; errors reading the source pass through untouched (not ours)."""
        size = 0
        while chunk := src.read(_COPY_CHUNK):
            with self._unavailable_on_oserror():
                out.write(chunk)
            size += len(chunk)
        with self._unavailable_on_oserror():
            out.flush()
            os.fsync(out.fileno())
        return size

    def _publish(self, tmp: Path, target: Path) -> None:
        """Rename into place. Retried because a concurrent delete may prune the empty
        parent folder between our mkdir and our rename."""
        for _attempt in range(_PUBLISH_ATTEMPTS):
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, target)
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise StorageUnavailable(f"storage {self.id!r} cannot store files") from exc
            _fsync_dir(target.parent)
            return
        raise StorageUnavailable(f"storage {self.id!r} lost the folder of {target.name!r}")

    # -- reading ---------------------------------------------------------------------------

    def open_range(
        self,
        key: str,
        start: int = 0,
        end: int | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> Iterator[bytes]:
        check_range_args(start, end, chunk_size)
        handle = self._open(self._path(key))
        try:
            # fstat, not stat: the size must be that of the file we read, even if the key
            # is replaced between the two calls.
            first, stop = resolve_range(self._regular_size(os.fstat(handle.fileno())), start, end)
        except BaseException:
            handle.close()
            raise
        return ClosingIterator(_read_chunks(handle, first, stop, chunk_size), handle.close)

    def _open(self, path: Path) -> BinaryIO:
        try:
            return path.open("rb", buffering=0)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
            raise ArtifactNotFound() from exc
        except OSError as exc:
            raise StorageUnavailable(f"storage {self.id!r} cannot read files") from exc

    def size(self, key: str) -> int:
        return self._file_size(self._path(key))

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def local_path(self, key: str) -> Path | None:
        path = self._path(key)
        self._file_size(path)
        return path

    def list_keys(self, prefix: str = "") -> list[str]:
        validate_prefix(prefix)
        folder, _, _ = prefix.rpartition("/")
        base = self.root.joinpath(*folder.split("/")) if folder else self.root
        if not base.is_dir():
            return []
        keys: list[str] = []
        for dirpath, dirnames, filenames in os.walk(base):
            rel = Path(dirpath).relative_to(self.root).as_posix()
            rel = "" if rel == "." else rel + "/"
            dirnames[:] = [
                d
                for d in dirnames
                if _may_hold(rel + d + "/", prefix) and (rel or d != RESERVED_PREFIX)
            ]
            keys.extend(rel + name for name in filenames if (rel + name).startswith(prefix))
        return sorted(keys)

    # -- deleting --------------------------------------------------------------------------

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return
        except IsADirectoryError:  # a folder of other keys, not an object: nothing to do
            return
        except OSError as exc:
            raise StorageUnavailable(f"storage {self.id!r} cannot delete files") from exc
        self._prune(path.parent)

    def delete_prefix(self, prefix: str) -> int:
        keys = self.list_keys(self._require_prefix(prefix))
        for key in keys:
            self.delete(key)
        return len(keys)

    def purge_incomplete(self, older_than: float = 3600.0) -> int:
        """Remove temp files a killed process left in ``.tmp`` (younger ones may be live)."""
        tmp_dir = self._tmp_dir()
        if not tmp_dir.is_dir():
            return 0
        cutoff = time.time() - older_than
        removed = 0
        for entry in tmp_dir.iterdir():
            with contextlib.suppress(FileNotFoundError):
                if entry.stat().st_mtime < cutoff:
                    entry.unlink()
                    removed += 1
        return removed

    def check(self) -> None:
        try:
            self._tmp_dir().mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=self._tmp_dir(), prefix="check-")
            os.close(fd)
            os.unlink(name)
        except OSError as exc:
            raise StorageUnavailable(
                f"storage {self.id!r} ({self.root}) is not writable: {exc.strerror}"
            ) from exc

    # -- helpers ---------------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*validate_key(key).split("/"))

    def _tmp_dir(self) -> Path:
        return self.root / RESERVED_PREFIX

    def _file_size(self, path: Path) -> int:
        """Size of a regular file; a folder or nothing is ArtifactNotFound."""
        try:
            info = path.stat()
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise ArtifactNotFound() from exc
        except OSError as exc:
            raise StorageUnavailable(f"storage {self.id!r} cannot read files") from exc
        return self._regular_size(info)

    @staticmethod
    def _regular_size(info: os.stat_result) -> int:
        if not stat.S_ISREG(info.st_mode):
            raise ArtifactNotFound()
        return info.st_size

    def _prune(self, folder: Path) -> None:
        """Remove folders left empty, so deleted reports leave no trace behind."""
        while folder != self.root and self.root in folder.parents:
            try:
                folder.rmdir()
            except OSError:  # not empty (or already gone): stop climbing
                return
            folder = folder.parent

    @contextlib.contextmanager
    def _unavailable_on_oserror(self) -> Iterator[None]:
        try:
            yield
        except OSError as exc:
            raise StorageUnavailable(f"storage {self.id!r} cannot store files") from exc


def _read_chunks(handle: BinaryIO, start: int, stop: int, chunk_size: int) -> Iterator[bytes]:
    handle.seek(start)
    remaining = stop - start
    while remaining > 0:
        chunk = handle.read(min(chunk_size, remaining))
        if not chunk:  # truncated in place by someone else: never pad, never spin
            return
        remaining -= len(chunk)
        yield chunk


def _may_hold(folder_key: str, prefix: str) -> bool:
    """Whether keys under ``folder_key`` (ending in '/') can start with ``prefix``."""
    return folder_key.startswith(prefix) or prefix.startswith(folder_key)


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable; best effort where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
