"""Per-subject reports (Spectra: one PDF per sample hash) and kept report data.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("subject", sa.String(200)))
        batch.add_column(sa.Column("data_key", sa.String(800)))
    op.create_index("ix_reports_subject", "reports", ["tenant_id", "template_id", "subject"])


def downgrade() -> None:
    op.drop_index("ix_reports_subject", "reports")
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("data_key")
        batch.drop_column("subject")
