"""One client's bounded queue: what its handler waits on.

The hub's listener puts each batch of new events here and never waits: when the client has
more than `limit` events waiting, the mailbox drops them all and marks itself overflowed, and
the handler takes the client out of the fan-out to read what it missed from the log. The
client's reader puts the client's messages here too, so the handler waits on one event for
everything. Threading primitives only (gevent patches them: its Event is native and cheap,
which matters with hundreds of clients woken ten times a second), no Flask, no database.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from app.ws.protocol import WireEvent


@dataclass(frozen=True, slots=True)
class Batch:
    """Events the listener read in one go (all kinds, every stream), in position order;
    `through` is the highest position the read covered."""

    events: tuple[WireEvent, ...]
    through: int
    has_notices: bool = False
    """Whether any event is a notice (most batches are stream events only: a fast path)."""
    frames: dict[tuple[str, ...], bytes] = field(default_factory=dict, compare=False)
    """Encoded `events` frames of this batch alone, by subscription topics: clients with the
    same topics that send it as it came share one encoding."""

    def frame_for(self, topics: tuple[str, ...], encode: Callable[[], bytes]) -> bytes:
        frame = self.frames.get(topics)
        if frame is None:
            frame = self.frames[topics] = encode()
        return frame

    @classmethod
    def of(cls, events: Sequence[WireEvent]) -> Batch:
        return cls(tuple(events), events[-1].position, any(e.kind != "stream" for e in events))


@dataclass
class Delivery:
    """What a handler takes from its mailbox in one wake-up."""

    batches: list[Batch] = field(default_factory=list)
    messages: list[str | bytes] = field(default_factory=list)
    dropped_messages: int = 0
    overflowed: bool = False
    closed: bool = False


class Mailbox:
    def __init__(self, limit: int, *, message_limit: int = 100) -> None:
        self.limit = limit
        self.message_limit = message_limit
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._batches: deque[Batch] = deque()
        self._messages: deque[str | bytes] = deque()
        self._waiting_events = 0
        self._dropped_messages = 0
        self._overflowed = False
        self._closed = False

    def offer(self, batch: Batch) -> None:
        """The listener's put: never blocks; past the limit the mailbox overflows."""
        with self._lock:
            if self._overflowed or self._closed:
                return
            self._waiting_events += len(batch.events)
            if self._waiting_events > self.limit:
                self._overflowed = True
                self._batches.clear()
                self._waiting_events = 0
            else:
                self._batches.append(batch)
        self._wake.set()

    def post(self, message: str | bytes) -> None:
        """A message from the client; past `message_limit` waiting ones it is dropped (the
        handler answers a flood with one rate-limit error)."""
        with self._lock:
            if len(self._messages) >= self.message_limit:
                self._dropped_messages += 1
            else:
                self._messages.append(message)
        self._wake.set()

    def nudge(self) -> None:
        """Wake the handler with nothing new (a timer of its came due)."""
        self._wake.set()

    def close(self) -> None:
        """The connection is gone: wake the handler so that it ends."""
        with self._lock:
            self._closed = True
        self._wake.set()

    def take_batches(self) -> list[Batch]:
        """Everything the listener has put here so far (the hub calls it under its lock)."""
        with self._lock:
            taken = list(self._batches)
            self._batches.clear()
            self._waiting_events = 0
            return taken

    def reset_overflow(self) -> None:
        """Start afresh, empty, once the client has left the fan-out to read the log (the hub
        calls it under its lock)."""
        with self._lock:
            self._overflowed = False
            self._batches.clear()
            self._waiting_events = 0

    @property
    def waiting_events(self) -> int:
        return self._waiting_events

    @property
    def overflowed(self) -> bool:
        return self._overflowed

    def wait(self, timeout: float | None) -> Delivery:
        """Wait until something is here (or `timeout` seconds), then take all of it."""
        if timeout is None or timeout > 0:
            self._wake.wait(timeout)
        # Clear before taking: what arrives after the take sets the event again.
        self._wake.clear()
        with self._lock:
            delivery = Delivery(
                batches=list(self._batches),
                messages=list(self._messages),
                dropped_messages=self._dropped_messages,
                overflowed=self._overflowed,
                closed=self._closed,
            )
            self._batches.clear()
            self._messages.clear()
            self._waiting_events = 0
            self._dropped_messages = 0
        if delivery.closed or delivery.overflowed:
            self._wake.set()  # they stay true: the next wait returns at once
        return delivery
