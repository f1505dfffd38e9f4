"""One counter that moves whenever a remembered API key may no longer be what it was.

API processes remember resolved keys (``reportd.app.authentication``). Every write that could
change what a key resolves to (a key revoked, a tenant's features changed) calls
``bump_auth_version`` inside its own transaction, so the change and the bump commit together:
on PostgreSQL the same transaction NOTIFYs ``reportd_auth`` (delivered on commit to every
listening API process), and on SQLite the processes read ``auth_state.version`` per request.
"""

from __future__ import annotations

from sqlalchemy import Connection, update

from reportd.adapters.db.schema import auth_state

AUTH_CHANNEL = "reportd_auth"


def bump_auth_version(conn: Connection) -> None:
    conn.execute(
        update(auth_state).where(auth_state.c.id == 1).values(version=auth_state.c.version + 1)
    )
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"NOTIFY {AUTH_CHANNEL}")
