"""Lifecycle: schedules, webhooks and deliveries, idempotency keys, rate counters.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from reportd.adapters.db.schema import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("scheduled_for", UTCDateTime))
        batch.add_column(sa.Column("dedup_key", sa.String(64)))
        batch.add_column(sa.Column("notified_state", sa.String(16)))
    op.create_index("ux_reports_firing", "reports", ["schedule_id", "scheduled_for"], unique=True)
    op.create_index("ix_reports_dedup", "reports", ["tenant_id", "dedup_key", "created_at"])
    op.create_index("ix_reports_expiry", "reports", ["state", "expires_at"])
    op.create_index("ix_reports_notify", "reports", ["notified_state", "state"])
    # Reports that ended before webhooks existed are not news: do not announce them now.
    op.execute(
        "UPDATE reports SET notified_state = state "
        "WHERE state IN ('FINISHED', 'FAILURE', 'TIMEOUT', 'CANCELED', 'EXPIRED')"
    )
    _schedules()
    _webhooks()
    _idempotency_and_rates()


def _schedules() -> None:
    op.create_table(
        "schedules",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("template_id", sa.String(100), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("fields", sa.JSON),
        sa.Column("filter", sa.Text),
        sa.Column("order_by", sa.JSON, nullable=False),
        sa.Column("formats", sa.JSON, nullable=False),
        sa.Column("packaging", sa.String(8), nullable=False),
        sa.Column("zip_password", sa.String(200)),
        sa.Column("storage_id", sa.String(64)),
        sa.Column("cron", sa.String(200)),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("created_by", sa.String(200)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("next_fire_at", UTCDateTime),
        sa.Column("last_fired_at", UTCDateTime),
    )
    op.create_index("ix_schedules_tenant_id", "schedules", ["tenant_id"])
    op.create_index("ix_schedules_due", "schedules", ["enabled", "next_fire_at"])


def _webhooks() -> None:
    op.create_table(
        "webhooks",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("events", sa.JSON, nullable=False),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_webhooks_tenant_id", "webhooks", ["tenant_id"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("webhook_id", sa.String(36)),
        sa.Column("report_id", sa.String(36), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime),
        sa.Column("last_status", sa.Integer),
        sa.Column("last_error", sa.Text),
        sa.Column("lease_owner", sa.String(100)),
        sa.Column("lease_expires_at", UTCDateTime),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("delivered_at", UTCDateTime),
    )
    op.create_index("ix_deliveries_due", "webhook_deliveries", ["state", "next_attempt_at"])
    op.create_index("ix_deliveries_webhook", "webhook_deliveries", ["webhook_id", "created_at"])


def _idempotency_and_rates() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer),
        sa.Column("headers", sa.JSON),
        sa.Column("body", sa.LargeBinary),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_idempotency_created", "idempotency_keys", ["created_at"])
    op.create_table(
        "rate_counters",
        sa.Column("bucket", sa.String(200), primary_key=True),
        sa.Column("window_start", sa.BigInteger, primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rate_counters")
    op.drop_table("idempotency_keys")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhooks")
    op.drop_table("schedules")
    op.drop_index("ix_reports_notify", "reports")
    op.drop_index("ix_reports_expiry", "reports")
    op.drop_index("ix_reports_dedup", "reports")
    op.drop_index("ux_reports_firing", "reports")
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("notified_state")
        batch.drop_column("dedup_key")
        batch.drop_column("scheduled_for")
