"""The admin sessions signed in through `/login`: started, ended, and whether one is live."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Engine

from app.store.tables import admin_session


class SessionStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def start(self, session_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(admin_session.insert().values(id=session_id, started_at=sa.func.now()))

    def end(self, session_id: str) -> None:
        """End the session; ending one already ended (or unknown) changes nothing."""
        with self.engine.begin() as conn:
            conn.execute(
                admin_session.update()
                .where(admin_session.c.id == session_id, admin_session.c.ended_at.is_(None))
                .values(ended_at=sa.func.now())
            )

    def is_live(self, session_id: str) -> bool:
        query = sa.select(sa.literal(True)).where(
            admin_session.c.id == session_id, admin_session.c.ended_at.is_(None)
        )
        with self.engine.connect() as conn:
            return conn.execute(query).scalar() is not None
