"""``INSERT ... ON CONFLICT`` for whichever backend a connection talks to.

SQLite (3.35 and later) and PostgreSQL both have it, with the same SQL, but SQLAlchemy
builds it from each dialect's own ``insert``; this picks the right one.
"""

from __future__ import annotations

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def dialect_insert(conn: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """``insert(table)`` with ``on_conflict_do_nothing`` / ``on_conflict_do_update``."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"no upsert for the {conn.dialect.name} dialect")
