"""The README's commands run as written: its marked blocks, in order, in one fresh shell.

A block is marked by the HTML comment just above its fence: ``<!-- docs-test: shell -->``
(bash, run in the same shell as the blocks before it, so ``export KEY=...`` carries on),
``<!-- docs-test: python -->`` (run by the venv's python in that shell, with its variables)
and ``<!-- docs-test: background -->`` (started and left running, as in a second terminal,
until ``/healthz`` answers). They run in an empty folder whose ``.venv`` is this test run's
virtual environment: what a new user has after ``make demo`` or ``make test`` in a clone.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
MARKED = re.compile(r"<!-- docs-test: (\w+) -->\n```(\w+)\n(.*?)\n```", re.S)
URL = "http://127.0.0.1:8000"  # what the README says, as it says it
START_TIMEOUT = 60


def marked_blocks(text: str) -> list[tuple[str, str]]:
    return [(kind, body) for kind, _lang, body in MARKED.findall(text)]


def as_one_script(blocks: list[tuple[str, str]]) -> str:
    """The shell and python blocks as one bash script, as if pasted in order."""
    lines = ["set -euo pipefail"]
    for n, (kind, body) in enumerate(blocks):
        if kind == "shell":
            lines.append(body)
        elif kind == "python":
            lines.append(f".venv/bin/python - <<'README_PY_{n}'\n{body}\nREADME_PY_{n}")
    return "\n".join(lines) + "\n"


def test_every_marked_block_is_a_known_kind() -> None:
    blocks = marked_blocks(README.read_text())
    assert blocks, "the README has no docs-test blocks"
    assert {kind for kind, _ in blocks} <= {"shell", "python", "background"}
    assert [kind for kind, _ in blocks].count("background") == 1


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _wait_up(process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"reportd serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{URL}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    pytest.fail(f"reportd serve did not answer within {START_TIMEOUT}s:\n{log.read_text()}")


@pytest.mark.slow
def test_the_readme_runs_as_written(tmp_path: Path) -> None:
    if not _port_free(8000):
        pytest.fail("port 8000, which the README uses, is taken on this machine")
    blocks = marked_blocks(README.read_text())
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTD_")}
    server_cmd = next(body for kind, body in blocks if kind == "background")
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            server_cmd, shell=True, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        _wait_up(server, log)
        script = tmp_path / "readme.sh"
        script.write_text(as_one_script(blocks))
        done = subprocess.run(
            ["bash", str(script)], cwd=tmp_path, env=env, capture_output=True, timeout=300,
            check=False,
        )  # fmt: skip
        output = done.stdout.decode()
        assert done.returncode == 0, f"{output}\n{done.stderr.decode()}\n{log.read_text()[-3000:]}"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    served = log.read_text()
    assert URL in served and "/console" in served, "serve should print its URL and the console"
    header = (tmp_path / "paid-invoices.csv").read_text().splitlines()[0]
    assert header.startswith("invoice_id,customer")
    assert (tmp_path / "open-invoices.xlsx").read_bytes()[:2] == b"PK"
    outs = sorted(p.suffix for p in (tmp_path / "out").iterdir())
    assert outs == [".csv", ".xlsx"]
    assert str(tmp_path / "out") in output or "out/" in output
