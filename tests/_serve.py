"""Run a real reportd server for the tests, in its own process (see ``server_fixtures.py``).

``python tests/_serve.py serve --config C --data-dir D --workers N --info-file F``
binds 127.0.0.1 on a free port itself (no race between choosing a port and using it),
migrates, creates the tenant and an admin key through the service, writes
``{"url", "admin_key", "tenant", "pid"}`` to ``F`` (atomically) and serves until killed;
with ``[grpc] listen`` set, ``F`` is written once the app has started and adds ``"grpc"``, the
``HOST:PORT`` the gRPC door bound.

``python tests/_serve.py key --config C --data-dir D --tenant T --name N --scopes a,b``
prints a new key for a running server's database (creating the tenant if needed):
the tests make keys the way the CLI does, in a separate process over the same database.

The database URL comes from ``REPORTD_DATABASE__URL`` like any other setting.
``TEST_SERVER_OPERATOR_LOG=1`` makes the log file the JSON operator's log of a real server.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from reportd.bootstrap import App
from reportd.config import Settings, load_settings
from reportd.domain.errors import AlreadyExists

# Set to "1" in a server's environment: its log file gets the JSON log lines (INFO and up) a
# real server writes, for tests that check what the operator's log says.
OPERATOR_LOG = "TEST_SERVER_OPERATOR_LOG"


def _settings(args: argparse.Namespace) -> Settings:
    config = Path(args.config) if args.config else None
    return load_settings(config, data_dir=Path(args.data_dir))


def _ensure_tenant(service: App, tenant: str, features: list[str]) -> None:
    with contextlib.suppress(AlreadyExists):
        service.tenants.create_tenant(tenant, features=features)


def _new_key(service: App, args: argparse.Namespace) -> str:
    _ensure_tenant(service, args.tenant, [f for f in args.features.split(",") if f])
    scopes = [s for s in args.scopes.split(",") if s]
    return service.tenants.create_key(args.tenant, args.name, scopes).secret


def _write_info(path: Path, info: dict[str, Any]) -> None:
    """Write then rename, so the parent never reads half a file."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(info))
    tmp.replace(path)


def serve(args: argparse.Namespace) -> None:
    import uvicorn

    from reportd.bootstrap import build_app
    from reportd.entrypoints.api.app import create_app
    from reportd.obs.logs import configure_logging

    if os.environ.get(OPERATOR_LOG) == "1":  # a test reads what the operator would
        configure_logging()
    settings = _settings(args)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # The bound port, for what builds links from settings (the gRPC door's download URLs,
    # the links in delivery mails).
    settings = settings.model_copy(
        update={"server": settings.server.model_copy(update={"port": port})}
    )
    service = build_app(settings)
    service.migrate()
    secret = _new_key(service, args)
    app = create_app(settings, core=service, workers=args.workers)
    config = uvicorn.Config(app, log_level=args.log_level, lifespan="on")
    info = {"url": f"http://127.0.0.1:{port}", "admin_key": secret, "tenant": args.tenant}
    info_file = Path(args.info_file)
    if settings.grpc.listen is None:
        _write_info(info_file, {**info, "pid": os.getpid()})
    else:
        _write_info_once_started(app, info_file, {**info, "pid": os.getpid()})
    uvicorn.Server(config).run(sockets=[sock])


def _write_info_once_started(app: Any, path: Path, info: dict[str, Any]) -> None:
    """With ``[grpc] listen`` (port 0: any), the info names the port the app's start bound."""
    started = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(running: Any) -> AsyncIterator[Any]:
        async with started(running) as state:
            _write_info(path, {**info, "grpc": running.state.grpc.target})
            yield state

    app.router.lifespan_context = lifespan


def make_key(args: argparse.Namespace) -> None:
    from reportd.bootstrap import build_app

    service = build_app(_settings(args))
    try:
        sys.stdout.write(_new_key(service, args) + "\n")
    finally:
        service.store.close()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("serve", "key"):
        sub = commands.add_parser(name)
        sub.add_argument("--config", default=None)
        sub.add_argument("--data-dir", required=True)
        sub.add_argument("--tenant", default="acme")
        sub.add_argument("--features", default="custom_reports")
        sub.add_argument("--name", default="admin")
        sub.add_argument("--scopes", default="admin")
    serve_cmd = commands.choices["serve"]
    serve_cmd.add_argument("--workers", type=int, default=2)
    serve_cmd.add_argument("--info-file", required=True)
    serve_cmd.add_argument("--log-level", default="warning")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        serve(args)
    else:
        make_key(args)


if __name__ == "__main__":
    main()
