"""A resumable download, without I/O: where the bytes go, the next request, the checksum.

The bytes go to a temp file beside the target; when the connection breaks the next request
asks for the rest with ``Range``/``If-Range``; the file is renamed into place only once its
sha256 matches the artifact's. The clients only stream the responses into it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

import httpx

from reportd.sdk.call import Call
from reportd.sdk.errors import ChecksumMismatch

DOWNLOAD_ATTEMPTS = 6  # the first try and five resumes

BytesCallback = Callable[[int, int], None]
"""Called with (bytes so far, total bytes) while a file downloads."""


@dataclass
class Download:
    """One file on its way to ``target``: a temp file beside it, resumed with ``Range``.

    A context manager: leaving it removes the temp file if ``finish`` did not move it.
    """

    call: Call[None]
    target: Path
    temp: Path
    sha256: str
    size: int
    done: int = 0
    hasher: Any = field(default_factory=hashlib.sha256)

    @classmethod
    def start(
        cls, call: Call[None], dest: str | os.PathLike[str], link: dict[str, Any]
    ) -> Download:
        filename = Path(str(link["filename"])).name  # never a path from the server
        # A folder: one that exists, or a name ending in a separator ("out/"), made if missing.
        folder = os.fspath(dest).endswith(("/", os.sep)) or Path(dest).is_dir()
        target = Path(dest) / filename if folder else Path(dest)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".part"
        )
        os.close(handle)
        os.chmod(temp, 0o644)  # mkstemp makes it private; a downloaded report is an ordinary file
        return cls(call, target, Path(temp), str(link["sha256"]), int(link["file_size"]))

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.temp.unlink(missing_ok=True)

    def request(self) -> Call[None]:
        """The next request: from where the last one broke off, if anywhere."""
        if not self.done:
            return self.call
        headers = {"Range": f"bytes={self.done}-", "If-Range": f'"{self.sha256}"'}
        return replace(self.call, headers=headers)

    def open(self, response: httpx.Response) -> IO[bytes]:
        """Append on a matching 206; anything else is the whole file again."""
        content_range = response.headers.get("content-range", "")
        if response.status_code == 206 and content_range.startswith(f"bytes {self.done}-"):
            return self.temp.open("ab")
        self.done, self.hasher = 0, hashlib.sha256()
        return self.temp.open("wb")

    def write(self, handle: IO[bytes], chunk: bytes, on_progress: BytesCallback | None) -> None:
        handle.write(chunk)
        self.hasher.update(chunk)
        self.done += len(chunk)
        if on_progress is not None:
            on_progress(self.done, self.size)

    def finish(self) -> Path:
        """The target, once the bytes are checked; ``ChecksumMismatch`` if they differ."""
        digest = self.hasher.hexdigest()
        if digest != self.sha256:
            raise ChecksumMismatch(
                f"{self.target.name}: sha256 {digest} != {self.sha256}",
                details={"expected": self.sha256, "actual": digest, "bytes": self.done},
            )
        self.temp.replace(self.target)
        return self.target
