"""One WebSocket client: its handler loop, from its first message to its close.

The handler (the request's own thread, or greenlet under gevent) is the only code that sends
to the client. It waits on the client's mailbox, where the hub puts live batches and the
client's reader (a second thread/greenlet, blocked in `receive`) puts the client's messages.
So a client that reads slowly only ever slows its own handler: the hub never waits for it.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from simple_websocket import ConnectionClosed

from app.domain.timerange import iso
from app.ws.mailbox import Batch, Mailbox
from app.ws.policy import Batcher, Heartbeat, MessageBucket
from app.ws.protocol import (
    ErrorCode,
    Ping,
    Pong,
    ProtocolError,
    Subscribe,
    Unsubscribe,
    WireEvent,
    chunks,
    error_frame,
    events_frame,
    frame,
    notice_frame,
    parse_message,
    text_frame,
)
from app.ws.resume import REASON_MESSAGES, Source
from app.ws.topics import Subscription, UnknownTopics, only_new, resolve_topics

if TYPE_CHECKING:
    from app.ws.hub import Hub, Join

log = logging.getLogger(__name__)

CLOSE_POLICY = 1008
CLOSE_INTERNAL_ERROR = 1011
CLOSE_TRY_AGAIN = 1013

Matches = Callable[[str, str | None, str | None, str], bool]


class WholeFrameSocket:
    """The client's socket as simple-websocket sees it, with writes made whole and serial.

    simple-websocket 1.1.0 writes each frame with one `socket.send` and ignores a short write
    (its issue #45): under gevent, or whenever the kernel buffer is nearly full, a frame would
    be cut and the stream corrupted. Every write here goes out whole, one at a time (the
    handler and simple-websocket's own thread, which answers pings and closes, both write).
    """

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._write = threading.Lock()

    def send(self, data: bytes) -> int:
        with self._write:
            sent = self._sock.send(data)  # nearly always all of it, in one call
            if sent < len(data):
                self._sock.sendall(memoryview(data)[sent:])
        return len(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class Session:
    def __init__(self, ws: Any, hub: Hub, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.ws = ws
        self.hub = hub
        self.options = hub.options
        self.clock = clock
        self.mailbox = Mailbox(self.options.queue_limit, message_limit=4 * self.options.rate_burst)
        self.subscription = Subscription()
        self.joined = False
        self.epoch = hub.epoch
        self.delivered = 0
        """Every matching event up to this position has been sent (the resume token)."""
        self._pending: list[WireEvent] = []
        self._pending_through = 0
        self._pending_batch: Batch | None = None
        """The one batch all pending events came from, whole (its frame can be shared)."""
        now = clock()
        self._batcher = Batcher(self.options.batch_window)
        self._limiter = MessageBucket(self.options.rate_per_second, self.options.rate_burst)
        self._heartbeat = Heartbeat(
            now,
            ping_interval=self.options.ping_interval,
            pong_timeout=self.options.pong_timeout,
            stale_timeout=self.options.stale_timeout,
        )
        self._rate_warned_at = -math.inf
        self._send_started: float | None = None
        self._closing = False
        """Set once the server has closed the connection (the loop ends)."""

    # Lifecycle -----------------------------------------------------------------------------

    def run(self) -> None:
        """Serve the client until it goes, is dropped, or the connection fails."""
        if not isinstance(self.ws.sock, WholeFrameSocket):
            with contextlib.suppress(OSError):  # gunicorn sets it; werkzeug does not
                self.ws.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.ws.sock = WholeFrameSocket(self.ws.sock)
        reader = threading.Thread(target=self._read, name="feed-reader", daemon=True)
        reader.start()
        self.hub.connect(self)
        try:
            self._loop()
        except (ConnectionClosed, OSError):
            pass  # the client went away, or was cut off (see `abort`)
        finally:
            self.hub.detach(self)
            self.mailbox.close()

    def abort(self) -> None:
        """Cut the connection from another thread: a send stuck on a peer that stopped
        reading fails at once, and the reader sees the end."""
        self.mailbox.close()
        with contextlib.suppress(OSError):
            self.ws.sock.shutdown(socket.SHUT_RDWR)

    def fail(self) -> None:
        """After an unexpected error: tell the client where to resume from, then close."""
        with contextlib.suppress(Exception):
            self._error(
                ErrorCode.INTERNAL_ERROR,
                "the server failed to serve this connection; reconnect and resume",
                lastPosition=self._position(),
            )
            self.ws.close(reason=CLOSE_INTERNAL_ERROR, message="internal error")

    def stuck_for(self, now: float) -> float:
        """How long the current send has been waiting (0 when not sending)."""
        started = self._send_started
        return 0.0 if started is None else now - started

    def heartbeat_due(self, now: float) -> bool:
        """Whether a heartbeat timer came due (the hub's janitor then wakes the handler: an
        idle handler waits without a timer of its own, which is cheaper with many clients)."""
        return now >= self._heartbeat.next_deadline()

    def _read(self) -> None:
        try:
            while True:
                message = self.ws.receive()
                if message is not None:
                    self.mailbox.post(message)
        except Exception:
            pass  # ConnectionClosed, or the socket was cut
        finally:
            self.mailbox.close()

    def _loop(self) -> None:
        while True:
            delivery = self.mailbox.wait(self._wait_for(self.clock()))
            now = self.clock()
            if delivery.closed:
                return
            for batch in delivery.batches:
                self._accept(batch, now)
            if delivery.dropped_messages:
                self._warn_rate(now)
            for message in delivery.messages:
                self._on_message(message, now)
            if self._closing:
                return
            if delivery.overflowed or self.mailbox.overflowed:
                self._flush(now)
                self.hub.fall_behind(self)
                if not self._catch_up_from(self.delivered):
                    self._overflow()
                    return
            if self._pending and (self._batcher.ready(now) or self._frame_full()):
                self._flush(now)
            verdict = self._heartbeat.verdict(now)
            if verdict is not None:
                self._drop(verdict)
                return
            if self._heartbeat.ping_due(now):
                self._send(frame("ping", self.epoch, position=self._position(), time=_now_iso()))
                self._heartbeat.pinged(now)

    def _wait_for(self, now: float) -> float | None:
        """How long to wait: until the batch window ends when events are pending; else with
        no timer (the janitor nudges the handler when a heartbeat timer comes due)."""
        if self._pending:
            return 0.0 if self._frame_full() else self._batcher.due_at() - now
        if self._heartbeat.next_deadline() <= now:
            return 0.0
        return None

    # Live events ---------------------------------------------------------------------------

    def _frame_full(self) -> bool:
        """A whole frame is pending: nothing is gained by waiting for the batch window (a
        burst, such as a generator's chunk of thousands of events, goes out as it is read)."""
        return len(self._pending) >= self.options.page_size

    def _accept(self, batch: Batch, now: float) -> None:
        """Take a live batch through the subscription: stream events wait for the next flush,
        notices go out at once (after what is pending, to keep the log's order)."""
        if batch.through <= self.delivered:
            return
        if batch.has_notices:
            self._accept_one_by_one(batch, now)
        else:
            matched = self.subscription.select_stream_events(batch.events)
            whole = True
            if matched and matched[0].position <= self.delivered:
                matched = [e for e in matched if e.position > self.delivered]
                whole = False
            if matched:
                self._pending_batch = batch if whole and not self._pending else None
                self._pending.extend(matched)
            elif self._pending:
                self._pending_batch = None  # the frame's position moves past this batch
        if self._pending:
            self._pending_through = batch.through
        else:
            self.delivered = max(self.delivered, batch.through)

    def _accept_one_by_one(self, batch: Batch, now: float) -> None:
        self._pending_batch = None
        for event in batch.events:
            if event.position <= self.delivered:
                continue
            if not self.subscription.matches(event.kind, event.stream, event.anomalous, event.type):
                continue
            if event.is_notice:
                self._flush(now)
                self._send(notice_frame(event))
                self.epoch = event.epoch
                self.delivered = event.position
            else:
                self._pending.append(event)
                self._pending_through = event.position

    def _flush(self, now: float) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        batch, self._pending_batch = self._pending_batch, None
        if batch is not None and len(pending) <= self.options.page_size:
            self._send_shared(batch, pending)
        else:
            self._send_events("events", pending, through=self._pending_through)
        self.delivered = max(self.delivered, self._pending_through)
        self._batcher.flushed(now, full=len(pending) % self.options.page_size == 0)

    def _send_shared(self, batch: Batch, events: list[WireEvent]) -> None:
        """One batch's matching events as it came: the frame is encoded once for every client
        with the same topics."""

        def encode() -> bytes:
            return text_frame(events_frame("events", events[0].epoch, batch.through, events))

        self._write(batch.frame_for(self.subscription.topics, encode))
        self.epoch = events[0].epoch

    def _send_events(
        self, kind: str, events: list[WireEvent], *, through: int, **fields: Any
    ) -> None:
        """Events in frames of at most `page_size`; the last frame carries `through`."""
        if len(events) <= self.options.page_size:
            self._send(events_frame(kind, events[0].epoch, through, events, **fields))
            self.epoch = events[0].epoch
            return
        parts = list(chunks(events, self.options.page_size))
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            position = through if last else part[-1].position
            self._send(events_frame(kind, part[0].epoch, position, part, **fields))
            self.epoch = part[0].epoch

    # Client messages -----------------------------------------------------------------------

    def _on_message(self, raw: str | bytes, now: float) -> None:
        self._heartbeat.received(now)
        try:
            message = parse_message(raw, self.options.max_message_bytes)
        except ProtocolError as exc:
            if self._limiter.allow(now):
                self._error(exc.code, exc.message, exc.request_id)
            else:
                self._warn_rate(now)
            return
        if isinstance(message, Pong):
            self._heartbeat.ponged(now)  # never rate limited: it is what keeps the client
            return
        if not self._limiter.allow(now):
            self._warn_rate(now)
            return
        if isinstance(message, Subscribe):
            self._subscribe(message, now)
        elif isinstance(message, Unsubscribe):
            self._unsubscribe(message, now)
        elif isinstance(message, Ping):
            self._send(frame("pong", self.epoch, id=message.id, time=_now_iso()))

    def _subscribe(self, message: Subscribe, now: float) -> None:
        try:
            topics = resolve_topics(message.topics, self.hub.topics)
        except UnknownTopics as exc:
            self._error(
                ErrorCode.UNKNOWN_TOPIC,
                f"{exc}; nothing was subscribed (topics: *, a domain such as customer.*, "
                "high-frequency, medium-frequency, low-frequency, a stream name, anomalies)",
                message.id,
                topics=list(exc.topics),
            )
            return
        old = self.subscription
        new = old.plus(topics, self.hub.topics)
        self._flush(now)
        if message.last_event_id is not None:
            self.hub.reach(message.last_event_id)
        join = self.hub.join(self, message, new)
        for batch in join.batches:
            self._accept(batch, now)
        self._flush(now)
        self.joined = True
        self.epoch = join.epoch
        self._send(self._subscribed_frame(message, old, new, join))
        self.subscription = new
        started = self.clock()
        self._deliver_start(join, message, only_new(old, new))
        self._heartbeat.stood_still(self.clock() - started)
        self.delivered = max(self.delivered, join.head)
        if not join.live and not self._catch_up_from(join.head):
            self._overflow()

    def _subscribed_frame(
        self, message: Subscribe, old: Subscription, new: Subscription, join: Join
    ) -> str:
        fields: dict[str, Any] = {
            "topics": list(new.topics),
            "added": [t for t in new.topics if t not in old.topics],
            "position": join.head,
            "recovered": join.plan.recovered,
        }
        if join.plan.reason is not None:
            fields["reason"] = join.plan.reason
            fields["message"] = REASON_MESSAGES[join.plan.reason]
        if message.id is not None:
            fields["id"] = message.id
        fields["worker"] = os.getpid()
        return frame("subscribed", join.epoch, **fields)

    def _deliver_start(self, join: Join, message: Subscribe, matches: Matches) -> None:
        """The snapshot or the catch-up owed to a subscribe (a catch-up is sent out of the
        fan-out: nothing queues behind it)."""
        plan = join.plan
        if plan.source is Source.SNAPSHOT:
            events = [e for e in join.events if matches(e.kind, e.stream, e.anomalous, e.type)]
            extra: dict[str, Any] = {}
            if plan.recovered is False:
                extra = {"recovered": False, "reason": plan.reason}
            if not events:
                self._send(events_frame("snapshot", join.epoch, join.head, [], **extra))
            else:
                self._send_events("snapshot", events, through=join.head, **extra)
            return
        # Until the catch-up ends, the client holds everything up to where it has got, and no
        # further: if the connection ends in the middle, it resumes from there.
        if plan.source is Source.MEMORY:
            assert message.last_event_id is not None
            self.delivered = message.last_event_id
            pages: Iterable[list[WireEvent]] = [join.events]
        elif plan.source is Source.LOG:
            assert message.last_event_id is not None
            self.delivered = message.last_event_id
            pages = self.hub.log_pages(message.last_event_id, join.head, self.subscription)
        else:
            assert message.last_timestamp is not None
            start = self.hub.first_position_after(message.last_timestamp, join.head, join.epoch)
            self.delivered = join.head if start is None else start - 1
            pages = self.hub.time_pages(
                message.last_timestamp, self.delivered, join.head, join.epoch, self.subscription
            )
        self._send_in_order(pages, matches, "catchup", join.head, {"recovered": True})
        self._send(events_frame("catchup", join.epoch, join.head, [], recovered=True, done=True))
        self.epoch = join.epoch

    def _catch_up_from(self, after: int) -> bool:
        """`_follow`, with the heartbeat's clocks stopped meanwhile."""
        started = self.clock()
        try:
            return self._follow(after)
        finally:
            self._heartbeat.stood_still(self.clock() - started)

    def _follow(self, after: int) -> bool:
        """Out of the fan-out, read what follows `after` from the log at the client's pace
        (a page when the previous one has gone), until the hub's buffer holds the rest; then
        rejoin the fan-out with that rest. False when the client is still behind after
        `catchup_limit` seconds."""
        deadline = self.clock() + self.options.catchup_limit
        position = after
        matches = self.subscription.matches
        while (rejoin := self.hub.rejoin(self, position)) is None:
            if self.clock() > deadline:
                return False
            head = self.hub.position
            pages = self.hub.log_pages(position, head, self.subscription)
            self._send_in_order(pages, matches, "events", head, {})
            position = head
        self._send_in_order([rejoin.events], matches, "events", rejoin.head, {})
        return True

    def _send_in_order(
        self,
        pages: Iterable[list[WireEvent]],
        matches: Matches,
        kind: str,
        through: int,
        fields: dict[str, Any],
    ) -> None:
        """The matching events of `pages` in log order: notices in frames of their own,
        stream events in `kind` frames of up to `page_size` (with `fields`); the client then
        holds everything through `through`."""
        waiting: list[WireEvent] = []
        for page in pages:
            for event in self._matching(page, matches):
                if event.is_notice:
                    self._send_part(kind, waiting, fields)
                    waiting = []
                    self._send(notice_frame(event))
                    self.epoch = event.epoch
                    self.delivered = event.position
                    continue
                waiting.append(event)
                if len(waiting) >= self.options.page_size:
                    self._send_part(kind, waiting, fields)
                    waiting = []
        self._send_part(kind, waiting, fields)
        self.delivered = max(self.delivered, through)

    def _matching(self, page: list[WireEvent], matches: Matches) -> list[WireEvent]:
        """The events of `page` that `matches`, checked a frame's worth at a time in catch-up
        turns (a page from memory may hold tens of thousands)."""
        found: list[WireEvent] = []
        for step in chunks(page, self.options.page_size):
            with self.hub.turns.turn():
                found += [e for e in step if matches(e.kind, e.stream, e.anomalous, e.type)]
        return found

    def _send_part(self, kind: str, events: list[WireEvent], fields: dict[str, Any]) -> None:
        if not events:
            return
        position = events[-1].position
        if kind == "catchup":
            fields = {**fields, "done": False}
        with self.hub.turns.turn():  # building the frame is a catch-up's CPU work
            data = text_frame(events_frame(kind, events[0].epoch, position, events, **fields))
        self._write(data)
        self.epoch = events[0].epoch
        self.delivered = position

    def _unsubscribe(self, message: Unsubscribe, now: float) -> None:
        try:
            topics = resolve_topics(message.topics, self.hub.topics)
        except UnknownTopics as exc:
            self._error(
                ErrorCode.UNKNOWN_TOPIC,
                f"{exc}; nothing was unsubscribed",
                message.id,
                topics=list(exc.topics),
            )
            return
        self._flush(now)
        removed = [t for t in self.subscription.topics if t in topics]
        self.subscription = self.subscription.minus(topics, self.hub.topics)
        fields: dict[str, Any] = {
            "topics": list(self.subscription.topics),
            "removed": removed,
            "position": self._position(),
        }
        if message.id is not None:
            fields["id"] = message.id
        self._send(frame("unsubscribed", self.epoch, **fields))

    # Sending and closing -------------------------------------------------------------------

    def _position(self) -> int | None:
        return self.delivered if self.joined else None

    def _send(self, text: str) -> None:
        """One frame, written whole (see `text_frame`)."""
        self._write(text_frame(text))

    def _write(self, data: bytes) -> None:
        """Encoded frame bytes to the socket, timed for the janitor."""
        if not self.ws.connected:
            raise ConnectionClosed(self.ws.close_reason, self.ws.close_message)
        self._send_started = self.clock()
        try:
            self.ws.sock.send(data)
        finally:
            self._send_started = None

    def _error(
        self, code: str, message: str, request_id: str | int | None = None, **fields: Any
    ) -> None:
        self._send(error_frame(self.epoch, code, message, request_id, **fields))

    def _warn_rate(self, now: float) -> None:
        """Excess messages are dropped; the client hears about it at most once a second."""
        if now - self._rate_warned_at < 1.0:
            return
        self._rate_warned_at = now
        self._error(
            ErrorCode.RATE_LIMITED,
            f"more than {self.options.rate_per_second:g} messages a second: the excess was dropped",
        )

    def _overflow(self) -> None:
        """The client read the log for `catchup_limit` seconds and is still behind: say where
        it got to (the last position sent), then close."""
        self._closing = True
        self._send(
            frame(
                "overflow",
                self.epoch,
                lastPosition=self.delivered,
                message=f"you stayed behind the log for more than "
                f"{self.options.catchup_limit:g} s and are disconnected; reconnect with "
                "lastEventId set to lastPosition to resume without a gap",
            )
        )
        self.ws.close(reason=CLOSE_TRY_AGAIN, message="send queue overflow")

    def _drop(self, verdict: str) -> None:
        if verdict == ErrorCode.PONG_TIMEOUT:
            text = f"no pong within {self.options.pong_timeout:g} s of a ping"
        else:
            text = f"nothing received for {self.options.stale_timeout:g} s"
        self._error(verdict, f"{text}: closing")
        self.ws.close(reason=CLOSE_POLICY, message=text)


def _now_iso() -> str:
    return iso(datetime.now(UTC))
