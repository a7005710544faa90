"""The generator's leadership: a session-level Postgres advisory lock on its own connection.

Postgres frees the lock when that connection ends, including when the process holding it is
killed, so a standby that keeps trying takes over within its retry interval.
"""

from __future__ import annotations

import psycopg

from app.store.database import connect

LOCK_KEY = 0x6D61726B_73696D31  # "marksim1": one generator per database


class LeaderLock:
    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._conn: psycopg.Connection | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; False (and no connection kept) otherwise."""
        if self._conn is not None:
            return True
        try:
            conn = connect(self.database_url, autocommit=True)
        except psycopg.Error:
            return False
        try:
            got = conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()[0]
        except psycopg.Error:
            conn.close()
            return False
        if not got:
            conn.close()
            return False
        self._conn = conn
        return True

    def still_held(self) -> bool:
        """Whether the lock's connection is alive (and so the lock is still ours)."""
        if self._conn is None:
            return False
        try:
            self._conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            self.release()
            return False

    def release(self) -> None:
        if self._conn is None:
            return
        try:
            self._conn.close()
        finally:
            self._conn = None
