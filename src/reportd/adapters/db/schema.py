"""The metadata schema (SQLAlchemy Core). Alembic migrations create it; this is the reference."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in, timezone-aware UTC out, on SQLite (naive storage) too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


metadata = MetaData()

tenants = Table(
    "tenants",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("features", JSON, nullable=False, default=list),
    Column("created_at", UTCDateTime, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(64), ForeignKey("tenants.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("scopes", JSON, nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

oauth_clients = Table(
    "oauth_clients",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(64), ForeignKey("tenants.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("scopes", JSON, nullable=False),
    Column("secret_hash", String(200), nullable=False),
    Column("version", Integer, nullable=False, default=1),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

users = Table(
    "users",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(64), ForeignKey("tenants.id"), nullable=False, index=True),
    Column("username", String(150), nullable=False, unique=True),
    Column("scopes", JSON, nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("version", Integer, nullable=False, default=1),
    Column("created_at", UTCDateTime, nullable=False),
    Column("disabled_at", UTCDateTime),
)

reports = Table(
    "reports",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("template_id", String(100), nullable=False),
    Column("name", String(300), nullable=False),
    Column("state", String(16), nullable=False),
    Column("options", JSON, nullable=False),
    Column("fields", JSON, nullable=False),
    Column("filter", Text),
    Column("order_by", JSON, nullable=False),
    Column("formats", JSON, nullable=False),
    Column("packaging", String(8), nullable=False),
    Column("zip_password", String(200)),
    Column("zip_encryption", String(16)),  # None: aes256 (reports made before 0005)
    Column("storage_id", String(64), nullable=False),
    Column("rows", BigInteger, nullable=False, default=0),
    Column("total_rows", BigInteger),
    Column("created_by", String(200)),
    Column("created_by_id", String(64)),  # the key, client or user id (0005)
    Column("schedule_id", String(36)),
    Column("callback_url", Text),
    Column("expires_in", Integer),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime),
    Column("finished_at", UTCDateTime),
    Column("expires_at", UTCDateTime),
    Column("error_code", String(64)),
    Column("error_message", Text),
    Column("attempts", Integer, nullable=False, default=0),
    Column("cancel_requested", Boolean, nullable=False, default=False),
    Column("lease_owner", String(100)),
    Column("lease_expires_at", UTCDateTime),
    Column("scheduled_for", UTCDateTime),  # the cron firing this report was made for
    Column("dedup_key", String(64)),  # sha256 of what makes two requests the same report
    Column("notified_state", String(16)),  # last final state turned into webhook deliveries
    Column("subject", String(200)),  # the entity a per-subject report is about (a sample hash)
    Column("data_key", String(800)),  # storage key of the kept rows (template keep_data)
    Column("destinations", JSON),  # ids of the destinations it is delivered to (0008)
    Column("template_version", Integer),  # the tenant template's version it ran (0009)
    Index("ix_reports_queue", "state", "created_at"),
    Index("ix_reports_tenant_created", "tenant_id", "created_at", "id"),
    Index("ix_reports_schedule", "schedule_id"),
    Index("ux_reports_firing", "schedule_id", "scheduled_for", unique=True),
    Index("ix_reports_dedup", "tenant_id", "dedup_key", "created_at"),
    Index("ix_reports_expiry", "state", "expires_at"),
    Index("ix_reports_notify", "notified_state", "state"),
    Index("ix_reports_subject", "tenant_id", "template_id", "subject"),
)

tenant_templates = Table(  # one row a tenant template: its latest version (0009)
    "tenant_templates",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("id", String(100), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("deleted_at", UTCDateTime),
)

tenant_template_versions = Table(  # every version ever saved, kept for old reports (0009)
    "tenant_template_versions",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("template_id", String(100), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("definition", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_by", String(200)),
)

source_grants = Table(  # which sources a tenant may write templates over (0009)
    "source_grants",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("source", String(100), primary_key=True),
    Column("tables", JSON, nullable=False),
    Column("tenant_column", String(200)),
    Column("created_at", UTCDateTime, nullable=False),
)

artifacts = Table(
    "artifacts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("report_id", String(36), ForeignKey("reports.id", ondelete="CASCADE"), nullable=False),
    Column("format", String(16), nullable=False),
    Column("packaging", String(8), nullable=False),
    Column("part", Integer),
    Column("filename", String(400), nullable=False),
    Column("mime_type", String(200), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("storage_key", String(800), nullable=False),
    Column("rows", BigInteger, nullable=False, default=0),
    Column("zip_password", String(200)),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_artifacts_report", "report_id"),
)

schedules = Table(
    "schedules",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(64), nullable=False, index=True),
    Column("template_id", String(100), nullable=False),
    Column("name", String(300), nullable=False),
    Column("options", JSON, nullable=False),
    Column("fields", JSON),
    Column("filter", Text),
    Column("order_by", JSON, nullable=False),
    Column("formats", JSON, nullable=False),
    Column("packaging", String(8), nullable=False),
    Column("zip_password", String(200)),
    Column("storage_id", String(64)),
    Column("cron", String(200)),
    Column("timezone", String(64), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("created_by", String(200)),
    Column("created_by_id", String(64)),  # the key, client or user id (0005)
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("next_fire_at", UTCDateTime),
    Column("last_fired_at", UTCDateTime),
    Column("destinations", JSON),  # each run's destinations (0008)
    Index("ix_schedules_due", "enabled", "next_fire_at"),
)

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(64), nullable=False, index=True),
    Column("url", Text, nullable=False),
    Column("events", JSON, nullable=False),
    Column("secret", String(100), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # reportd | standard | both: the headers its deliveries are signed with (issue 16)
    Column("signature", String(16), nullable=False, server_default="both"),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("webhook_id", String(36)),  # None: the report's own callback_url
    Column("report_id", String(36), nullable=False),
    Column("event", String(32), nullable=False),
    Column("url", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("state", String(16), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime),
    Column("last_status", Integer),
    Column("last_error", Text),
    Column("lease_owner", String(100)),
    Column("lease_expires_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime),
    Index("ix_deliveries_due", "state", "next_attempt_at"),
    Index("ix_deliveries_webhook", "webhook_id", "created_at"),
)

destinations = Table(
    "destinations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(64), nullable=False, index=True),
    Column("type", String(16), nullable=False),  # email | s3 | sftp | webhook
    Column("name", String(200), nullable=False),
    Column("config", JSON, nullable=False),  # the settings the API shows
    Column("sealed_secrets", Text),  # Fernet token of the secrets (reportd.adapters.secret_box)
    Column("secret_names", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# One row per report and destination, made with the report; leased while a worker tries it.
report_deliveries = Table(
    "report_deliveries",
    metadata,
    Column("report_id", String(36), primary_key=True),
    Column("destination_id", String(36), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("state", String(16), nullable=False),  # pending | delivered | failed | skipped
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime),
    Column("last_error", Text),
    Column("lease_owner", String(100)),
    Column("lease_expires_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime),
    Index("ix_report_deliveries_due", "state", "next_attempt_at"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("scope", String(64), primary_key=True),  # sha256 of the caller's credential
    Column("key", String(255), primary_key=True),
    Column("method", String(8), nullable=False),
    Column("path", Text, nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("status", Integer),  # None while the first request is still running
    Column("headers", JSON),
    Column("body", LargeBinary),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_idempotency_created", "created_at"),
)

rate_counters = Table(
    "rate_counters",
    metadata,
    Column("bucket", String(200), primary_key=True),  # e.g. "tenant:acme:create"
    Column("window_start", BigInteger, primary_key=True),  # unix seconds
    Column("count", Integer, nullable=False),
)

# One row (id 1): bumped with every change that may alter what a remembered key resolves to
# (see adapters/db/auth_version.py).
auth_state = Table(
    "auth_state",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", BigInteger, nullable=False),
)
