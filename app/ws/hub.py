"""The feed hub: one per web process. It tails the log and hands every new batch to each
connected client's mailbox.

Threads (greenlets under gunicorn's gevent worker), started on the first WebSocket connection
or by `start()` (gunicorn.conf.py starts it as each worker boots), and kept running with no
client connected:

- the listener: its own autocommit connection, with `LISTEN event_log`, on which it also reads
  the new rows (one round trip a read). It wakes on a notification (a hint: the highest
  position written) or after `poll_interval` without one, reads the rows after the last
  position it has read, once for the whole process, encodes each event to JSON once, adds
  them to the rolling buffer and offers the batch to every mailbox, all under the hub's lock.
  Offering never waits: a client that falls behind overflows its own mailbox. On any
  database error it reconnects with a backoff and reads on from where it stopped, so nothing
  is lost and nothing is read twice.
- the janitor: forgets buffered events older than the window, wakes the handlers whose
  heartbeat timers came due, and cuts the socket of a client whose single send has been stuck
  for `send_timeout` (a peer that stopped reading with full kernel buffers), so that its
  handler ends.

A client joins under the same lock: it is added to the fan-out and reads the position the
listener has reached in one step, so what it gets from the snapshot (up to that position) and
what it gets live (after it) neither overlap nor leave a gap.

A client that catches up (a resume), or that falls further behind than its mailbox holds, is
out of the fan-out: it reads the log at its own pace, a page when the previous one has been
sent, so no queue of live events grows behind it and nothing it reads can overflow. It
rejoins the fan-out under the lock once the rolling buffer holds everything after its
position, and takes that gap from the buffer in the same step (`rejoin`). At most
`log_readers` reads of the log run at once per process. Catch-ups share the worker's one core
with live delivery, which goes first: they decode, encode and frame what they read in short
steps, one at a time, each once nothing live is waiting to run (`app.ws.turns`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from app.store.feed import FeedReads, LogTail, Selection
from app.ws.buffer import RollingBuffer
from app.ws.mailbox import Batch, Mailbox
from app.ws.protocol import Subscribe, WireEvent, chunks
from app.ws.resume import ResumePlan, Retained, Source, plan_resume
from app.ws.topics import Subscription, TopicCatalog
from app.ws.turns import STEP_EVENTS, CatchUpTurns

if TYPE_CHECKING:
    from app.domain.catalog import Catalog
    from app.store import Store

log = logging.getLogger(__name__)


class Subscriber(Protocol):
    """What the hub needs of a client it serves (`app.ws.session.Session`): a mailbox to
    offer batches to, and how its connection is doing, for the janitor. The hub knows
    nothing else of a session."""

    mailbox: Mailbox

    def abort(self) -> None:
        """Cut the connection (from the hub's thread)."""

    def stuck_for(self, now: float) -> float:
        """How long its current send has been waiting (0 when not sending)."""

    def heartbeat_due(self, now: float) -> bool:
        """Whether one of its heartbeat timers came due."""


@dataclass(frozen=True)
class FeedOptions:
    """The feed's timings and limits (seconds, events, bytes). Tests pass short timings."""

    ping_interval: float | None = 30.0
    pong_timeout: float = 10.0
    stale_timeout: float = 90.0
    batch_window: float = 0.1
    poll_interval: float = 1.0
    queue_limit: int = 5_000
    """Events waiting for one client before it is told it overflowed and is dropped."""
    send_timeout: float = 10.0
    """How long one frame may take to leave before the client is taken as stalled."""
    buffer_seconds: float = 60.0
    buffer_events: int = 50_000
    """The most events the rolling buffer holds, whatever the clock's speed (FEED_BUFFER_EVENTS)."""
    snapshot_size: int = 10
    max_message_bytes: int = 16 * 1024
    """Client messages above this get an `error` frame; the connection stays up."""
    hard_message_bytes: int = 1024 * 1024
    """Client messages above this close the connection (1009) before they are buffered."""
    rate_per_second: float = 20.0
    rate_burst: int = 20
    page_size: int = 1000
    """Rows per read of the log (live and catch-up), and events per frame."""
    log_readers: int = 4
    """Catch-up reads of the log that may run at once in one process."""
    catchup_share: float = 0.5
    """At most this share of the process's time goes to catch-ups' CPU work (`app.ws.turns`):
    the rest stays with live delivery and the database."""
    catchup_limit: float = 600.0
    """Seconds a client may spend reading the log to catch up (after a resume, or after
    falling behind) before it is closed with `overflow` and its exact `lastPosition`."""

    def __post_init__(self) -> None:
        if self.queue_limit < self.page_size:
            raise ValueError(
                f"queue_limit ({self.queue_limit}) must hold at least one read of the log "
                f"(page_size {self.page_size}), or every client would overflow on a burst"
            )


@dataclass
class Join:
    """What a subscribe gets from the hub, read in one step under its lock."""

    head: int
    epoch: int
    plan: ResumePlan
    batches: list[Batch]
    """Batches offered to the client before it joined (for its previous topics)."""
    events: list[WireEvent] = field(default_factory=list)
    """The snapshot, or the catch-up from memory, per `plan`."""

    @property
    def live(self) -> bool:
        """Whether the client is in the fan-out now (a snapshot); a catch-up is sent out of
        it and then rejoins (`Hub.rejoin`)."""
        return self.plan.source is Source.SNAPSHOT


@dataclass
class Rejoin:
    """What a client rejoining the fan-out takes in the same step: the buffered events after
    its position, up to `head`."""

    head: int
    events: list[WireEvent]


class Hub:
    def __init__(
        self,
        store: Store,
        catalog: Catalog,
        options: FeedOptions | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.reads = FeedReads(store.engine)
        self.topics = TopicCatalog.from_catalog(catalog)
        self.options = options or FeedOptions()
        self.clock = clock
        self.buffer = RollingBuffer(
            window=self.options.buffer_seconds,
            per_stream=self.options.snapshot_size,
            max_events=self.options.buffer_events,
        )
        self._database_url = store.engine.url.render_as_string(hide_password=False)
        self._lock = threading.Lock()
        self._start_lock = threading.Lock()
        self._subscribers: set[Subscriber] = set()
        """Clients that subscribed and are in the fan-out: they get every batch."""
        self._reading_log: set[Subscriber] = set()
        """Clients catching up from the log at their own pace, out of the fan-out."""
        self._log_reads = threading.BoundedSemaphore(self.options.log_readers)
        self.turns = CatchUpTurns(self.options.catchup_share)
        """Catch-ups' CPU work, a short step at a time, after live work (`app.ws.turns`)."""
        self._connected: set[Subscriber] = set()
        """Every open connection, subscribed or not (the janitor watches them all)."""
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._started = False
        self.listening = threading.Event()
        """Set while the listener holds its LISTEN connection (tests wait for it)."""
        self._read_at: float | None = None
        """When (`clock`) the listener last read the log, rows or none."""

    # Lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Read the log's head and the latest events, then start the listener and the janitor.
        Idempotent; raises when the database cannot be read (the next call tries again)."""
        with self._start_lock:
            if self._started:
                return
            self._warm_up()
            self._stop.clear()
            self._threads = [
                threading.Thread(target=self._listen, name="feed-listener", daemon=True),
                threading.Thread(target=self._janitor, name="feed-janitor", daemon=True),
            ]
            for thread in self._threads:
                thread.start()
            self._started = True
            log.info(
                "feed hub started at position %d, epoch %d (psycopg wait: %s)",
                self.buffer.newest,
                self.buffer.epoch,
                psycopg_wait_name(),
            )

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the threads and drop every client (they reconnect and resume)."""
        with self._start_lock:
            self._stop.set()
            self.disconnect_all()
            for thread in self._threads:
                thread.join(timeout)
            self._threads = []
            self._started = False
            self.listening.clear()

    @property
    def started(self) -> bool:
        return self._started

    def disconnect_all(self) -> None:
        """Cut every client's connection; each resumes from its last position."""
        with self._lock:
            subscribers = list(self._subscribers | self._connected)
        for subscriber in subscribers:
            subscriber.abort()

    # Clients -------------------------------------------------------------------------------

    def join(
        self, subscriber: Subscriber, subscribe: Subscribe, subscription: Subscription
    ) -> Join:
        """Add `subscriber` to the fan-out (if it is not yet) and read where it starts."""
        retained = self._retained(subscribe)
        with self._lock:
            self._subscribers.add(subscriber)
            batches = subscriber.mailbox.take_batches()
            buffer = self.buffer
            plan = plan_resume(
                last_event_id=subscribe.last_event_id,
                last_timestamp=subscribe.last_timestamp,
                head=buffer.newest,
                epoch_start=buffer.epoch_start,
                buffer_floor=buffer.floor,
                retained=retained,
            )
            events: list[WireEvent] = []
            if plan.source is Source.SNAPSHOT:
                streams = subscription.snapshot_streams(self.topics)
                events = buffer.snapshot(streams, subscription.anomalies)
            elif plan.source is Source.MEMORY:
                events = buffer.after(subscribe.last_event_id)
            join = Join(buffer.newest, buffer.epoch, plan, batches, events)
            if not join.live:
                self._leave(subscriber)
            return join

    def fall_behind(self, subscriber: Subscriber) -> None:
        """Take a client that overflowed its mailbox out of the fan-out: it reads the log
        from its position until it can rejoin."""
        with self._lock:
            self._leave(subscriber)
            subscriber.mailbox.take_batches()
            subscriber.mailbox.reset_overflow()

    def rejoin(self, subscriber: Subscriber, after: int) -> Rejoin | None:
        """Put a client back in the fan-out if the buffer holds every event after `after`,
        with those events; None while it does not (the client reads on from the log)."""
        with self._lock:
            buffer = self.buffer
            if not buffer.covers(after):
                return None
            self._reading_log.discard(subscriber)
            self._subscribers.add(subscriber)
            return Rejoin(buffer.newest, buffer.after(after))

    def _leave(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)
        self._reading_log.add(subscriber)

    def _retained(self, subscribe: Subscribe) -> Retained | None:
        """Where the log's stream events start, for a resume that would read the log (asked
        before taking the hub's lock: it is a query)."""
        position, at = subscribe.last_event_id, subscribe.last_timestamp
        if at is None and (position is None or position >= self.buffer.floor):
            return None
        oldest = self.reads.retained()
        return None if oldest is None else Retained(*oldest)

    def connect(self, subscriber: Subscriber) -> None:
        """A new connection: watched by the janitor from now on."""
        with self._lock:
            self._connected.add(subscriber)

    def reach(self, position: int, timeout: float = 5.0) -> None:
        """Wait a little for the listener to read up to `position`, when the log holds it.

        A client that resumes here from a position another process has already delivered
        (workers read the same notification a few milliseconds apart) must not be told that
        its position is unknown. Returns at once when the position is read, or beyond the log.
        """
        if position <= self.buffer.newest or position > self.reads.head().position:
            return
        deadline = self.clock() + timeout
        while self.buffer.newest < position and self.clock() < deadline:
            time.sleep(0.005)

    def detach(self, subscriber: Subscriber) -> None:
        with self._lock:
            self._subscribers.discard(subscriber)
            self._reading_log.discard(subscriber)
            self._connected.discard(subscriber)

    def log_pages(
        self,
        after: int,
        through: int,
        subscription: Subscription,
        *,
        epoch: int | None = None,
        occurred_after: datetime | None = None,
    ) -> Iterator[list[WireEvent]]:
        """The subscription's events with `after < position <= through`, from the log, in
        pages of `page_size` rows (a superset: the caller checks each event). Rows are
        encoded a step at a time in catch-up turns."""
        selection = _selection(subscription)
        cursor = after
        while cursor < through:
            with self._log_reads:
                rows = self.reads.read_range(
                    cursor,
                    through,
                    selection,
                    epoch=epoch,
                    occurred_after=occurred_after,
                    limit=self.options.page_size,
                )
            if not rows:
                return
            page: list[WireEvent] = []
            for step in chunks(rows, STEP_EVENTS):
                with self.turns.turn():
                    page += [WireEvent.of(row) for row in step]
            yield page
            cursor = rows[-1].position
            if len(rows) < self.options.page_size:
                return

    def first_position_after(self, moment: datetime, through: int, epoch: int) -> int | None:
        """The lowest position (up to `through`) of an event of `epoch` that occurred after
        `moment`, or None: where a catch-up by time starts."""
        return self.reads.first_position_after_time(
            moment, epoch=epoch, through=through, streams=self.topics.streams
        )

    def time_pages(
        self,
        moment: datetime,
        after: int,
        through: int,
        epoch: int,
        subscription: Subscription,
    ) -> Iterator[list[WireEvent]]:
        """The subscription's events of `epoch` that occurred after `moment`, with
        `after < position <= through`, in position order."""
        return self.log_pages(after, through, subscription, epoch=epoch, occurred_after=moment)

    @property
    def position(self) -> int:
        return self.buffer.newest

    @property
    def epoch(self) -> int:
        return self.buffer.epoch

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {
                "clients": len(self._subscribers | self._reading_log | self._connected),
                "subscribed": len(self._subscribers | self._reading_log),
                "readingLog": len(self._reading_log),
                "position": self.buffer.newest,
                "epoch": self.buffer.epoch,
                "buffered": self.buffer.held,
                "waiting": sum(s.mailbox.waiting_events for s in self._subscribers),
                "overflowed": sum(s.mailbox.overflowed for s in self._subscribers),
            }

    def queue_depths(self) -> list[int]:
        """Events waiting in each subscribed client's mailbox, now."""
        with self._lock:
            return [subscriber.mailbox.waiting_events for subscriber in self._subscribers]

    def seconds_since_read(self) -> float | None:
        """Seconds since the listener last read the log (None before its first read). Well
        above `poll_interval`, the listener is stuck or reconnecting."""
        read_at = self._read_at
        return None if read_at is None else self.clock() - read_at

    # The listener --------------------------------------------------------------------------

    def _warm_up(self) -> None:
        head = self.reads.head()
        latest = self.reads.latest_per_stream(
            self.topics.streams,
            epoch=head.epoch,
            through=head.position,
            per_stream=self.options.snapshot_size,
        )
        flagged = self.reads.latest_anomalies(
            epoch=head.epoch,
            through=head.position,
            limit=self.options.snapshot_size,
        )
        with self._lock:
            self.buffer.seed(
                position=head.position,
                epoch=head.epoch,
                epoch_start=head.epoch_start,
                latest=[WireEvent.of(event) for event in latest],
                anomalies=[WireEvent.of(event) for event in flagged],
            )

    def _listen(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            tail = None
            try:
                tail = LogTail(self._database_url)
                self.listening.set()
                self._read_new(tail)  # whatever committed while nobody listened
                backoff = 0.5
                while not self._stop.is_set():
                    hint = tail.wait(self.options.poll_interval)
                    if hint is None or hint > self.buffer.newest:
                        self._read_new(tail)
            except Exception:
                self.listening.clear()
                if self._stop.is_set():
                    break
                log.exception("feed listener failed; reconnecting in %.1f s", backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
            finally:
                if tail is not None:
                    _close_quietly(tail)
        self.listening.clear()

    def _read_new(self, tail: LogTail) -> None:
        """Read every row after the last one read, page by page, and hand each page out."""
        page_size = self.options.page_size
        while not self._stop.is_set():
            rows = tail.read_after(self.buffer.newest, page_size)
            self._read_at = self.clock()
            if not rows:
                return
            self._publish([WireEvent.of(row) for row in rows])
            if len(rows) < page_size:
                return

    def _publish(self, events: list[WireEvent]) -> None:
        batch = Batch.of(events)
        with self._lock:
            self.buffer.add(batch.events, batch.through, self.clock())
            for subscriber in self._subscribers:
                subscriber.mailbox.offer(batch)

    # The janitor ---------------------------------------------------------------------------

    def _janitor(self) -> None:
        while not self._stop.wait(self._janitor_interval()):
            now = self.clock()
            with self._lock:
                self.buffer.evict(now)
                subscribers = list(self._subscribers | self._connected)
            for subscriber in subscribers:
                stuck = subscriber.stuck_for(now)
                if stuck > self.options.send_timeout:
                    log.info("feed: a send has been stuck for %.1f s; dropping the client", stuck)
                    subscriber.abort()
                elif subscriber.heartbeat_due(now):
                    subscriber.mailbox.nudge()

    def _janitor_interval(self) -> float:
        """A quarter of the shortest timing it watches, between 20 ms and 1 s: heartbeat
        timers fire at most that late (a second, against 10 to 90 s by default)."""
        options = self.options
        timings = [options.send_timeout, options.pong_timeout, options.stale_timeout]
        if options.ping_interval:
            timings.append(options.ping_interval)
        return max(0.02, min(1.0, min(timings) / 4))


def _selection(subscription: Subscription) -> Selection:
    return Selection(
        all_streams=subscription.all_streams,
        streams=tuple(sorted(subscription.streams)),
        anomalies=subscription.anomalies,
        notices=True,
    )


def _close_quietly(tail: LogTail) -> None:
    try:
        tail.close()
    except Exception:
        log.debug("closing the feed listener failed", exc_info=True)


def psycopg_wait_name() -> str:
    """Which wait function psycopg chose at import: `wait_c` does not yield to gevent, so a
    worker that imported psycopg before monkey-patching would block on every query."""
    from psycopg import waiting

    return getattr(waiting.wait, "__name__", "?")
