"""spacectl, SpaceONE's own CLI, in a virtual environment of its own, made once per machine.

``spacectl_venv()`` returns the folder of a venv holding ``spacectl==2.0.10`` with
``spaceone-api`` and, from ``spaceone-api==1.5.3`` (its last release with them), the
``spaceone/api/report/`` modules: spaceone.core's client imports a local
``spaceone.api.report.v1.report_pb2_grpc`` for the service reflection lists, and current
spaceone-api releases no longer carry it. Those 1.5.3 modules were generated for protobuf 3:
they import under current protobuf only with ``PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python``,
which ``SPACECTL_ENV`` sets. Every file is the vendor's, unchanged.

The venv lives outside the repository, under ``$REPORTD_TEST_CACHE`` (default
``~/.cache/reportd-tests``), in a folder named after the versions, so it is built once per
machine (about a minute, from PyPI) and rebuilt only when a version here changes. A file lock
keeps two test runs from building it at once; ``.complete`` is written last, so a half-built
venv is never used. Without PyPI the spacectl tests skip, except in CI, where they fail.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from pathlib import Path

import pytest

from tests.conftest import IN_CI

SPACECTL = "spacectl==2.0.10"
SPACEONE_API = "spaceone-api==2.0.435"  # what `pip install spaceone-api` gave; pinned for the key
REPORT_MODULES = "spaceone-api==1.5.3"
SPACECTL_ENV = {"PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION": "python"}
BUILD_TIMEOUT = 900


def cache_root() -> Path:
    configured = os.environ.get("REPORTD_TEST_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "reportd-tests"


def venv_name() -> str:
    python = f"py{sys.version_info.major}{sys.version_info.minor}"
    parts = [SPACECTL, SPACEONE_API, f"report-{REPORT_MODULES}", python]
    return "_".join(p.replace("==", "-") for p in parts)


def spacectl_venv() -> Path:
    """The built venv (building it first if needed); skips, or fails in CI, if it cannot."""
    root = cache_root()
    target = root / venv_name()
    if (target / ".complete").exists():
        return target
    root.mkdir(parents=True, exist_ok=True)
    with (root / f"{venv_name()}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / ".complete").exists():
            try:
                _build(target)
            except (subprocess.SubprocessError, OSError) as exc:
                shutil.rmtree(target, ignore_errors=True)
                message = f"cannot build spacectl's venv in {target}: {exc}"
                if IN_CI:
                    pytest.fail(message)
                pytest.skip(message)
    return target


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    if done.returncode != 0:
        raise subprocess.SubprocessError(f"{' '.join(command)}: {done.stderr[-3000:]}")


def _build(target: Path) -> None:
    shutil.rmtree(target, ignore_errors=True)  # a build that died half-way
    base = getattr(sys, "_base_executable", sys.executable)
    _run([base, "-m", "venv", str(target)])
    python = str(target / "bin" / "python")
    quiet = ["--quiet", "--disable-pip-version-check"]
    _run([python, "-m", "pip", "install", *quiet, SPACECTL, SPACEONE_API])
    with tempfile.TemporaryDirectory() as wheels:
        download = [python, "-m", "pip", "download", *quiet, "--no-deps", "-d", wheels]
        _run([*download, REPORT_MODULES])
        [wheel] = Path(wheels).glob("*.whl")
        _install_report_modules(wheel, _site_packages(python))
    (target / ".complete").write_text(f"{SPACECTL} {SPACEONE_API} {REPORT_MODULES}\n")


def _site_packages(python: str) -> Path:
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    done = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
    return Path(done.stdout.strip() or sysconfig.get_paths()["purelib"])


def _install_report_modules(wheel: Path, site_packages: Path) -> None:
    """``spaceone/api/report/**`` of the 1.5.3 wheel, as they are, into spaceone/api/."""
    with zipfile.ZipFile(wheel) as archive:
        members = [n for n in archive.namelist() if n.startswith("spaceone/api/report/")]
        if not members:
            raise OSError(f"{wheel.name} holds no spaceone/api/report/")
        archive.extractall(site_packages, members)
