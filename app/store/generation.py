"""What the live generator reads back from the log: its frontiers, recent events, the causes
whose effects may still be pending and the effects already logged; and the clock."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Engine

from app.domain.generator import TICK_TYPE, LogSnapshot
from app.domain.timerange import from_iso
from app.store.tables import HAPPENED

CLOCK_TYPE = "control.clock"
READ_BACK_CHUNK = 20_000
"""Rows of causes or logged effects a restore holds at a time."""

_LAST_OF_TYPE = sa.text(
    "SELECT occurred_at, data FROM event_log "
    "WHERE kind <> 'stream' AND type <> 'control.tick' AND epoch = :epoch AND type = :type "
    "ORDER BY position DESC LIMIT 1"
)
_LAST_TICK = sa.text(
    "SELECT data FROM event_log "
    "WHERE type = :type AND epoch = :epoch AND data->>'group' = :group "
    "ORDER BY position DESC LIMIT 1"
)
_EPOCH_START = sa.text(
    "SELECT occurred_at FROM event_log WHERE kind <> 'stream' AND type <> 'control.tick' "
    "AND epoch = :epoch AND type = 'control.reset' ORDER BY position LIMIT 1"
)
_RECENT = sa.text(
    "SELECT stream, occurred_at FROM event_log "
    f"WHERE epoch = :epoch AND stream = ANY(:streams) AND occurred_at >= :since AND {HAPPENED}"
)
_HOURLY = sa.text(
    "SELECT stream, hour, events, value_sum, value_count FROM stream_hourly "
    "WHERE epoch = :epoch AND hour >= :since"
)
_CAUSES = sa.text(
    "SELECT position, stream, occurred_at, data, correlation_id FROM event_log "
    f"WHERE epoch = :epoch AND stream = :stream AND occurred_at >= :since AND {HAPPENED} "
    "ORDER BY position"
)
_EMITTED = sa.text(
    "SELECT causation_id, stream FROM event_log "
    "WHERE epoch = :epoch AND stream = ANY(:streams) AND occurred_at >= :since "
    "AND causation_id IS NOT NULL"
)
_LATEST_SAMPLES = sa.text(
    "SELECT s.stream, latest.value FROM unnest(CAST(:streams AS text[])) AS s(stream) "
    "CROSS JOIN LATERAL (SELECT value FROM event_log e WHERE e.stream = s.stream "
    "AND e.epoch = :epoch ORDER BY e.occurred_at DESC LIMIT 1) latest"
)


class GenerationStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def latest(self, epoch: int, type_: str) -> tuple[datetime, dict] | None:
        """The newest control event of a type in an epoch: (occurred_at, data)."""
        with self.engine.connect() as conn:
            row = conn.execute(_LAST_OF_TYPE, {"epoch": epoch, "type": type_}).first()
        return (row[0], row[1]) if row else None

    def epoch_start(self, epoch: int) -> datetime | None:
        """When the reset that opened this epoch happened (None for the first epoch)."""
        with self.engine.connect() as conn:
            return conn.execute(_EPOCH_START, {"epoch": epoch}).scalar()

    def frontiers(self, epoch: int, groups: Iterable[str]) -> dict[str, datetime]:
        """How far each cadence group's generation got in this epoch (its last tick)."""
        found = {}
        with self.engine.connect() as conn:
            for group in groups:
                row = conn.execute(
                    _LAST_TICK, {"epoch": epoch, "type": TICK_TYPE, "group": group}
                ).first()
                if row:
                    found[group] = from_iso(row[0]["until"])
        return found

    def snapshot(
        self,
        epoch: int,
        frontiers: dict[str, datetime],
        streams_by_source: dict[str, datetime],
        entity_streams: list[str],
        gauge_streams: list[str],
        recent_since: datetime,
        hourly_since: datetime,
    ) -> LogSnapshot:
        """Everything the generator needs to carry on. `streams_by_source` maps each stream
        that causes others to how far back its causes may still have pending effects. The
        causes and the effects already logged are read in chunks as the restore consumes
        them (a server-side cursor each)."""
        with self.engine.connect() as conn:
            recent = [
                (row[0], row[1])
                for row in conn.execute(
                    _RECENT, {"epoch": epoch, "streams": entity_streams, "since": recent_since}
                )
            ]
            hourly = [
                tuple(row) for row in conn.execute(_HOURLY, {"epoch": epoch, "since": hourly_since})
            ]
            latest_samples = {
                row[0]: float(row[1])
                for row in conn.execute(_LATEST_SAMPLES, {"epoch": epoch, "streams": gauge_streams})
                if row[1] is not None
            }
        oldest = min(streams_by_source.values(), default=recent_since)
        return LogSnapshot(
            epoch=epoch,
            frontiers=frontiers,
            recent=recent,
            hourly=hourly,
            causes=self._chunks(
                (_CAUSES, {"epoch": epoch, "stream": stream, "since": since})
                for stream, since in streams_by_source.items()
            ),
            emitted=self._chunks(
                [(_EMITTED, {"epoch": epoch, "streams": entity_streams, "since": oldest})]
            ),
            latest_samples=latest_samples,
        )

    def _chunks(self, queries: Iterable[tuple[sa.TextClause, dict]]) -> Iterator[list[tuple]]:
        """The rows of each query in turn, `READ_BACK_CHUNK` at a time, from a server-side
        cursor. (`stream_results` with `fetchmany`: SQLAlchemy's `yield_per` with
        `partitions()` was measured holding every row read, 2.4 GB for 2.5 M rows.)"""
        with self.engine.connect() as conn:
            streaming = conn.execution_options(stream_results=True, max_row_buffer=READ_BACK_CHUNK)
            for statement, params in queries:
                result = streaming.execute(statement, params)
                while rows := result.fetchmany(READ_BACK_CHUNK):
                    yield [tuple(row) for row in rows]
