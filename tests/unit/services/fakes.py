"""An in-memory store for the service tests: the event log and the reads the services make
of it, with the real log's contracts (positions from 1 in append order, epochs opened by a
reset, an append that expected another epoch refused, a transaction's appends kept only when
it commits). The real store is tested against Postgres (`tests/integration/store`)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from app.domain.events import NewEvent, RecordedEvent, assign_epochs
from app.store.eventlog import Appended, EpochChanged


@dataclass
class MemoryLog:
    wall: Callable[[], datetime]
    events: list[RecordedEvent] = field(default_factory=list)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def current_epoch(self) -> int:
        return self.events[-1].epoch if self.events else 1

    def last_position(self) -> int:
        return len(self.events)

    @contextmanager
    def transaction(self) -> Iterator[MemoryWriter]:
        with self._lock:
            writer = MemoryWriter(self)
            yield writer
            self.events.extend(writer.staged)

    def append(self, events: Sequence[NewEvent], *, expected_epoch: int | None = None) -> Appended:
        with self.transaction() as writer:
            return writer.append(events, expected_epoch=expected_epoch)

    def of_type(self, type_: str) -> list[RecordedEvent]:
        return [event for event in self.events if event.type == type_]


@dataclass
class MemoryWriter:
    log: MemoryLog
    staged: list[RecordedEvent] = field(default_factory=list)

    def lock(self) -> int:
        return self._epoch()

    def append(self, events: Sequence[NewEvent], *, expected_epoch: int | None = None) -> Appended:
        if not events:
            raise ValueError("append needs at least one event")
        epoch = self._epoch()
        if expected_epoch is not None and epoch != expected_epoch:
            raise EpochChanged(expected_epoch, epoch)
        first = self.log.last_position() + len(self.staged) + 1
        recorded_at = self.log.wall()
        epochs = assign_epochs(events, epoch)
        for offset, (event, event_epoch) in enumerate(zip(events, epochs, strict=True)):
            self.staged.append(recorded(event, first + offset, event_epoch, recorded_at))
        return Appended(first, first + len(events) - 1, epochs[-1], recorded_at)

    def _epoch(self) -> int:
        return self.staged[-1].epoch if self.staged else self.log.current_epoch()


@dataclass
class MemoryStateReads:
    """What `StateStore` reads: the events the simulation's state is folded from."""

    log: MemoryLog

    def state_events(self, after: int) -> list[RecordedEvent]:
        return [
            event
            for event in self.log.events[after:]
            if event.kind != "stream" and event.type != "control.tick"
        ]


@dataclass
class MemoryGenerationReads:
    """What `GenerationStore` reads that the services need: the newest control event of a
    type in an epoch (the clock)."""

    log: MemoryLog

    def latest(self, epoch: int, type_: str) -> tuple[datetime, dict] | None:
        found = [e for e in self.log.events if e.epoch == epoch and e.type == type_]
        return (found[-1].occurred_at, found[-1].data) if found else None


@dataclass
class MemoryStore:
    log: MemoryLog
    state: MemoryStateReads
    generation: MemoryGenerationReads

    @classmethod
    def on(cls, wall: Callable[[], datetime]) -> MemoryStore:
        log = MemoryLog(wall)
        return cls(log, MemoryStateReads(log), MemoryGenerationReads(log))


def recorded(event: NewEvent, position: int, epoch: int, recorded_at: datetime) -> RecordedEvent:
    """A new event as the log gives it back at `position`."""
    return RecordedEvent(
        position=position,
        epoch=epoch,
        kind=event.kind,
        type=event.type,
        stream=event.stream,
        occurred_at=event.occurred_at,
        recorded_at=recorded_at,
        data=event.data,
        value=event.value,
        normalized=event.normalized,
        flag=event.flag,
        causation_id=event.causation_id,
        correlation_id=event.correlation_id,
        expected=event.expected,
        expected_flag=event.expected_flag,
        delivery=event.delivery,
    )
