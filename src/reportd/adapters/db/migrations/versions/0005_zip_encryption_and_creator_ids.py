"""Reports name the cipher of their zips (AES-256 or ZipCrypto); reports and schedules the id
of the credential that made them (DigiCert's ``created_by_user_id``).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("zip_encryption", sa.String(16)))
        batch.add_column(sa.Column("created_by_id", sa.String(64)))
    with op.batch_alter_table("schedules") as batch:
        batch.add_column(sa.Column("created_by_id", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("schedules") as batch:
        batch.drop_column("created_by_id")
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("created_by_id")
        batch.drop_column("zip_encryption")
