"""The settings' sections: one class per ``[table]`` of ``reportd.toml`` (``[server]``,
``[worker]``, ``[webhooks]``, ...), each checking its own keys; ``reportd.config.Settings``
puts them together.

Import them from ``reportd.config``: this module is where they are written, not a public path.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from reportd.domain.addresses import parse_networks

DIALECTS = ("digicert", "spaceone", "spectra", "pingone", "getbill")


class ServerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = None
    secret: str | None = None
    link_ttl: int = Field(default=300, ge=1, le=7 * 86_400)
    # `reportd serve`: HTTP processes sharing the port (one per core); 1 serves in-process.
    processes: int = Field(default=1, ge=1, le=64)
    # Report worker processes `reportd serve` runs beside N > 1 HTTP processes (None: one,
    # 0: none, e.g. when reportd-worker@ units run them). Ignored with one HTTP process,
    # whose worker slots run inside it (the embedded default).
    worker_processes: int | None = Field(default=None, ge=0, le=64)
    # Seconds open requests (SSE streams too) get to finish on SIGTERM.
    graceful_timeout: float = Field(default=30.0, ge=0, le=3600)
    # /metrics: a bearer token it requires, and/or "HOST:PORT" to serve it there instead of on
    # the API port (HTTP process i listens on PORT + i; see docs/deploy.md).
    metrics_token: str | None = None
    metrics_listen: str | None = None

    @model_validator(mode="after")
    def _check_metrics_listen(self) -> ServerSettings:
        if self.metrics_listen is not None:
            metrics_address(self.metrics_listen)
        return self


class DatabaseSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = None
    pool_size: int = 10


class WorkerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    concurrency: int = Field(default=2, ge=1, le=64)
    lease_seconds: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=3, ge=1)
    poll_interval: float = Field(default=0.5, gt=0)
    batch_size: int = Field(default=65_536, ge=1)
    duckdb_threads: int = Field(default=2, ge=1)
    # DuckDB's buffer cache fills up to this; it is most of a worker's memory on big exports
    # (docs/performance.md). Sorts and joins larger than it spill to a temporary directory.
    duckdb_memory_limit: str = "64MB"
    zip_compresslevel: int = Field(default=1, ge=0, le=9)
    # Where each process keeps a run's partial files and DuckDB's spill, one folder per
    # process (reportd.adapters.scratch); None: <data_dir>/tmp. Not the system temp folder:
    # those files are tenants' data, and a killed process's are removed at the next start.
    temp_dir: Path | None = None
    # `reportd worker` serves its own Prometheus metrics here when set (docs/deploy.md).
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"


class SourceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    url: str


class WebhookSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    """``[webhooks]``: the delay before each retry (seconds), the POST timeout, the attempt cap,
    and the signing scheme of callbacks and of subscriptions that name none."""

    retry_delays: list[float] = Field(
        default_factory=lambda: [10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0],
        min_length=1,
    )
    timeout: float = Field(default=10.0, gt=0, le=120)
    max_attempts: int = Field(default=10, ge=1, le=100)
    poll_interval: float = Field(default=0.5, gt=0)
    # Reportd-Signature, Standard Webhooks' three headers, or both (docs/webhooks.md).
    signature: Literal["reportd", "standard", "both"] = "both"
    # Networks a webhook, callback or delivery may reach although loopback, private,
    # link-local or reserved ("10.1.2.0/24", "127.0.0.1"): self-hosted internal receivers.
    # Empty: none (docs/security.md). Every outbound request of reportd obeys it.
    allow_private: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_allow_private(self) -> WebhookSettings:
        parse_networks(self.allow_private)  # a ValueError names the bad entry
        return self


class SmtpSettings(BaseModel):
    """``[smtp]``: the operator's mail server, the only one e-mail destinations go through."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    host: str | None = None  # None: e-mail destinations cannot be delivered (and say so)
    port: int = Field(default=587, ge=1, le=65535)
    username: str | None = None
    password: str | None = None
    from_: str = Field(default="reportd@localhost", alias="from")
    starttls: bool = True
    ssl: bool = False  # implicit TLS (port 465) instead of STARTTLS
    timeout: float = Field(default=30.0, gt=0, le=600)
    # A file up to this size is attached; a larger one is sent as a signed link instead.
    max_attachment_bytes: int = Field(default=10 * 1024 * 1024, ge=0)


class DeliverySettings(BaseModel):
    """``[delivery]``: how report deliveries to destinations are tried, and their secrets' keys."""

    model_config = ConfigDict(extra="forbid")

    retry_delays: list[float] = Field(
        default_factory=lambda: [30.0, 120.0, 600.0, 1800.0, 3600.0, 7200.0], min_length=1
    )
    max_attempts: int = Field(default=8, ge=1, le=100)
    timeout: float = Field(default=60.0, gt=0, le=3600)  # one connection's timeout
    poll_interval: float = Field(default=1.0, gt=0)
    # A delivery's lease, renewed every third of it while a file is sent: a worker that dies
    # holding one lets it go this late.
    lease_seconds: float = Field(default=120.0, gt=0)
    link_ttl: int = Field(default=7 * 86_400, ge=60, le=7 * 86_400)  # links in e-mails
    # A webhook destination signs each file whole, in memory: larger files are refused.
    webhook_max_bytes: int = Field(default=100 * 1024 * 1024, ge=1)
    # Fernet keys sealing destination secrets; the first seals, all open (rotation). Empty:
    # one derived from [server] secret.
    secret_keys: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_secret_keys(self) -> DeliverySettings:
        for number, key in enumerate(self.secret_keys, 1):
            try:
                raw = base64.urlsafe_b64decode(key.encode())
            except ValueError:
                raw = b""
            if len(raw) != 32:
                raise ValueError(
                    f"[delivery] secret_keys: key {number} is not a Fernet key (urlsafe base64 "
                    "of 32 bytes; make one with python -c 'from cryptography.fernet import "
                    "Fernet; print(Fernet.generate_key().decode())')"
                )
        return self


class DialectSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: list[str] = Field(default_factory=lambda: list(DIALECTS))
    spectra_template: str = "malware_samples"
    # Seconds a Spectra PDF stays downloadable after its create call (the document's 30 minutes).
    spectra_pdf_ttl: int = Field(default=1800, ge=1)
    # Seconds from a PingOne data exploration's createdAt to its expiresAt (the document's 30 min).
    pingone_expiry: int = Field(default=1800, ge=1)
    # Seconds a getbill download_url lives (getbill documents one hour; [server] link_ttl
    # is the native API's five minutes).
    getbill_link_ttl: int = Field(default=3600, ge=1, le=7 * 86_400)
    # The cipher of PingOne's zips: its pages name none, and its reports are for people to
    # open (Windows Explorer, unzip), so ZipCrypto; "aes256" for recipients that are programs.
    pingone_zip_encryption: Literal["aes256", "zipcrypto"] = "zipcrypto"
    # Seconds a PingOne ``sync: "true"`` create waits for its result before answering.
    pingone_sync_timeout: float = Field(default=60, gt=0, le=600)


class OAuthSettings(BaseModel):
    """``[oauth]``: lifetimes, in seconds, of the tokens reportd hands out (reportd.app.oauth)."""

    model_config = ConfigDict(extra="forbid")

    access_token_ttl: int = Field(default=3600, ge=60, le=86_400)
    refresh_token_ttl: int = Field(default=30 * 86_400, ge=60, le=365 * 86_400)
    user_token_ttl: int = Field(default=3600, ge=60, le=30 * 86_400)


class RateLimitSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    """``[rate_limits]``: requests per window, per tenant and per key; None is unlimited."""

    enabled: bool = False
    window_seconds: int = Field(default=60, ge=1, le=86_400)
    tenant_creates: int | None = Field(default=None, ge=0)
    tenant_reads: int | None = Field(default=None, ge=0)
    key_creates: int | None = Field(default=None, ge=0)
    key_reads: int | None = Field(default=None, ge=0)


class TenantTemplateSettings(BaseModel):
    """``[tenant_templates]``: the operator's limits on templates tenants define (issue 16)."""

    model_config = ConfigDict(extra="forbid")
    max_timeout: int = Field(default=600, ge=1, le=86_400)  # seconds a tenant's report may run
    max_rows: int = Field(default=1_000_000, ge=1)  # rows a tenant's query yields at most
    max_templates: int = Field(default=100, ge=1, le=10_000)  # per tenant
    allow_functions: list[str] = Field(default_factory=list)  # more functions tenants may call


class GrpcSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    """``[grpc]``: the SpaceONE gRPC door (``reportd.entrypoints.grpc``), off unless ``listen``."""

    # "HOST:PORT" (":PORT" is 127.0.0.1, "[::1]:PORT" IPv6; PORT 0 picks a free one).
    listen: str | None = None
    max_workers: int = Field(default=8, ge=1, le=256)  # calls served at once
    grace: float = Field(default=5.0, ge=0, le=3600)  # seconds open calls get on shutdown

    @model_validator(mode="after")
    def _check_listen(self) -> GrpcSettings:
        if self.listen is not None:
            grpc_address(self.listen)
        return self


def metrics_address(listen: str) -> tuple[str, int]:
    """``"HOST:PORT"`` (``[::1]:PORT`` for IPv6) as a host and a port, or a ValueError."""
    host, sep, port = listen.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"metrics_listen must be HOST:PORT, not {listen!r}")
    return host.strip("[]"), int(port)


def grpc_address(listen: str) -> tuple[str, int]:
    """``[grpc] listen`` as a host (127.0.0.1 when left out) and a port (0: any free one)."""
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"[grpc] listen must be HOST:PORT, not {listen!r}")
    return host.strip("[]") or "127.0.0.1", int(port)
