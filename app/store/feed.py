"""Reads for the live feed (app/ws): the log's head, the latest events of each stream, and
catch-up ranges by position or by simulated time.

Every read is bounded above by a position the caller already holds (`through`), so what it
returns joins exactly with what the caller receives live after that position.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.pool import NullPool

from app.domain.events import ANOMALY_FLAGS, KINDS, RESET_TYPE, EventRow, RecordedEvent
from app.store.database import sqlalchemy_url
from app.store.eventlog import LogListener
from app.store.tables import event_log

NOTICE_KINDS: tuple[str, ...] = tuple(kind for kind in KINDS if kind != "stream")
TAIL_APPLICATION_NAME = "marketsim feed"
"""How the listening connection shows in pg_stat_activity."""


ROW_COLUMNS = tuple(
    column.cast(sa.Text).label("data") if column.name == "data" else column
    for column in event_log.columns
)
"""The columns of an `EventRow`, in its order (`data` as JSON text)."""
_TAIL_SQL = (
    f"SELECT {', '.join('data::text' if c.name == 'data' else c.name for c in event_log.columns)} "
    "FROM event_log WHERE position > %s ORDER BY position LIMIT %s"
)

_RETAINED_FROM = sa.text("SELECT min(first_position) FROM event_log_partition")
_FIRST_STREAM_EVENT = sa.text(
    "SELECT position, occurred_at FROM event_log_stream WHERE position >= :first "
    "ORDER BY position LIMIT 1"
)


@dataclass(frozen=True)
class LogHead:
    """Where the log stands: its highest position, that row's epoch, and the position of the
    `control.reset` that opened the epoch (0 for the first epoch)."""

    position: int
    epoch: int
    epoch_start: int


@dataclass(frozen=True)
class Selection:
    """Which rows a catch-up reads: a superset of what the subscriber receives.

    `all_streams` means every stream event; otherwise stream events of `streams`, and with
    `anomalies` the anomalous stream events (`app.domain.events.is_anomalous`). `notices` adds
    scenario, external and control events.
    """

    all_streams: bool = False
    streams: tuple[str, ...] = ()
    anomalies: bool = False
    notices: bool = True


class LogTail:
    """A web process's one listening connection, which also reads what follows a position.

    Its own autocommit connection (not the pool's): `LISTEN event_log`, and the reads of new
    rows on the same connection, one round trip each (no checkout, no pre-ping). Notifications
    that arrive during a read are kept by psycopg for the next `wait`.
    """

    def __init__(self, database_url: str) -> None:
        self._engine = sa.create_engine(
            sqlalchemy_url(database_url),
            poolclass=NullPool,
            isolation_level="AUTOCOMMIT",
            connect_args={"application_name": TAIL_APPLICATION_NAME},
        )
        try:
            self._conn = self._engine.connect()
            self._listener = LogListener(self._conn.connection.driver_connection)
        except Exception:
            self._engine.dispose()
            raise

    def wait(self, timeout: float) -> int | None:
        """The highest position announced within `timeout` seconds, or None."""
        return self._listener.wait(timeout)

    def read_after(self, position: int, limit: int) -> list[EventRow]:
        """Every kind of event with a position above `position`, oldest first (one round trip
        on the driver's connection, rows as tuples: the hub reads every append this way)."""
        rows = self._conn.connection.driver_connection.execute(_TAIL_SQL, (position, limit))
        return [EventRow(*row) for row in rows]

    def close(self) -> None:
        try:
            self._conn.close()
        finally:
            self._engine.dispose()


class FeedReads:
    """The feed's queries, on the service's engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def head(self) -> LogHead:
        newest = (
            sa.select(event_log.c.position, event_log.c.epoch)
            .order_by(event_log.c.position.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(newest).first()
            if row is None:
                return LogHead(0, 1, 0)
            position, epoch = int(row.position), int(row.epoch)
            opened = sa.select(sa.func.max(event_log.c.position)).where(
                event_log.c.epoch == epoch,
                event_log.c.kind == "control",
                event_log.c.type == RESET_TYPE,
                event_log.c.position <= position,
            )
            start = conn.execute(opened).scalar()
        return LogHead(position, epoch, int(start or 0))

    def retained(self) -> tuple[int, datetime] | None:
        """The position and time of the oldest stream event the log holds once retention has
        dropped any (None while it holds every one)."""
        with self.engine.connect() as conn:
            first = conn.execute(_RETAINED_FROM).scalar()
            if first is None or first <= 1:
                return None
            row = conn.execute(_FIRST_STREAM_EVENT, {"first": first}).first()
        if row is None:
            return None
        return int(row.position), row.occurred_at

    def latest_per_stream(
        self, streams: Sequence[str], *, epoch: int, through: int, per_stream: int
    ) -> list[RecordedEvent]:
        """The latest `per_stream` events of each stream in `epoch`, up to `through`.

        "Latest" by simulated time (one index probe per stream on (stream, occurred_at));
        within a stream the generator appends in time order, so it is also the last appended.
        """
        if not streams:
            return []
        wanted = sa.values(sa.column("name", sa.Text), name="wanted").data(
            [(name,) for name in streams]
        )
        latest = (
            sa.select(event_log)
            .where(
                event_log.c.stream == wanted.c.name,
                event_log.c.epoch == epoch,
                event_log.c.position <= through,
            )
            .order_by(event_log.c.occurred_at.desc(), event_log.c.position.desc())
            .limit(per_stream)
            .lateral("latest")
        )
        query = sa.select(latest).select_from(wanted.join(latest, sa.true()))
        return self._fetch(query)

    def latest_anomalies(self, *, epoch: int, through: int, limit: int) -> list[RecordedEvent]:
        """The last `limit` anomalous stream events of `epoch`."""
        query = (
            sa.select(event_log)
            .where(
                event_log.c.kind == "stream",
                anomalous(),
                event_log.c.epoch == epoch,
                event_log.c.position <= through,
            )
            .order_by(event_log.c.position.desc())
            .limit(limit)
        )
        return self._fetch(query)

    def first_position_after_time(
        self, moment: datetime, *, epoch: int, through: int, streams: Sequence[str]
    ) -> int | None:
        """The lowest position in `epoch` (up to `through`) of an event of `streams`, or of a
        notice, that occurred after `moment`; None when there is none.

        A lower bound for a catch-up by time, found through the time indexes, so that the
        catch-up itself scans positions from there rather than the whole epoch.
        """
        common = (
            event_log.c.epoch == epoch,
            event_log.c.position <= through,
            event_log.c.occurred_at > moment,
        )
        lowest = sa.func.min(event_log.c.position)
        queries = [sa.select(lowest).where(*common, event_log.c.kind.in_(NOTICE_KINDS))]
        if streams:
            queries.append(sa.select(lowest).where(*common, event_log.c.stream.in_(list(streams))))
        with self.engine.connect() as conn:
            found = [conn.execute(query).scalar() for query in queries]
        found = [int(position) for position in found if position is not None]
        return min(found) if found else None

    def read_range(
        self,
        after: int,
        through: int,
        selection: Selection,
        *,
        epoch: int | None = None,
        occurred_after: datetime | None = None,
        limit: int = 1000,
    ) -> list[EventRow]:
        """Selected events with `after < position <= through`, oldest first, at most `limit`;
        with `epoch` only that epoch's, with `occurred_after` only those that occurred later."""
        query = sa.select(*ROW_COLUMNS).where(
            event_log.c.position > after,
            event_log.c.position <= through,
            _selected(selection),
        )
        if epoch is not None:
            query = query.where(event_log.c.epoch == epoch)
        if occurred_after is not None:
            query = query.where(event_log.c.occurred_at > occurred_after)
        query = query.order_by(event_log.c.position).limit(limit)
        with self.engine.connect() as conn:
            return [EventRow(*row) for row in conn.execute(query)]

    def _fetch(self, query: sa.Select) -> list[RecordedEvent]:
        with self.engine.connect() as conn:
            return [RecordedEvent(**row) for row in conn.execute(query).mappings()]


def _selected(selection: Selection) -> sa.ColumnElement[bool]:
    is_stream = event_log.c.kind == "stream"
    if selection.all_streams:
        streams = is_stream
    else:
        wanted = []
        if selection.streams:
            wanted.append(event_log.c.stream.in_(list(selection.streams)))
        if selection.anomalies:
            wanted.append(anomalous())
        streams = sa.and_(is_stream, sa.or_(*wanted)) if wanted else sa.false()
    if selection.notices:
        return sa.or_(streams, event_log.c.kind != "stream")
    return streams


def anomalous(flags: Sequence[str] = ANOMALY_FLAGS) -> sa.ColumnElement[bool]:
    """`app.domain.events.is_anomalous` as SQL (with `flags`, of those flags only)."""
    return sa.or_(
        event_log.c.expected_flag.in_(list(flags)),
        sa.and_(event_log.c.flag.in_(list(flags)), event_log.c.correlation_id.isnot(None)),
    )
