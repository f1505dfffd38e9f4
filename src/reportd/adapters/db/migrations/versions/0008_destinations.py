"""destinations and report_deliveries; reports and schedules name destinations (issue 16).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from reportd.adapters.db.schema import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "destinations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False, index=True),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("sealed_secrets", sa.Text),
        sa.Column("secret_names", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "report_deliveries",
        sa.Column("report_id", sa.String(36), primary_key=True),
        sa.Column("destination_id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime),
        sa.Column("last_error", sa.Text),
        sa.Column("lease_owner", sa.String(100)),
        sa.Column("lease_expires_at", UTCDateTime),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("delivered_at", UTCDateTime),
    )
    op.create_index("ix_report_deliveries_due", "report_deliveries", ["state", "next_attempt_at"])
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("destinations", sa.JSON))
    with op.batch_alter_table("schedules") as batch:
        batch.add_column(sa.Column("destinations", sa.JSON))


def downgrade() -> None:
    with op.batch_alter_table("schedules") as batch:
        batch.drop_column("destinations")
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("destinations")
    op.drop_index("ix_report_deliveries_due", "report_deliveries")
    op.drop_table("report_deliveries")
    op.drop_table("destinations")
