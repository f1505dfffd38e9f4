"""``InMemoryStore``: every store port in memory, for tests of the use cases without a database.

It keeps the SQL store's rules (leases, finishing only under the lease, a late cancel winning,
reaping with attempts, the dedup window, one report per schedule firing, the webhook outbox,
idempotency claims, rate counters, report search, credentials) and passes the same contract suite
(``tests/contract``). One re-entrant lock guards all of it, so threads may share a store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reportd.domain.errors import Unavailable
from reportd.testing._state import Clock, MemoryState, utc_now
from reportd.testing.async_reads import MemoryAsyncReads
from reportd.testing.credentials import MemoryClients, MemoryUsers
from reportd.testing.deliveries import MemoryDeliveryQueue, MemoryDestinations
from reportd.testing.keys import MemoryIdempotency, MemoryRateCounters
from reportd.testing.queue import MemoryQueue
from reportd.testing.reports import MemoryReports, MemorySearch, MemorySubjects
from reportd.testing.schedules import MemorySchedules
from reportd.testing.tenant_templates import MemoryGrants, MemoryTemplates
from reportd.testing.tenants import MemoryTenants
from reportd.testing.webhooks import MemoryWebhooks

if TYPE_CHECKING:
    from reportd.app import ports


class InMemoryStore:
    """Implements ``reportd.app.ports.Store``; ``clock`` is what "now" is for every port.

    Set ``available = False`` to make ``check`` fail as an unreachable database would.
    """

    def __init__(self, *, clock: Clock = utc_now) -> None:
        self.state = MemoryState(clock)
        self.reports = MemoryReports(self.state)
        self.queue = MemoryQueue(self.state)
        self.schedules = MemorySchedules(self.state)
        self.tenants = MemoryTenants(self.state)
        self.webhooks = MemoryWebhooks(self.state)
        self.idempotency = MemoryIdempotency(self.state)
        self.rate_counters = MemoryRateCounters(self.state)
        self.search = MemorySearch(self.state)
        self.subjects = MemorySubjects(self.state)
        self.clients = MemoryClients(self.state)
        self.users = MemoryUsers(self.state)
        self.destinations = MemoryDestinations(self.state)
        self.delivery_queue = MemoryDeliveryQueue(self.state)
        self.templates = MemoryTemplates(self.state)
        self.grants = MemoryGrants(self.state)
        self.async_reads = MemoryAsyncReads(self.state)  # the ``AsyncReads`` port, same data
        self.available = True

    def migrate(self) -> None:
        """Nothing to migrate."""

    def check(self) -> None:
        if not self.available:
            raise Unavailable("the metadata database is unavailable")

    def close(self) -> None:
        """Nothing to release; the data stays readable, as after a database's dispose."""


if TYPE_CHECKING:

    def _implements(store: InMemoryStore) -> tuple[ports.Store, ports.AsyncReads]:
        return store, store.async_reads  # mypy checks every port against its protocol here
