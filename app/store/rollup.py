"""The hourly rollup of stream events: a projection that follows the log by position.

History reads whole hours of live data from here instead of counting log rows. It counts
what happened: a duplicate's second delivery is not counted, and every event counts in the
hour it occurred, however late it arrived or whatever a skewed clock stamped on it. Any process
may bring it up to date (`catch_up`): the projection's position row is locked while it folds,
so two callers never count a row twice, and positions are visible in order, so it never
skips one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Engine

from app.store.tables import HAPPENED

NAME = "stream_hourly"
BATCH = 500_000

_ENSURE = sa.text(
    "INSERT INTO projection_position (name, position) VALUES (:name, 0) ON CONFLICT DO NOTHING"
)
_LOCK = sa.text("SELECT position FROM projection_position WHERE name = :name FOR UPDATE")
_NEWEST = sa.text("SELECT coalesce(max(position), 0) FROM event_log")
_FOLD = sa.text(
    f"""
    INSERT INTO stream_hourly (epoch, stream, hour, events, value_sum, value_count)
    SELECT epoch, stream, date_trunc('hour', occurred_at, 'UTC'), count(*),
           coalesce(sum(value), 0), count(value)
    FROM event_log
    WHERE position > :after AND position <= :upto AND kind = 'stream' AND stream IS NOT NULL
      AND {HAPPENED}
    GROUP BY 1, 2, 3
    ON CONFLICT (epoch, stream, hour) DO UPDATE SET
        events = stream_hourly.events + excluded.events,
        value_sum = stream_hourly.value_sum + excluded.value_sum,
        value_count = stream_hourly.value_count + excluded.value_count
    """
)
_POSITION = sa.text("SELECT coalesce(max(position), 0) FROM projection_position WHERE name = :name")
_MOVE = sa.text("UPDATE projection_position SET position = :upto WHERE name = :name")
_FRONTIER = sa.text("SELECT max(hour) FROM stream_hourly WHERE epoch = :epoch")
_READ = sa.text(
    """
    SELECT stream, hour, events, value_sum, value_count FROM stream_hourly
    WHERE epoch = :epoch AND stream = ANY(:streams) AND hour >= :start AND hour < :end
    ORDER BY stream, hour
    """
)


@dataclass(frozen=True)
class HourTotals:
    stream: str
    hour: datetime
    events: int
    value_sum: float
    value_count: int

    @property
    def mean_value(self) -> float | None:
        return self.value_sum / self.value_count if self.value_count else None


class HourlyRollup:
    """The hourly totals of stream events: folded on the primary (`engine`), read from
    `reads` (a replica, or the primary itself)."""

    def __init__(self, engine: Engine, reads: Engine | None = None) -> None:
        self.engine = engine
        self.reads = reads or engine

    def catch_up(self) -> int:
        """Fold every stream event appended since the last call; the position reached."""
        with self.engine.begin() as conn:
            conn.execute(_ENSURE, {"name": NAME})
            after = conn.execute(_LOCK, {"name": NAME}).scalar_one()
            newest = conn.execute(_NEWEST).scalar_one()
            while after < newest:
                upto = min(newest, after + BATCH)
                conn.execute(_FOLD, {"after": after, "upto": upto})
                after = upto
            conn.execute(_MOVE, {"upto": after, "name": NAME})
        return after

    def position(self) -> int:
        """The position the rollup has folded through."""
        with self.engine.connect() as conn:
            return int(conn.execute(_POSITION, {"name": NAME}).scalar_one())

    def frontier(self, epoch: int) -> datetime | None:
        """The latest hour with any stream event in this epoch: how far generation got."""
        with self.reads.connect() as conn:
            return conn.execute(_FRONTIER, {"epoch": epoch}).scalar()

    def read(
        self, epoch: int, streams: Iterable[str], start: datetime, end: datetime
    ) -> list[HourTotals]:
        """Totals per stream and hour with `start <= hour < end`, in one epoch."""
        params = {"epoch": epoch, "streams": list(streams), "start": start, "end": end}
        with self.reads.connect() as conn:
            return [HourTotals(*row) for row in conn.execute(_READ, params)]
