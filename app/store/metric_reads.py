"""Reads for `/metrics`: figures that stay cheap to scrape with millions of log rows.

Events appended are counted in full once (`event_counts`), then by the rows after the last
count (`event_counts_after`), so a scrape reads only what was appended since the previous
one. The full count reads stream events from the hourly rollup (`stream_hourly`, one row per
stream and hour) plus those appended since the rollup last caught up, and the other kinds
from their partial index (mostly the generator's `control.tick`s, one per cadence job run:
thousands a day), all in one snapshot: the rollup's position, its rows and the log's head
agree, so no event is counted twice or missed. Positions become visible in order (the append
lock), so every row up to the head a count saw is in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy import Engine

from app.store.leader import LOCK_KEY
from app.store.rollup import NAME as ROLLUP

_HEAD = sa.text("SELECT coalesce(max(position), 0) FROM event_log")
_STREAM_TOTALS = sa.text(
    """
    WITH folded AS (
        SELECT coalesce((SELECT position FROM projection_position WHERE name = :rollup), 0)
            AS position
    )
    SELECT stream, sum(events)::bigint AS events FROM (
        SELECT stream, events FROM stream_hourly
        UNION ALL
        SELECT e.stream, 1 FROM event_log e, folded
        WHERE e.position > folded.position AND e.kind = 'stream' AND e.stream IS NOT NULL
    ) AS counted
    GROUP BY stream
    """
)
_OTHER_KIND_TOTALS = sa.text(
    "SELECT kind, count(*) AS events FROM event_log WHERE kind <> 'stream' GROUP BY kind"
)
"""An index-only scan of `ix_event_log_epoch_kind_time` (a bound on `position` would read the
table instead: ten times slower)."""
_COUNTS_AFTER = sa.text(
    """
    SELECT kind, CASE WHEN kind = 'stream' THEN stream END AS stream, count(*) AS events,
           max(position) AS through
    FROM event_log
    WHERE position > :after AND (kind <> 'stream' OR stream IS NOT NULL)
    GROUP BY 1, 2
    """
)
_LEADER = sa.text(
    """
    SELECT l.pid FROM pg_locks l
    JOIN pg_database d ON d.oid = l.database AND d.datname = current_database()
    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
      AND l.classid::bigint = :high AND l.objid::bigint = :low
    """
)


Key = tuple[str, str | None]
"""A kind, and for stream events the stream (None for the other kinds)."""


@dataclass(frozen=True)
class EventCounts:
    """Events appended since the log began (every epoch) up to position `through`."""

    through: int
    totals: Mapping[Key, int] = field(default_factory=dict)

    def plus(self, through: int, more: Mapping[Key, int]) -> EventCounts:
        totals = dict(self.totals)
        for key, events in more.items():
            totals[key] = totals.get(key, 0) + events
        return EventCounts(max(self.through, through), totals)


def advisory_key_parts(key: int) -> tuple[int, int]:
    """How `pg_locks` shows a bigint advisory key: its high and low 32 bits (`classid`,
    `objid`, both unsigned)."""
    unsigned = key & 0xFFFF_FFFF_FFFF_FFFF
    return unsigned >> 32, unsigned & 0xFFFF_FFFF


class MetricsReads:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def event_counts(self) -> EventCounts:
        """Every event appended, by kind and stream, read in one snapshot."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            through = int(conn.execute(_HEAD).scalar_one())
            streams = conn.execute(_STREAM_TOTALS, {"rollup": ROLLUP}).all()
            others = conn.execute(_OTHER_KIND_TOTALS).all()
        totals: dict[Key, int] = {("stream", stream): int(n) for stream, n in streams}
        totals |= {(kind, None): int(n) for kind, n in others}
        return EventCounts(through, totals)

    def event_counts_after(self, counted: EventCounts) -> EventCounts:
        """`counted` plus the events appended after it; counted afresh when the log is
        shorter than `counted` says (another database behind the same URL)."""
        with self.engine.connect() as conn:
            rows = conn.execute(_COUNTS_AFTER, {"after": counted.through}).all()
            head = int(conn.execute(_HEAD).scalar_one())
        if head < counted.through:
            return self.event_counts()
        more = {(kind, stream): int(events) for kind, stream, events, _ in rows}
        return counted.plus(max((int(row.through) for row in rows), default=0), more)

    def head_position(self) -> int:
        """The highest position in the log (0 when it is empty)."""
        with self.engine.connect() as conn:
            return int(conn.execute(_HEAD).scalar_one())

    def leader_backend_pid(self) -> int | None:
        """The Postgres backend pid of the connection that holds the generator's leader
        lock, or None when no process holds it."""
        high, low = advisory_key_parts(LOCK_KEY)
        with self.engine.connect() as conn:
            return conn.execute(_LEADER, {"high": high, "low": low}).scalar()
