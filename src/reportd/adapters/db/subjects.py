"""Reports by subject: the newest report of a tenant's template about one entity.

A per-subject report (Spectra: one PDF per sample hash) is found by what it is about, not by
its id, which the client never sees. The index ``(tenant_id, template_id, subject)`` serves it.
"""

from __future__ import annotations

from sqlalchemy import Engine, select

from reportd.adapters.db.database import read_transaction
from reportd.adapters.db.schema import reports


class SubjectIndex:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def newest(self, tenant_id: str, template_id: str, subject: str) -> str | None:
        """The id of the newest report about ``subject``, in any state; None when there is none."""
        query = (
            select(reports.c.id)
            .where(
                reports.c.tenant_id == tenant_id,
                reports.c.template_id == template_id,
                reports.c.subject == subject,
            )
            .order_by(reports.c.created_at.desc(), reports.c.id.desc())
            .limit(1)
        )
        with read_transaction(self.engine) as conn:
            found: str | None = conn.execute(query).scalar_one_or_none()
            return found
