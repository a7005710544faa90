"""Reads behind the simulation's state: the events it is folded from, recent anomalies, and
which logged events moved which streams (the `stream_event_sources` view)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from app.domain.events import RecordedEvent
from app.store.feed import anomalous
from app.store.tables import event_log

_STATE_EVENTS = (
    sa.select(event_log)
    .where(
        event_log.c.position > sa.bindparam("after"),
        event_log.c.kind != "stream",
        event_log.c.type != "control.tick",
    )
    .order_by(event_log.c.position)
)
_CRITICAL = (
    sa.select(event_log)
    .where(event_log.c.epoch == sa.bindparam("epoch"), anomalous(("critical",)))
    .order_by(event_log.c.position.desc())
    .limit(sa.bindparam("limit"))
)
_SOURCES_OF_STREAM = sa.text(
    "SELECT source_position, source_kind, source_type, source_data, events, first_at, last_at "
    "FROM stream_event_sources WHERE epoch = :epoch AND stream = :stream "
    "ORDER BY first_at"
)


class StateStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def state_events(self, after: int) -> list[RecordedEvent]:
        """Every scenario, external and control event (but ticks) after a position."""
        with self.engine.connect() as conn:
            rows = conn.execute(_STATE_EVENTS, {"after": after}).mappings()
            return [RecordedEvent(**row) for row in rows]

    def recent_critical(self, epoch: int, limit: int = 20) -> list[RecordedEvent]:
        """The newest critical anomalies of an epoch (`app.domain.events.is_anomalous`, of
        the critical flags only)."""
        with self.engine.connect() as conn:
            rows = conn.execute(_CRITICAL, {"epoch": epoch, "limit": limit}).mappings()
            return [RecordedEvent(**row) for row in rows]

    def sources_of_stream(self, epoch: int, stream: str) -> list[dict[str, Any]]:
        """The logged events whose effects a stream's events carry (by correlation id)."""
        with self.engine.connect() as conn:
            rows = conn.execute(_SOURCES_OF_STREAM, {"epoch": epoch, "stream": stream})
            return [dict(row._mapping) for row in rows]
