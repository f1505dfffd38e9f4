"""OAuth clients and users for a running test server, made by the real CLI in a subprocess.

``reportd clients create ... --json`` and ``reportd users create ... --password-stdin`` run
exactly as an operator would type them, over the server's own config and database.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.server_fixtures import RunningServer

__all__ = ["cli", "make_client", "make_user"]


def cli(server: RunningServer, *args: str, stdin: str | None = None) -> str:
    """``reportd ARGS --config ... --data-dir ...``; its stdout, or RuntimeError with stderr."""
    command = [
        sys.executable, "-m", "reportd.entrypoints.cli.main", *args,
        "--config", str(server.config_path), "--data-dir", str(server.data_dir),
    ]  # fmt: skip
    done = subprocess.run(
        command, env=server.env, input=stdin, capture_output=True, text=True, timeout=60
    )
    if done.returncode != 0:
        raise RuntimeError(f"reportd {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout


def make_client(
    server: RunningServer, *, tenant: str | None = None, name: str = "oauth-client",
    scopes: str = "reports:read,reports:write,templates:read",
) -> tuple[str, str]:  # fmt: skip
    """(client_id, client_secret) of a new OAuth client."""
    out = cli(
        server, "clients", "create", "--tenant", tenant or server.tenant,
        "--name", name, "--scopes", scopes, "--json",
    )  # fmt: skip
    body = json.loads(out)
    assert set(body) == {"client_id", "client_secret"}
    return body["client_id"], body["client_secret"]


def make_user(
    server: RunningServer, username: str, password: str, *, tenant: str | None = None,
    scopes: str = "reports:read,reports:write",
) -> str:  # fmt: skip
    """A new user's id; the password goes in on standard input."""
    out = cli(
        server, "users", "create", "--tenant", tenant or server.tenant,
        "--username", username, "--scopes", scopes, "--password-stdin",
        stdin=password + "\n",
    )  # fmt: skip
    return out.strip()
