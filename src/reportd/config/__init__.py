"""Configuration: ``reportd.toml`` overridden by ``REPORTD_*`` variables, checked at start-up.

Precedence, highest first: explicit overrides (CLI flags), environment variables
(``REPORTD_SERVER__PORT``, ``REPORTD_DATABASE__URL``, ...), the TOML file, defaults.
The embedded default needs no file at all: SQLite, local storage and a signing secret
generated once, all under ``data_dir``. Each ``[table]``'s own checks are in ``sections.py``.
"""

from __future__ import annotations

import ipaddress
import secrets
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from reportd.config.sections import (
    DIALECTS,
    DatabaseSettings,
    DeliverySettings,
    DialectSettings,
    GrpcSettings,
    OAuthSettings,
    RateLimitSettings,
    ServerSettings,
    SmtpSettings,
    SourceSettings,
    TenantTemplateSettings,
    WebhookSettings,
    WorkerSettings,
    grpc_address,
    metrics_address,
)
from reportd.domain.errors import ValidationError

__all__ = [
    "DIALECTS",
    "DatabaseSettings",
    "DeliverySettings",
    "DialectSettings",
    "GrpcSettings",
    "OAuthSettings",
    "RateLimitSettings",
    "ServerSettings",
    "Settings",
    "SmtpSettings",
    "SourceSettings",
    "TenantTemplateSettings",
    "WebhookSettings",
    "WorkerSettings",
    "grpc_address",
    "load_settings",
    "metrics_address",
]

_toml_data: ContextVar[dict[str, Any] | None] = ContextVar("reportd_toml_data", default=None)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="REPORTD_", env_nested_delimiter="__", extra="forbid"
    )

    data_dir: Path = Path("reportd-data")
    server: ServerSettings = ServerSettings()
    database: DatabaseSettings = DatabaseSettings()
    storage: dict[str, dict[str, Any]] = Field(default_factory=dict)
    default_storage: str = "default"
    worker: WorkerSettings = WorkerSettings()
    sources: list[SourceSettings] = Field(default_factory=list)
    templates_dir: Path | None = None
    dialects: DialectSettings = DialectSettings()
    webhooks: WebhookSettings = WebhookSettings()
    rate_limits: RateLimitSettings = RateLimitSettings()
    grpc: GrpcSettings = GrpcSettings()
    oauth: OAuthSettings = OAuthSettings()
    smtp: SmtpSettings = SmtpSettings()
    delivery: DeliverySettings = DeliverySettings()
    tenant_templates: TenantTemplateSettings = TenantTemplateSettings()
    demo: bool | None = None  # None: load the demo when nothing else is configured

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlSource(settings_cls))

    @model_validator(mode="after")
    def _check_dialects(self) -> Settings:
        unknown = set(self.dialects.enabled) - set(DIALECTS)
        if unknown:
            raise ValueError(f"unknown dialects {sorted(unknown)}; known: {list(DIALECTS)}")
        return self

    # Derived values: the embedded default fills in whatever the file leaves out.

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{(self.data_dir / 'reportd.db').resolve()}"

    @property
    def scratch_root(self) -> Path:
        return (self.worker.temp_dir or self.data_dir / "tmp").resolve()

    @property
    def demo_enabled(self) -> bool:
        if self.demo is not None:
            return self.demo
        return not self.sources and self.templates_dir is None

    def storage_settings(self) -> dict[str, dict[str, Any]]:
        configured = {name: dict(value) for name, value in self.storage.items()}
        if self.default_storage not in configured:
            configured[self.default_storage] = {
                "type": "local",
                "path": str(self.data_dir / "artifacts"),
            }
        return configured

    def all_sources(self) -> list[SourceSettings]:
        sources = list(self.sources)
        if self.demo_enabled and not any(s.name == "demo" for s in sources):
            demo_path = (self.data_dir / "demo.duckdb").resolve()
            sources.append(SourceSettings(name="demo", url=f"duckdb:///{demo_path}"))
        return sources

    def template_dirs(self) -> list[Path]:
        dirs: list[Path] = []
        if self.templates_dir is not None:
            dirs.append(self.templates_dir)
        if self.demo_enabled:
            dirs.append(Path(__file__).parent.parent / "entrypoints" / "demo" / "templates")
        return dirs

    def signing_secret(self) -> str:
        """The configured secret, or one generated once and kept in ``data_dir``."""
        if self.server.secret:
            return self.server.secret
        path = self.data_dir / "secret"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(32)
        path.touch(mode=0o600)
        path.write_text(value)
        return value

    def http_base_url(self) -> str:
        """Where links to this server point: ``public_url``, else the HTTP bind."""
        server = self.server
        if server.public_url:
            return server.public_url.rstrip("/")
        host = server.host
        if host in ("0.0.0.0", "::", ""):  # every address: loopback is one
            host = "127.0.0.1"
        return f"http://[{host}]:{server.port}" if ":" in host else f"http://{host}:{server.port}"

    def check_safe_to_serve(self) -> None:
        """Refuse a public bind that would sign links with a secret nobody chose."""
        if not self.server.secret and not _is_loopback(self.server.host):
            raise ValidationError(
                f"refusing to listen on {self.server.host} without [server] secret: "
                "set REPORTD_SERVER__SECRET or bind to 127.0.0.1"
            )
        if self.grpc.listen and not self.server.secret:
            host = grpc_address(self.grpc.listen)[0]
            if not _is_loopback(host):
                raise ValidationError(
                    f"refusing gRPC on {host} without [server] secret: "
                    "set REPORTD_SERVER__SECRET or bind [grpc] listen to 127.0.0.1"
                )


class _TomlSource(PydanticBaseSettingsSource):
    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return (_toml_data.get() or {}).get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(_toml_data.get() or {})


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """Read the TOML file (if any), then environment, then ``overrides`` on top."""
    data: dict[str, Any] = {}
    if config is not None:
        try:
            data = tomllib.loads(Path(config).read_text())
        except FileNotFoundError as exc:
            raise ValidationError(f"config file {config} does not exist") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ValidationError(f"config file {config} is not valid TOML: {exc}") from exc
        base = Path(config).resolve().parent
        data = _resolve_relative_paths(data, base)
    token = _toml_data.set(data)
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    finally:
        _toml_data.reset(token)


def _resolve_relative_paths(data: dict[str, Any], base: Path) -> dict[str, Any]:
    """Paths in a config file are relative to the file, not to the working directory."""
    out = dict(data)
    for key in ("data_dir", "templates_dir"):
        if key in out and not Path(out[key]).is_absolute():
            out[key] = str(base / out[key])
    if isinstance(out.get("storage"), dict):
        out["storage"] = {
            name: _resolve_storage(dict(conf), base) for name, conf in out["storage"].items()
        }
    if isinstance(out.get("sources"), list):
        out["sources"] = [_resolve_source(dict(s), base) for s in out["sources"]]
    return out


def _resolve_storage(storage: dict[str, Any], base: Path) -> dict[str, Any]:
    path = storage.get("path")
    if isinstance(path, str) and not Path(path).is_absolute():
        storage["path"] = str(base / path)
    return storage


def _resolve_source(source: dict[str, Any], base: Path) -> dict[str, Any]:
    url = str(source.get("url", ""))
    for scheme in ("duckdb:///", "sqlite:///"):
        if url.startswith(scheme):
            path = url.removeprefix(scheme)
            if path and not path.startswith("/") and path != ":memory:":
                source["url"] = f"{scheme}{(base / path).resolve()}"
    return source
