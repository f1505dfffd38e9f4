"""Fakes that ship with reportd, for tests of code built on it (procrastinate's ``testing``).

``InMemoryStore`` implements every store port of ``reportd.app.ports`` in pure Python, with
the same behaviour as the SQLite and PostgreSQL stores (the contract suite in
``tests/contract`` runs against all three)::

    from reportd.testing import InMemoryStore

    store = InMemoryStore()
    store.reports.insert(report)
    claimed = store.queue.claim("worker-1", lease_seconds=30)

For artifact files, ``reportd.adapters.storage.memory.MemoryStorage`` is the in-memory storage.
"""

from __future__ import annotations

from reportd.testing.store import InMemoryStore

__all__ = ["InMemoryStore"]
