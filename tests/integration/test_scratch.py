"""Issue 11, failure 7: ``kill -9`` leaves no tenant data behind, on SQLite and PostgreSQL.

A worker killed mid-report used to leave its partial CSV/JSON/NDJSON (57 MB in the report)
in the system temp folder, and DuckDB's spill folder, for good. Now every process works in
its own folder under ``<data_dir>/tmp`` (reportd.adapters.scratch): the next process to
start removes a dead one's folder, and each attempt's files go when the attempt ends.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx

from reportd.adapters.scratch import Scratch
from reportd.adapters.sources.duckdb import DuckDBSource
from tests.integration.test_reports_api import create, wait_final
from tests.integration.test_worker_faults import _worker, wait_rows
from tests.server_fixtures import start_server


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def test_nothing_of_a_killed_attempt_remains_after_the_retry(
    tmp_path: Path, database_url: str
) -> None:
    db = None if database_url.startswith("sqlite") else database_url
    system_tmp = tmp_path / "system-tmp"  # the worker's TMPDIR: nothing may land there
    system_tmp.mkdir()
    env = {"REPORTD_WORKER__LEASE_SECONDS": "1", "TMPDIR": str(system_tmp)}
    with start_server(tmp_path, workers=0, database_url=db, env=env) as server:
        scratch = server.data_dir / "tmp"
        headers = {"Authorization": f"Bearer {server.admin_key}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as api:
            formats = ["csv", "ndjson"]
            report = create(api, template_id="slow", formats=formats, options={"rows": 3_000_000})
            first = _worker(server)
            try:
                wait_rows(api, report["id"])
                partial = [p for p in files_under(scratch) if report["id"] in str(p)]
            finally:
                os.kill(first.pid, signal.SIGKILL)
                first.wait()
            assert partial, "the attempt wrote no partial file in the scratch folder"
            killed = {p.relative_to(scratch).parts[0] for p in partial}
            assert all(f"-{first.pid}-" in name for name in killed)
            second = _worker(server)
            try:
                final = wait_final(api, report["id"], timeout=180)
            finally:
                second.send_signal(signal.SIGTERM)
                second.wait(30)
        assert final["state"] == "FINISHED", final
        for name in killed:  # swept when the second worker started
            assert not (scratch / name).exists()
        # Only the living (the API process) keep a folder, and it holds its lock file alone.
        assert [p.name for p in files_under(scratch)] == [".lock"]
        assert not any(report["id"] in str(p) for p in scratch.rglob("*"))
        assert list(system_tmp.iterdir()) == []


def test_a_scratch_folder_is_swept_once_its_process_is_gone(tmp_path: Path) -> None:
    """The lock, not the PID, says who is alive: a live folder is never swept."""
    root = tmp_path / "scratch"
    mine = Scratch.open(root)
    (mine.runs / "partial.csv").write_text("a,b\n")
    other = Scratch.open(root)  # a second process on the same root: mine is alive
    assert (mine.runs / "partial.csv").exists()
    mine.close()
    assert not mine.path.exists()
    stale = root / "somehost-1-abcdef"  # a dead process' folder: its lock is free
    (stale / "runs").mkdir(parents=True)
    (stale / ".lock").touch()
    (stale / "runs" / "partial.ndjson").write_text("{}\n")
    third = Scratch.open(root)
    assert not stale.exists()
    assert sorted(p.name for p in root.iterdir()) == sorted([other.path.name, third.path.name])
    other.close()
    third.close()
    assert list(root.iterdir()) == []


def test_duckdb_spills_into_the_process_scratch_folder(tmp_path: Path) -> None:
    scratch = Scratch.open(tmp_path / "scratch")
    source = DuckDBSource("shop", None, temp_dir=scratch.duckdb)
    try:
        cursor = source.cursor()
        [(setting,)] = cursor.sql("SELECT current_setting('temp_directory')").fetchall()
        cursor.close()
    finally:
        source.close()
        scratch.close()
    assert Path(setting) == scratch.duckdb / "shop"
