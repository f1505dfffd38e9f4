"""The gRPC server: the Report door, health checking and server reflection on ``[grpc] listen``.

It runs on grpcio's own threads beside the HTTP server, in the same process and over the same
use cases (``reportd.bootstrap.App``), started and stopped by the HTTP app's lifespan
(``entrypoints/api/app.py``), so ``reportd serve`` serves both and a SIGTERM ends both: health
turns NOT_SERVING, new calls are refused, open ones get ``[grpc] grace`` seconds, then the use
cases close.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from reportd.bootstrap import App
from reportd.config import Settings, grpc_address
from reportd.domain.errors import ValidationError
from reportd.entrypoints.grpc.descriptors import REPORT_SERVICE, pool
from reportd.entrypoints.grpc.report import ReportDoor

__all__ = ["GrpcServer", "http_base_url", "start_grpc"]

log = logging.getLogger("reportd.entrypoints.grpc")

# What reflection lists: the SpaceONE service only, as SpaceONE's own servers list theirs.
# spaceone.core's client imports a local ``<package>.<file>_pb2_grpc`` for every listed
# service, so listing grpc.health.v1.Health would make spacectl fail before any call. Health
# and reflection are still served, and reflection still describes them by name.
LISTED_SERVICES = (REPORT_SERVICE,)


@dataclass
class GrpcServer:
    """A started gRPC server; ``port`` is the one bound (useful with ``:0``)."""

    server: Any
    health: Any
    host: str
    port: int
    grace: float

    @property
    def target(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def stop(self) -> None:
        """NOT_SERVING first (load balancers drain), then refuse new calls, end open ones."""
        self.health.enter_graceful_shutdown()
        self.server.stop(self.grace).wait()
        log.info("gRPC stopped", extra={"action": "grpc_stop", "port": self.port})


def http_base_url(settings: Settings) -> str:
    """Where download links of a local storage point: ``public_url``, else the HTTP bind."""
    return settings.http_base_url()


def start_grpc(
    settings: Settings,
    core: App,
    *,
    base_url: str | None = None,
) -> GrpcServer:
    """Bind ``[grpc] listen`` and start serving; a ValidationError if the address is refused."""
    config = settings.grpc
    if config.listen is None:
        raise ValidationError("[grpc] listen is not set")
    host, port = grpc_address(config.listen)
    door = ReportDoor(core, base_url=base_url or http_base_url(settings))
    executor = ThreadPoolExecutor(max_workers=config.max_workers, thread_name_prefix="reportd-grpc")
    server = grpc.server(executor, handlers=(door.handler(),))
    checks = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(checks, server)
    reflection.enable_server_reflection(LISTED_SERVICES, server, pool=pool())
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        bound = server.add_insecure_port(address)
    except RuntimeError as exc:  # grpcio raises when it cannot bind
        raise ValidationError(f"[grpc] listen {config.listen}: cannot bind ({exc})") from exc
    server.start()
    for name in ("", REPORT_SERVICE):
        checks.set(name, health_pb2.HealthCheckResponse.SERVING)
    log.info("gRPC serving", extra={"action": "grpc_start", "host": host, "port": bound})
    return GrpcServer(server=server, health=checks, host=host, port=bound, grace=config.grace)
