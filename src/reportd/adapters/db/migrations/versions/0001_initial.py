"""Initial schema: tenants, API keys, reports (the queue), artifacts.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from reportd.adapters.db.schema import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("features", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("scopes", sa.JSON, nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("revoked_at", UTCDateTime),
    )
    op.create_index("ix_api_keys_tenant_id", "api_keys", ["tenant_id"])
    op.create_table(
        "reports",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("template_id", sa.String(100), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("fields", sa.JSON, nullable=False),
        sa.Column("filter", sa.Text),
        sa.Column("order_by", sa.JSON, nullable=False),
        sa.Column("formats", sa.JSON, nullable=False),
        sa.Column("packaging", sa.String(8), nullable=False),
        sa.Column("zip_password", sa.String(200)),
        sa.Column("storage_id", sa.String(64), nullable=False),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("total_rows", sa.BigInteger),
        sa.Column("created_by", sa.String(200)),
        sa.Column("schedule_id", sa.String(36)),
        sa.Column("callback_url", sa.Text),
        sa.Column("expires_in", sa.Integer),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("started_at", UTCDateTime),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("expires_at", UTCDateTime),
        sa.Column("error_code", sa.String(64)),
        sa.Column("error_message", sa.Text),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("cancel_requested", sa.Boolean, nullable=False),
        sa.Column("lease_owner", sa.String(100)),
        sa.Column("lease_expires_at", UTCDateTime),
    )
    op.create_index("ix_reports_queue", "reports", ["state", "created_at"])
    op.create_index("ix_reports_tenant_created", "reports", ["tenant_id", "created_at", "id"])
    op.create_index("ix_reports_schedule", "reports", ["schedule_id"])
    op.create_table(
        "artifacts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "report_id",
            sa.String(36),
            sa.ForeignKey("reports.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("packaging", sa.String(8), nullable=False),
        sa.Column("part", sa.Integer),
        sa.Column("filename", sa.String(400), nullable=False),
        sa.Column("mime_type", sa.String(200), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("storage_key", sa.String(800), nullable=False),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("zip_password", sa.String(200)),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_artifacts_report", "artifacts", ["report_id"])


def downgrade() -> None:
    op.drop_table("artifacts")
    op.drop_table("reports")
    op.drop_table("api_keys")
    op.drop_table("tenants")
