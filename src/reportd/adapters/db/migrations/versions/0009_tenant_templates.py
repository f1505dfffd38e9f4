"""tenant_templates: tenants' own templates, every version kept, and source grants (issue 16).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from reportd.adapters.db.schema import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tenant_templates",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("deleted_at", UTCDateTime),
    )
    op.create_table(
        "tenant_template_versions",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("template_id", sa.String(100), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("definition", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_by", sa.String(200)),
    )
    op.create_table(
        "source_grants",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("source", sa.String(100), primary_key=True),
        sa.Column("tables", sa.JSON, nullable=False),
        sa.Column("tenant_column", sa.String(200)),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("template_version", sa.Integer))


def downgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("template_version")
    op.drop_table("source_grants")
    op.drop_table("tenant_template_versions")
    op.drop_table("tenant_templates")
