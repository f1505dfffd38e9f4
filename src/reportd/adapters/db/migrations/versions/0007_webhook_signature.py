"""webhooks.signature: each subscription's choice of signing scheme (issue 16).

``reportd`` (the ``Reportd-Signature`` header), ``standard`` (Standard Webhooks' three headers)
or ``both``. Subscriptions made before get ``both``: their receivers keep the header they
check, and may move to a Standard Webhooks library without a new secret.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("webhooks") as batch:
        batch.add_column(
            sa.Column("signature", sa.String(16), nullable=False, server_default="both")
        )


def downgrade() -> None:
    with op.batch_alter_table("webhooks") as batch:
        batch.drop_column("signature")
