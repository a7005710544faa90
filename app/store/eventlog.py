"""The event log: the one append-only table every event goes through.

Appends reserve their positions under a table lock held until commit (`event_log_reserve`,
see migration 0001), so positions become visible in commit order and a reader that asks for
`position > N` never skips a row. Each appending transaction notifies the `event_log` channel
with the highest position it wrote; notifications are hints, and listeners always read rows
from the table.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
import psycopg
import sqlalchemy as sa
from psycopg import postgres, sql
from psycopg.adapt import Dumper
from psycopg.pq import Format
from sqlalchemy import Engine

from app.domain.events import NewEvent, RecordedEvent, StreamEvent, assign_epochs
from app.domain.retention import Partition
from app.store.tables import event_log

CHANNEL = "event_log"

_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def event_data_json(data: Any) -> bytes | str:
    """An event's data as JSON, for the COPY that appends it.

    orjson encodes the generator's bodies several times faster than `json`; what it refuses
    (an integer wider than 64 bits in a client's metadata, say) goes through `json` instead,
    so any body `json` accepts still lands.
    """
    try:
        return orjson.dumps(data, option=_ORJSON_OPTIONS)
    except orjson.JSONEncodeError:
        return json.dumps(data)


class _JsonbDumper(Dumper):
    """A dict as binary jsonb, encoded by `event_data_json` (registered on the COPY's cursor:
    no wrapper object per row)."""

    format = Format.BINARY
    oid = postgres.types["jsonb"].oid

    def dump(self, obj: Any) -> bytes:
        encoded = event_data_json(obj)
        return b"\x01" + (encoded.encode() if isinstance(encoded, str) else encoded)


_COPY_COLUMNS = (
    "position",
    "epoch",
    "kind",
    "type",
    "stream",
    "occurred_at",
    "recorded_at",
    "data",
    "value",
    "normalized",
    "flag",
    "causation_id",
    "correlation_id",
    "expected",
    "expected_flag",
    "delivery",
)
_COPY_TYPES = (
    "int8",
    "int4",
    "text",
    "text",
    "text",
    "timestamptz",
    "timestamptz",
    "jsonb",
    "float8",
    "float8",
    "text",
    "int8",
    "int8",
    "float8",
    "text",
    "jsonb",
)
_COPY_SQL = f"COPY event_log ({', '.join(_COPY_COLUMNS)}) FROM STDIN (FORMAT BINARY)"


_LOCK_SQL = "LOCK TABLE event_log IN EXCLUSIVE MODE"
_EPOCH_SQL = "SELECT epoch FROM event_log ORDER BY position DESC LIMIT 1"
_OPEN_SQL = (
    "SELECT r.first_position, r.last_position, r.current_epoch, clock_timestamp(), "
    "coalesce((SELECT max(end_position) FROM event_log_partition), 0) "
    "FROM event_log_reserve(%s) r"
)
"""A transaction's first append: the lock, its positions, the epoch, the server's clock and
where the partitions made end. Read in the same statement, that end may not yet count a
partition the reservation made: a later append then opens a new COPY, which reads it again."""
_CLAIM_SQL = "SELECT setval(pg_get_serial_sequence('event_log', 'position'), %s), pg_notify(%s, %s)"
"""The positions a transaction's later appends took after its first reserved its own, taken
from the sequence as `event_log_reserve` takes them, and announced at commit as it announces
them."""
_LAST_TICK_SQL = (
    "SELECT data FROM event_log WHERE type = 'control.tick' AND epoch = %s "
    "AND data->>'group' = %s ORDER BY position DESC LIMIT 1"
)


_PARTITIONS_SQL = (
    "SELECT name, first_position, end_position, pg_total_relation_size(name::regclass) "
    "FROM event_log_partition ORDER BY first_position"
)
_NEWEST_IN_SQL = "SELECT recorded_at, occurred_at FROM {} ORDER BY position DESC LIMIT 1"
_OLDEST_IN_SQL = "SELECT position, occurred_at, recorded_at FROM {} ORDER BY position LIMIT 1"
_SIZE_SQL = (
    "SELECT coalesce(sum(pg_total_relation_size(t.relid)), 0), coalesce(sum(s.n_live_tup), 0) "
    "FROM pg_partition_tree('event_log') t "
    "LEFT JOIN pg_stat_user_tables s ON s.relid = t.relid WHERE t.isleaf"
)
_COUNT_IN_SQL = "SELECT count(*) FROM {}"
_FORGET_PARTITION_SQL = "DELETE FROM event_log_partition WHERE name = %s"
_DROP_SQL = "DROP TABLE {}"
_PREPARE_SQL = "SELECT event_log_prepare()"


@dataclass(frozen=True)
class LogSize:
    """How big the log is: bytes with indexes, rows (as Postgres's statistics count them),
    and its oldest retained stream event."""

    bytes: int
    rows: int
    oldest_position: int | None
    oldest_occurred_at: datetime | None
    oldest_recorded_at: datetime | None
    retained_from: int
    """Every stream event from this position on is in the log (1 until retention drops)."""


class EpochChanged(RuntimeError):
    """The log moved to another epoch (a reset) since the writer last looked."""

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(f"expected epoch {expected}, the log is at epoch {actual}")
        self.expected = expected
        self.actual = actual


@dataclass(frozen=True)
class Appended:
    """Where a batch landed: positions `first_position..last_position`, in the order given."""

    first_position: int
    last_position: int
    epoch: int
    """The epoch of the batch's last event (a reset inside the batch opens a new one)."""
    recorded_at: datetime

    def position_of(self, index: int) -> int:
        """The position of the batch's `index`-th event."""
        return self.first_position + index

    @property
    def positions(self) -> range:
        return range(self.first_position, self.last_position + 1)


class LogWriter:
    """Appends inside one open transaction; see `EventLog.transaction`.

    A transaction's appends share one binary COPY. The first reserves its positions
    (`event_log_reserve`, which takes the append lock for the rest of the transaction) and
    opens it; from then on no other writer can take a position, so each later append is given
    the next positions here and its rows go into the open COPY, with no round trip: the server
    stores a generator's round on its own core while the generator decides what the round
    causes. The transaction's next statement, or its commit, ends the COPY (`settle`)."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self._conn = conn
        self._copy: _LogCopy | None = None

    def append(self, events: Sequence[NewEvent], *, expected_epoch: int | None = None) -> Appended:
        """Append `events` in order; a reset among them opens the next epoch for itself and
        the events after it.

        With `expected_epoch`, refuse (EpochChanged) when a reset opened another epoch since
        the caller folded the log: a generator never writes into an epoch it has not seen.
        """
        if not events:
            raise ValueError("append needs at least one event")
        return self._copy_for(len(events), expected_epoch).write(events)

    def append_stream(self, events: Sequence[StreamEvent], *, expected_epoch: int) -> Appended:
        """Append generated stream events (`StreamEvent`, the generator's bulk form)."""
        if not events:
            raise ValueError("append needs at least one event")
        return self._copy_for(len(events), expected_epoch).write_generated(events)

    def settle(self) -> None:
        """End the open COPY, if any, once the server has stored its rows, and take the
        positions its later appends were given from the log's sequence (listeners are told
        at commit). Raises what the server refused."""
        copy, self._copy = self._copy, None
        if copy is not None:
            last = copy.close()
            if last > copy.reserved:
                self._conn.execute(_CLAIM_SQL, (last, CHANNEL, str(last)))

    def abandon(self, error: BaseException) -> None:
        """End the open COPY with `error` (the transaction is rolling back)."""
        copy, self._copy = self._copy, None
        if copy is not None:
            copy.abandon(error)

    def _copy_for(self, count: int, expected_epoch: int | None) -> _LogCopy:
        """The open COPY, if `count` more positions stay in the partitions made; else a new
        one, whose first `count` positions are reserved."""
        copy = self._copy
        if copy is None or copy.next_position + count > copy.bound:
            self.settle()
            first, last, epoch, server_now, bound = self._conn.execute(
                _OPEN_SQL, (count,)
            ).fetchone()
            copy = self._copy = _LogCopy(self._conn, epoch, first, last, bound, server_now)
        if expected_epoch is not None and copy.epoch != expected_epoch:
            raise EpochChanged(expected_epoch, copy.epoch)
        return copy

    def lock(self) -> int:
        """Take the append lock now (appends take it anyway) and return the current epoch: what
        this transaction reads next cannot change until it commits."""
        self.settle()
        self._conn.execute(_LOCK_SQL)
        row = self._conn.execute(_EPOCH_SQL).fetchone()
        return int(row[0]) if row else 1

    def last_tick(self, group: str, epoch: int) -> dict | None:
        """The data of a cadence group's newest `control.tick` in `epoch`, read in this
        transaction (under the lock, it is the truth for the generator's fence)."""
        self.settle()
        row = self._conn.execute(_LAST_TICK_SQL, (epoch, group)).fetchone()
        return row[0] if row else None

    def drop_partition(self, name: str) -> int:
        """Drop one partition of stream events (retention); the rows it held. The caller
        appends the `control.retention` that says so in the same transaction."""
        self.settle()
        table = sql.Identifier(name)
        row = self._conn.execute(sql.SQL(_COUNT_IN_SQL).format(table)).fetchone()
        self._conn.execute(_FORGET_PARTITION_SQL, (name,))
        self._conn.execute(sql.SQL(_DROP_SQL).format(table))
        return int(row[0]) if row else 0


class _LogCopy:
    """A binary COPY into the log, open in a transaction that holds the append lock, and
    the positions it hands out: from the first append's, `first` to `reserved`, on up to
    `bound`, where the partitions made end. Event data goes to jsonb through a dumper
    registered on its cursor (no wrapper object per row).

    Rows say when they were written (`recorded_at`) by the server's clock when the COPY
    opened, carried on by this process's monotonic clock: each batch's own moment, not the
    transaction's start (seconds earlier for a generator's chunk), without asking."""

    def __init__(
        self,
        conn: psycopg.Connection,
        epoch: int,
        first: int,
        reserved: int,
        bound: int,
        server_now: datetime,
    ) -> None:
        self.epoch = epoch
        self.next_position = first
        self.reserved = reserved
        self.bound = max(bound, reserved + 1)
        self._server_now = server_now
        self._opened = time.monotonic()
        self._scope = ExitStack()
        cursor = self._scope.enter_context(conn.cursor())
        cursor.adapters.register_dumper(dict, _JsonbDumper)
        self._copy = self._scope.enter_context(cursor.copy(_COPY_SQL))
        self._copy.set_types(_COPY_TYPES)

    def write(self, events: Sequence[NewEvent]) -> Appended:
        """Write the events' rows at the next positions, each in its epoch."""
        first, recorded_at = self.next_position, self._now()
        epochs = assign_epochs(events, self.epoch)
        write_row = self._copy.write_row
        for position, epoch, event in zip(
            range(first, first + len(events)), epochs, events, strict=True
        ):
            write_row(_row(position, epoch, event, recorded_at))
        return self._wrote(first, len(events), epochs[-1], recorded_at)

    def write_generated(self, events: Sequence[StreamEvent]) -> Appended:
        """`write` for the generator's stream events: their rows straight from the tuples."""
        first, epoch, recorded_at = self.next_position, self.epoch, self._now()
        write_row = self._copy.write_row
        for position, event in enumerate(events, first):
            write_row(
                (position, epoch, "stream", event.stream, event.stream, event.occurred_at,
                 recorded_at, *event[2:])
            )  # fmt: skip
        return self._wrote(first, len(events), epoch, recorded_at)

    def close(self) -> int:
        """End the COPY once the server has stored every row; the last position written."""
        self._scope.close()
        return self.next_position - 1

    def abandon(self, error: BaseException) -> None:
        """End the COPY as failed by `error`."""
        self._scope.__exit__(type(error), error, error.__traceback__)

    def _now(self) -> datetime:
        return self._server_now + timedelta(seconds=time.monotonic() - self._opened)

    def _wrote(self, first: int, count: int, epoch: int, recorded_at: datetime) -> Appended:
        self.next_position, self.epoch = first + count, epoch
        return Appended(first, first + count - 1, epoch, recorded_at)


class LogTransaction:
    """An appending transaction: its writer, then one end, `commit`, `commit_behind` or
    `rollback`. `EventLog.transaction` ends one as a `with` block does."""

    def __init__(self, engine: Engine, committer: Executor) -> None:
        self._committer = committer
        self._scope = ExitStack()
        conn = self._scope.enter_context(engine.begin())
        self.writer = LogWriter(conn.connection.driver_connection)

    def commit(self) -> None:
        """End the open COPY and commit; if the server refused a row, roll back and raise
        why."""
        try:
            self.writer.settle()
        except BaseException as error:
            self.rollback(error)
            raise
        self._scope.close()

    def commit_behind(self) -> Future[None]:
        """`commit` in the log's committer thread, returning at once; the future says how it
        went. A generator's chunk ends its COPY (the server storing its last rows) and
        commits (a WAL flush) while the next chunk's first round is worked out. The caller
        leaves the transaction alone after."""
        return self._committer.submit(self.commit)

    def rollback(self, error: BaseException) -> None:
        """Roll back because of `error`, ending an open COPY first."""
        self.writer.abandon(error)
        self._scope.__exit__(type(error), error, error.__traceback__)


def _row(position: int, epoch: int, event: NewEvent, recorded_at: datetime) -> tuple:
    """An event's row for the COPY, in `_COPY_COLUMNS`' order (`_LogCopy.write_generated`
    makes the same rows from the generator's tuples)."""
    return (
        position,
        epoch,
        event.kind,
        event.type,
        event.stream,
        event.occurred_at,
        recorded_at,
        event.data,
        event.value,
        event.normalized,
        event.flag,
        event.causation_id,
        event.correlation_id,
        event.expected,
        event.expected_flag,
        event.delivery,
    )


class EventLog:
    """Reads and appends; the only code that writes `event_log`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._committer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="event-log-commit")

    @contextmanager
    def transaction(self) -> Iterator[LogWriter]:
        """A transaction that appends; it commits on exit (and then notifies listeners), or
        rolls back on an error, after its COPY has ended (`LogWriter`)."""
        transaction = self.begin()
        try:
            yield transaction.writer
        except BaseException as error:
            transaction.rollback(error)
            raise
        transaction.commit()

    def begin(self) -> LogTransaction:
        """A transaction that appends, ended by its caller (`LogTransaction`)."""
        return LogTransaction(self.engine, self._committer)

    def close(self) -> None:
        """Stop the committer thread once what it was given is done."""
        self._committer.shutdown(wait=True)

    def append(self, events: Sequence[NewEvent], *, expected_epoch: int | None = None) -> Appended:
        """Append a batch in one transaction; positions are in the order given."""
        with self.transaction() as writer:
            return writer.append(events, expected_epoch=expected_epoch)

    def read_after(
        self,
        position: int,
        *,
        limit: int = 1000,
        epoch: int | None = None,
        kinds: Iterable[str] | None = None,
        streams: Iterable[str] | None = None,
        types: Iterable[str] | None = None,
    ) -> list[RecordedEvent]:
        """Events with a position above `position`, oldest first, at most `limit`."""
        query = sa.select(event_log).where(event_log.c.position > position)
        query = _filtered(query, epoch=epoch, kinds=kinds, streams=streams, types=types)
        query = query.order_by(event_log.c.position).limit(limit)
        return self._fetch(query)

    def read_stream(
        self,
        stream: str,
        start: datetime,
        end: datetime,
        *,
        epoch: int | None = None,
        limit: int | None = None,
    ) -> list[RecordedEvent]:
        """One stream's events with `start <= occurred_at < end`, in time order."""
        query = sa.select(event_log).where(
            event_log.c.stream == stream,
            event_log.c.occurred_at >= start,
            event_log.c.occurred_at < end,
        )
        query = _filtered(query, epoch=epoch)
        query = query.order_by(event_log.c.occurred_at, event_log.c.position).limit(limit)
        return self._fetch(query)

    def read_deliveries(
        self,
        epoch: int,
        start: datetime,
        end: datetime,
        streams: Iterable[str],
        *,
        after: int = 0,
        limit: int = 1000,
    ) -> list[RecordedEvent]:
        """The stream events of an epoch that occurred in [start, end) and that a fault of
        delivery acted on (their `delivery` says how), by position after `after`."""
        query = sa.select(event_log).where(
            event_log.c.epoch == epoch,
            event_log.c.delivery.isnot(None),
            event_log.c.occurred_at >= start,
            event_log.c.occurred_at < end,
            event_log.c.position > after,
            event_log.c.stream.in_(list(streams)),
        )
        return self._fetch(query.order_by(event_log.c.position).limit(limit))

    def current_epoch(self) -> int:
        """The epoch of the newest row (1 for an empty log)."""
        query = sa.select(event_log.c.epoch).order_by(event_log.c.position.desc()).limit(1)
        with self.engine.connect() as conn:
            epoch = conn.execute(query).scalar()
        return 1 if epoch is None else int(epoch)

    def last_position(self) -> int:
        """The highest committed position (0 for an empty log)."""
        query = sa.select(sa.func.max(event_log.c.position))
        with self.engine.connect() as conn:
            position = conn.execute(query).scalar()
        return int(position or 0)

    def prepare(self) -> None:
        """Make the next partition of stream events before appends need it."""
        with self.engine.begin() as conn:
            conn.exec_driver_sql(_PREPARE_SQL)

    def partitions(self) -> list[Partition]:
        """The partitions of stream events, oldest first, with their newest row's times."""
        with self.engine.connect() as conn:
            cursor = conn.connection.driver_connection
            found = []
            for name, first, end, size in cursor.execute(_PARTITIONS_SQL).fetchall():
                newest = cursor.execute(
                    sql.SQL(_NEWEST_IN_SQL).format(sql.Identifier(name))
                ).fetchone()
                found.append(
                    Partition(
                        name,
                        int(first),
                        int(end),
                        int(size),
                        newest[0] if newest else None,
                        newest[1] if newest else None,
                    )
                )
            return found

    def size(self) -> LogSize:
        with self.engine.connect() as conn:
            cursor = conn.connection.driver_connection
            size, rows = cursor.execute(_SIZE_SQL).fetchone()
            partitions = cursor.execute(_PARTITIONS_SQL).fetchall()
            oldest = None
            for name, *_ in partitions:
                oldest = cursor.execute(
                    sql.SQL(_OLDEST_IN_SQL).format(sql.Identifier(name))
                ).fetchone()
                if oldest is not None:
                    break
        retained_from = int(partitions[0][1]) if partitions else 1
        return LogSize(
            bytes=int(size),
            rows=int(rows),
            oldest_position=int(oldest[0]) if oldest else None,
            oldest_occurred_at=oldest[1] if oldest else None,
            oldest_recorded_at=oldest[2] if oldest else None,
            retained_from=retained_from,
        )

    def _fetch(self, query: sa.Select) -> list[RecordedEvent]:
        with self.engine.connect() as conn:
            return [_from_row(row) for row in conn.execute(query).mappings()]


class LogListener:
    """One LISTEN connection per process: wakes when an append commits.

    Notifications only say that something new may be there; callers read the rows from the
    table and poll when no notification comes, so a lost notification only delays them.
    """

    def __init__(self, conn: psycopg.Connection) -> None:
        self._conn = conn
        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))

    def wait(self, timeout: float) -> int | None:
        """The highest position announced within `timeout` seconds, or None on timeout."""
        highest: int | None = None
        for notify in self._conn.notifies(timeout=timeout, stop_after=1):
            position = int(notify.payload)
            highest = position if highest is None else max(highest, position)
        return highest

    def close(self) -> None:
        self._conn.close()


def _filtered(
    query: sa.Select,
    *,
    epoch: int | None = None,
    kinds: Iterable[str] | None = None,
    streams: Iterable[str] | None = None,
    types: Iterable[str] | None = None,
) -> sa.Select:
    if epoch is not None:
        query = query.where(event_log.c.epoch == epoch)
    if kinds is not None:
        query = query.where(event_log.c.kind.in_(list(kinds)))
    if streams is not None:
        query = query.where(event_log.c.stream.in_(list(streams)))
    if types is not None:
        query = query.where(event_log.c.type.in_(list(types)))
    return query


def _from_row(row: sa.RowMapping) -> RecordedEvent:
    return RecordedEvent(**row)
