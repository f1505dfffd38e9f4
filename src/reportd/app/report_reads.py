"""``get_report`` for the polling route, awaited on the event loop over ``AsyncReads``.

The same rule as ``Reports.get`` (the ``reports:read`` scope, the caller's
tenant only), over the async port: one statement, no thread hop.
"""

from __future__ import annotations

from reportd.app.access import require
from reportd.app.ports import AsyncReads
from reportd.domain.models import Principal, Report, Scope


class ReportReads:
    def __init__(self, reads: AsyncReads) -> None:
        self.reads = reads

    async def get_report(self, principal: Principal, report_id: str) -> Report:
        require(principal, Scope.REPORTS_READ)
        return await self.reads.get_report(report_id, principal.tenant_id)
