"""The simulation clock, folded from the log's `control.clock` events, and the wall clock it
runs on.

Services never read the system clock themselves: they are handed a `WallClock` (the
`Simulation` holds one), so a test can move wall time on instead of sleeping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from app.domain.clock import SimClock
from app.domain.events import NewEvent
from app.domain.timerange import from_iso, iso
from app.store import Store
from app.store.generation import CLOCK_TYPE

WallClock = Callable[[], datetime]
"""Wall time now, timezone-aware."""


def system_wall() -> datetime:
    """The machine's clock: the wall clock every process runs on outside tests."""
    return datetime.now(UTC)


def clock_of(store: Store, epoch: int, wall: WallClock = system_wall) -> SimClock:
    """The simulation clock of an epoch, folded from its latest `control.clock` event; before
    any, simulated time is wall time."""
    latest = store.generation.latest(epoch, CLOCK_TYPE)
    if latest is None:
        return SimClock.real_time(wall())
    _, data = latest
    return SimClock(
        from_iso(data["anchorWall"]),
        from_iso(data["anchorSimulated"]),
        float(data["speed"]),
    )


def clock_event(clock: SimClock) -> NewEvent:
    """The log event that records a clock: its anchors and speed."""
    return NewEvent(
        kind="control",
        type=CLOCK_TYPE,
        occurred_at=clock.anchor_simulated,
        data={
            "speed": clock.speed,
            "anchorWall": iso(clock.anchor_wall),
            "anchorSimulated": iso(clock.anchor_simulated),
        },
    )


def set_speed(store: Store, speed: float, wall: WallClock = system_wall) -> SimClock:
    """Change the clock's speed now: same simulated now, new pace; recorded in the log."""
    epoch = store.log.current_epoch()
    clock = clock_of(store, epoch, wall).with_speed(speed, wall())
    store.log.append([clock_event(clock)])
    return clock
