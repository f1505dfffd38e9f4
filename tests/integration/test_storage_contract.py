"""One contract, every storage backend: what the worker and the HTTP layer rely on.

Each test runs against local disk, the in-memory fake and a real S3-compatible server
(SeaweedFS, started once per session by tests/storage_fixtures.py). Backends are built
through ``build_storage`` from config-style settings, as reportd itself builds them.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from reportd.adapters.storage import ArtifactStorage, InvalidKeyError, LocalStorage, build_storage
from reportd.adapters.storage.memory import MemoryStorage
from reportd.domain.errors import (
    ArtifactNotFound,
    RangeNotSatisfiable,
    StorageUnavailable,
)
from tests.storage_fixtures import SeaweedFS, seaweedfs  # noqa: F401  (fixture)

MiB = 1 << 20
PART = 5 * MiB  # S3's smallest multipart part: the S3 storage here splits at this size
BACKENDS = ["local", "memory", "s3"]


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """Config-style settings of one backend; S3 gets its own key prefix per test."""
    if request.param == "local":
        return {"type": "local", "path": str(tmp_path / "artifacts")}
    if request.param == "memory":
        return {"type": "memory"}
    server: SeaweedFS = request.getfixturevalue("seaweedfs")
    return server.settings(multipart_threshold=PART, multipart_chunksize=PART)


@pytest.fixture
def storage(settings: dict[str, Any]) -> Iterator[ArtifactStorage]:
    store = build_storage("main", settings)
    yield store
    if settings["type"] == "s3":
        for key in store.list_keys():
            store.delete(key)


def write(tmp_path: Path, data: bytes, name: str = "source.bin") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def read_all(storage: ArtifactStorage, key: str, *args: Any, **kwargs: Any) -> bytes:
    return b"".join(storage.open_range(key, *args, **kwargs))


@pytest.fixture
def stored(storage: ArtifactStorage, tmp_path: Path) -> bytes:
    """``t1/r1/report.csv`` holding 256 distinct-ish bytes, repeated."""
    data = bytes(range(256)) * 40 + b"tail"
    storage.put_file("t1/r1/report.csv", write(tmp_path, data))
    return data


# -- put, size, exists ---------------------------------------------------------------------


def test_put_returns_size_and_object_reads_back(storage: ArtifactStorage, tmp_path: Path) -> None:
    data = os.urandom(3 * MiB + 17)
    assert storage.put_file("t1/r1/big.bin", write(tmp_path, data)) == len(data)
    assert storage.size("t1/r1/big.bin") == len(data)
    assert storage.exists("t1/r1/big.bin")
    assert read_all(storage, "t1/r1/big.bin") == data


def test_put_replaces_whole_object(storage: ArtifactStorage, tmp_path: Path) -> None:
    storage.put_file("k/file", write(tmp_path, b"a much longer first version"))
    storage.put_file("k/file", write(tmp_path, b"short", "second.bin"))
    assert read_all(storage, "k/file") == b"short"
    assert storage.size("k/file") == 5


def test_empty_object(storage: ArtifactStorage, tmp_path: Path) -> None:
    assert storage.put_file("k/empty", write(tmp_path, b"")) == 0
    assert storage.size("k/empty") == 0
    assert read_all(storage, "k/empty") == b""
    with pytest.raises(RangeNotSatisfiable):
        storage.open_range("k/empty", 0, 0)


def test_unicode_and_spaced_keys(storage: ArtifactStorage, tmp_path: Path) -> None:
    key = "tenant 1/r\u00e9sum\u00e9/\u65e5\u672c\u8a9e report (1).csv"
    storage.put_file(key, write(tmp_path, b"x,y\n"))
    assert storage.list_keys("tenant 1/") == [key]
    assert read_all(storage, key) == b"x,y\n"


def test_missing_key(storage: ArtifactStorage) -> None:
    assert not storage.exists("t1/none")
    with pytest.raises(ArtifactNotFound):
        storage.size("t1/none")
    with pytest.raises(ArtifactNotFound):
        storage.open_range("t1/none")  # at call time, before any iteration


def test_a_folder_is_not_an_object(storage: ArtifactStorage, stored: bytes) -> None:
    assert not storage.exists("t1/r1")
    with pytest.raises(ArtifactNotFound):
        storage.size("t1/r1")


# -- ranges --------------------------------------------------------------------------------


def test_full_read_in_chunks(storage: ArtifactStorage, stored: bytes) -> None:
    chunks = list(storage.open_range("t1/r1/report.csv", chunk_size=1000))
    assert b"".join(chunks) == stored
    assert all(len(chunk) <= 1000 for chunk in chunks)
    assert len(chunks) >= len(stored) // 1000


@pytest.mark.parametrize(
    ("start", "end"),
    [(0, 0), (1, 1), (100, 5000), (256, 511), (5000, None), (0, None)],
)
def test_ranges_are_inclusive(
    storage: ArtifactStorage, stored: bytes, start: int, end: int | None
) -> None:
    expected = stored[start:] if end is None else stored[start : end + 1]
    assert read_all(storage, "t1/r1/report.csv", start, end, chunk_size=777) == expected


def test_last_byte(storage: ArtifactStorage, stored: bytes) -> None:
    last = len(stored) - 1
    assert read_all(storage, "t1/r1/report.csv", last, last) == stored[-1:]
    assert read_all(storage, "t1/r1/report.csv", last) == stored[-1:]


def test_end_past_the_file_is_clamped(storage: ArtifactStorage, stored: bytes) -> None:
    assert read_all(storage, "t1/r1/report.csv", 10, len(stored) + 1000) == stored[10:]


@pytest.mark.parametrize(
    ("start", "end"),
    [("size", None), ("size", "size+10"), ("size+1", None), (-1, None), (10, 5)],
)
def test_unsatisfiable_ranges_raise_at_call_time(
    storage: ArtifactStorage, stored: bytes, start: int | str, end: int | str | None
) -> None:
    def resolve(value: int | str | None) -> int | None:
        if not isinstance(value, str):
            return value
        return len(stored) + (int(value[5:]) if "+" in value else 0)

    with pytest.raises(RangeNotSatisfiable) as caught:
        storage.open_range("t1/r1/report.csv", resolve(start) or 0, resolve(end))
    assert caught.value.status == 416


# -- delete, delete_prefix, list_keys ------------------------------------------------------


def test_delete_is_idempotent(storage: ArtifactStorage, stored: bytes) -> None:
    storage.delete("t1/r1/report.csv")
    assert not storage.exists("t1/r1/report.csv")
    storage.delete("t1/r1/report.csv")
    storage.delete("never/was")
    with pytest.raises(ArtifactNotFound):
        storage.open_range("t1/r1/report.csv")


def _put_many(storage: ArtifactStorage, tmp_path: Path, keys: list[str]) -> None:
    source = write(tmp_path, b"data")
    for key in keys:
        storage.put_file(key, source)


def test_list_keys_is_sorted_string_prefix(storage: ArtifactStorage, tmp_path: Path) -> None:
    keys = ["a/2", "a/1", "a/b/3", "ab/4", "b/5"]
    _put_many(storage, tmp_path, keys)
    assert storage.list_keys() == sorted(keys)
    assert storage.list_keys("a/") == ["a/1", "a/2", "a/b/3"]
    assert storage.list_keys("a") == ["a/1", "a/2", "a/b/3", "ab/4"]
    assert storage.list_keys("a/b") == ["a/b/3"]
    assert storage.list_keys("c/") == []


def test_delete_prefix(storage: ArtifactStorage, tmp_path: Path) -> None:
    _put_many(storage, tmp_path, ["a/1", "a/2", "a/b/3", "ab/4"])
    assert storage.delete_prefix("a/") == 3
    assert storage.list_keys() == ["ab/4"]
    assert storage.delete_prefix("a/") == 0
    with pytest.raises(InvalidKeyError):
        storage.delete_prefix("")


@pytest.mark.parametrize(
    "key",
    ["", "/abs", "../up", "a/../b", "a/./b", "a\\b", "a//b", "a/", ".tmp/x", "a\x00b", "x" * 1025],
)
def test_bad_keys_are_refused_clearly(storage: ArtifactStorage, key: str) -> None:
    with pytest.raises(InvalidKeyError, match="storage key"):
        storage.exists(key)
    with pytest.raises(InvalidKeyError):
        storage.delete(key)


@pytest.mark.parametrize("prefix", ["/abs", "../", "a/../", "a\\"])
def test_bad_prefixes_are_refused(storage: ArtifactStorage, prefix: str) -> None:
    with pytest.raises(InvalidKeyError, match="storage prefix"):
        storage.list_keys(prefix)


# -- local paths and presigned links -------------------------------------------------------


def test_local_path_only_where_there_is_a_file(
    storage: ArtifactStorage, stored: bytes, settings: dict[str, Any]
) -> None:
    path = storage.local_path("t1/r1/report.csv")
    if settings["type"] == "local":
        assert path is not None
        assert path.read_bytes() == stored
        with pytest.raises(ArtifactNotFound):
            storage.local_path("t1/missing")
    else:
        assert path is None


def _presign(storage: ArtifactStorage, key: str, expires_in: int = 60) -> str | None:
    return storage.presigned_url(
        key,
        filename="Orders r\u00e9sum\u00e9-2026-01-02.csv",
        mime_type="text/csv",
        expires_in=expires_in,
    )


def test_presigned_url_downloads_with_name_and_type(
    storage: ArtifactStorage, stored: bytes, settings: dict[str, Any]
) -> None:
    url = _presign(storage, "t1/r1/report.csv")
    if settings["type"] != "s3":
        assert url is None
        return
    assert url is not None
    assert urlsplit(url).hostname == "127.0.0.1"
    with httpx.Client(trust_env=False) as http:
        response = http.get(url)
        ranged = http.get(url, headers={"Range": "bytes=10-19"})
    assert response.status_code == 200
    assert response.content == stored
    assert response.headers["content-type"].startswith("text/csv")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''Orders%20r%C3%A9sum%C3%A9-2026-01-02.csv" in disposition
    assert ranged.status_code == 206
    assert ranged.content == stored[10:20]


def _tamper(url: str, param: str) -> str:
    """Change the last digit of one query parameter's raw value, leaving the rest intact."""
    head, _, rest = url.partition(f"{param}=")
    value, amp, tail = rest.partition("&")
    i = max(i for i, ch in enumerate(value) if ch.isdigit())
    changed = value[:i] + str((int(value[i]) + 1) % 10) + value[i + 1 :]
    return f"{head}{param}={changed}{amp}{tail}"


@pytest.mark.parametrize(
    "param",
    ["X-Amz-Signature", "X-Amz-Expires", "X-Amz-Date", "response-content-type"],
)
def test_tampered_presigned_url_is_rejected(
    storage: ArtifactStorage, stored: bytes, settings: dict[str, Any], param: str
) -> None:
    if settings["type"] != "s3":
        pytest.skip("only S3 hands out presigned URLs; reportd's own links: test_signing")
    url = _presign(storage, "t1/r1/report.csv")
    assert url is not None
    with httpx.Client(trust_env=False) as http:
        assert http.get(url).status_code == 200
        assert http.get(_tamper(url, param)).status_code == 403
        other_key = url.replace("/t1/r1/report.csv", "/t1/r1/report.csx")
        assert http.get(other_key).status_code == 403


def test_expired_presigned_url_is_rejected(
    storage: ArtifactStorage, stored: bytes, settings: dict[str, Any]
) -> None:
    if settings["type"] != "s3":
        pytest.skip("only S3 hands out presigned URLs")
    url = _presign(storage, "t1/r1/report.csv", expires_in=1)
    assert url is not None
    time.sleep(2.2)
    with httpx.Client(trust_env=False) as http:
        assert http.get(url).status_code == 403


# -- atomicity -----------------------------------------------------------------------------


class SourceBrokeError(Exception):
    """Raised by a source file that fails halfway through being read."""


class _FailingReader(io.RawIOBase):
    """A file that reads normally up to ``fail_after`` bytes, then raises."""

    def __init__(self, inner: io.BufferedReader, fail_after: int) -> None:
        super().__init__()
        self._inner = inner
        self._fail_after = fail_after

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._inner.seekable()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._inner.seek(offset, whence)

    def tell(self) -> int:
        return self._inner.tell()

    def readinto(self, buffer: Any) -> int:
        if self._inner.tell() + len(buffer) > self._fail_after:
            raise SourceBrokeError("disk error halfway through the source")
        return self._inner.readinto(buffer)

    def close(self) -> None:
        self._inner.close()
        super().close()


def failing_source(path: Path, fail_after: int) -> Path:
    """``path``, but opening it gives a file that breaks after ``fail_after`` bytes."""

    class FailingPath(type(path)):  # type: ignore[misc]
        def open(self, *args: Any, **kwargs: Any) -> Any:
            return io.BufferedReader(_FailingReader(super().open("rb"), fail_after), 64 * 1024)

    return FailingPath(path)


def test_failed_put_leaves_nothing(
    storage: ArtifactStorage, settings: dict[str, Any], tmp_path: Path
) -> None:
    """The source breaks after 1.5 parts: for S3 a multipart upload was begun and a part
    possibly sent; it must be aborted, and nothing visible under the key."""
    source = write(tmp_path, os.urandom(3 * PART))
    with pytest.raises(SourceBrokeError):
        storage.put_file("t1/r2/report.csv", failing_source(source, PART + PART // 2))
    assert not storage.exists("t1/r2/report.csv")
    assert storage.list_keys() == []
    _assert_no_leftovers(storage, settings)


def test_failed_overwrite_keeps_old_object(
    storage: ArtifactStorage, stored: bytes, tmp_path: Path
) -> None:
    source = write(tmp_path, os.urandom(3 * PART), "new.bin")
    with pytest.raises(SourceBrokeError):
        storage.put_file("t1/r1/report.csv", failing_source(source, PART + PART // 2))
    assert read_all(storage, "t1/r1/report.csv") == stored


def _assert_no_leftovers(storage: ArtifactStorage, settings: dict[str, Any]) -> None:
    if isinstance(storage, LocalStorage):
        assert list((storage.root / ".tmp").iterdir()) == []
    if settings["type"] == "s3":
        uploads = storage.client.list_multipart_uploads(  # type: ignore[attr-defined]
            Bucket=settings["bucket"], Prefix=settings["prefix"]
        )
        assert uploads.get("Uploads", []) == []


def test_readers_never_see_a_partial_object(storage: ArtifactStorage, tmp_path: Path) -> None:
    """A writer keeps replacing the object with one of two versions of different sizes;
    every read sees one of them whole."""
    versions = [b"A" * (256 * 1024), b"B" * (64 * 1024 + 1)]
    sources = [write(tmp_path, data, f"v{i}") for i, data in enumerate(versions)]
    storage.put_file("t1/r3/live", sources[0])
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for i in range(10_000):
                if stop.is_set():
                    return
                storage.put_file("t1/r3/live", sources[i % 2])
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        deadline = time.monotonic() + 1.5
        reads = 0
        while time.monotonic() < deadline:
            assert read_all(storage, "t1/r3/live") in versions
            reads += 1
    finally:
        stop.set()
        thread.join()
    assert not errors
    assert reads > 0


# -- a killed upload -----------------------------------------------------------------------

_CHILD = """
import json, sys
from pathlib import Path
from reportd.adapters.storage import build_storage
storage = build_storage("main", json.loads(sys.argv[1]))
storage.put_file("t1/r4/killed.csv", Path(sys.argv[2]))
"""


def _in_flight(storage: ArtifactStorage, settings: dict[str, Any]) -> bool:
    if isinstance(storage, LocalStorage):
        tmp = storage.root / ".tmp"
        return tmp.is_dir() and any(p.stat().st_size > 0 for p in tmp.iterdir())
    uploads = storage.client.list_multipart_uploads(  # type: ignore[attr-defined]
        Bucket=settings["bucket"], Prefix=settings["prefix"]
    )
    return bool(uploads.get("Uploads"))


def test_killed_upload_leaves_nothing_visible(
    storage: ArtifactStorage, settings: dict[str, Any], tmp_path: Path
) -> None:
    """A process SIGKILLed mid-upload leaves nothing under the key; what it did leave
    (a temp file, an open multipart upload) is found and removed by purge_incomplete."""
    if isinstance(storage, MemoryStorage):
        pytest.skip("the in-memory fake lives and dies with its process")
    fifo = tmp_path / "source.fifo"
    os.mkfifo(fifo)
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, __import__("json").dumps(settings), str(fifo)],
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        with fifo.open("wb") as feed:
            feed.write(os.urandom(PART + MiB))  # the first part is complete: S3 sends it
            feed.flush()
            deadline = time.monotonic() + 20
            while not _in_flight(storage, settings):
                assert time.monotonic() < deadline, "the upload never started"
                time.sleep(0.1)
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=10)
    except BrokenPipeError:
        pass
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert not storage.exists("t1/r4/killed.csv")
    assert storage.list_keys() == []
    assert storage.purge_incomplete(older_than=3600) == 0  # young leftovers may be live
    assert storage.purge_incomplete(older_than=0) >= 1
    assert not _in_flight(storage, settings)


# -- health, registry ----------------------------------------------------------------------


def test_check_passes_on_a_working_storage(storage: ArtifactStorage) -> None:
    storage.check()


def test_check_fails_when_unusable(settings: dict[str, Any], tmp_path: Path) -> None:
    if settings["type"] == "local":
        blocker = write(tmp_path, b"a file where the folder should be", "blocker")
        broken = build_storage("bad", {"type": "local", "path": str(blocker / "sub")})
    elif settings["type"] == "memory":
        broken = MemoryStorage("bad")
        broken.set_available(False)
    else:
        broken = build_storage("bad", {**settings, "secret_access_key": "wrong-secret"})
    with pytest.raises(StorageUnavailable) as caught:
        broken.check()
    assert caught.value.code == "storage_unavailable"
    assert caught.value.status == 503


def test_unreachable_s3_is_unavailable(settings: dict[str, Any]) -> None:
    if settings["type"] != "s3":
        pytest.skip("S3 only: an endpoint nobody listens on")
    from tests.storage_fixtures import free_ports

    dead = build_storage(
        "dead",
        {
            **settings,
            "endpoint_url": f"http://127.0.0.1:{free_ports(1)[0]}",
            "connect_timeout": 1,
            "max_attempts": 1,
        },
    )
    for call in (dead.check, lambda: dead.size("k"), lambda: dead.open_range("k")):
        with pytest.raises(StorageUnavailable):
            call()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"type": "ftp"}, "unknown type 'ftp'"),
        ({"type": "local"}, "needs a 'path'"),
        ({"type": "local", "path": "/x", "bucket": "b"}, "unknown setting"),
        ({"type": "s3", "prefix": "p"}, "needs a 'bucket'"),
        ({"type": "memory", "path": "/x"}, "unknown setting"),
    ],
    ids=["unknown-type", "local-no-path", "local-extra", "s3-no-bucket", "memory-extra"],
)
def test_registry_refuses_bad_settings(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_storage("bad", config)


def test_registry_defaults_to_local_and_ignores_unset(tmp_path: Path) -> None:
    store = build_storage("main", {"path": str(tmp_path), "type": None})
    assert isinstance(store, LocalStorage)
    assert store.root == tmp_path
