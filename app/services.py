"""Where the domain and the store meet: load, decide, append, project.

The web handlers, the CLI and the jobs call these; they hold no business rule themselves.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from app.domain.baseline import array_checksum, iso, json_checksum
from app.domain.catalog import Catalog
from app.domain.clock import SimClock
from app.domain.events import NewEvent
from app.domain.history import BaselineView, LiveHour, align, live_points
from app.store import Store
from app.store.baseline import StoredBaseline
from app.store.generation import CLOCK_TYPE

log = logging.getLogger(__name__)


class BaselineMissing(RuntimeError):
    """No baseline has been seeded into this database yet."""


class BaselineCorrupt(RuntimeError):
    """The stored baseline does not match its recorded checksums."""


def verify(stored: StoredBaseline) -> None:
    """Recompute the stored baseline's checksums and compare them with the recorded ones."""
    found = {
        "samples": array_checksum(stored.streams, stored.values),
        "buckets": array_checksum(stored.streams, stored.buckets),
        "statistics": json_checksum({s: stored.statistics[s] for s in stored.streams}),
        "events": json_checksum(stored.events),
    }
    wrong = sorted(
        part for part, checksum in found.items() if stored.run.checksums[part] != checksum
    )
    if wrong:
        raise BaselineCorrupt(
            f"baseline run {stored.run.id}: checksum mismatch in {', '.join(wrong)}; "
            "seed a new baseline with `marketsim seed`"
        )


def load_baseline(store: Store, catalog: Catalog) -> BaselineView:
    """The latest seeded baseline, checked against its checksums, ready to serve."""
    run = store.baselines.latest_run()
    if run is None:
        raise BaselineMissing("no baseline is seeded yet: run `marketsim seed`")
    stored = store.baselines.load(run)
    verify(stored)
    return BaselineView(
        streams=stored.streams,
        start=run.start,
        values=stored.values,
        buckets=stored.buckets,
        statistics=stored.statistics,
        events=stored.events,
        aggregation={name: catalog.stream(name).aggregation for name in stored.streams},
        carry_over=run.metadata.get("carryOver", {}),
    )


@dataclass(frozen=True)
class HistoryQuery:
    start: datetime
    end: datetime
    streams: tuple[str, ...]
    resolution_hours: int


def clock_of(store: Store, epoch: int) -> SimClock:
    """The simulation clock of an epoch, folded from its latest `control.clock` event; before
    any, simulated time is wall time."""
    latest = store.generation.latest(epoch, CLOCK_TYPE)
    if latest is None:
        return SimClock.real_time(datetime.now(UTC))
    _, data = latest
    return SimClock(
        datetime.fromisoformat(data["anchorWall"]),
        datetime.fromisoformat(data["anchorSimulated"]),
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
            "anchorWall": clock.anchor_wall.isoformat(),
            "anchorSimulated": clock.anchor_simulated.isoformat(),
        },
    )


def set_speed(store: Store, speed: float) -> SimClock:
    """Change the clock's speed now: same simulated now, new pace; recorded in the log."""
    epoch = store.log.current_epoch()
    clock = clock_of(store, epoch).with_speed(speed, datetime.now(UTC))
    store.log.append([clock_event(clock)])
    return clock


class Simulation:
    """The simulation as one web process sees it: catalog, store, and the baseline in memory."""

    def __init__(self, store: Store, catalog: Catalog) -> None:
        self.store = store
        self.catalog = catalog
        self._baseline: BaselineView | None = None
        self._lock = threading.Lock()

    @property
    def baseline(self) -> BaselineView:
        """The baseline, loaded on first use and kept (it never changes)."""
        if self._baseline is None:
            with self._lock:
                if self._baseline is None:
                    self._baseline = load_baseline(self.store, self.catalog)
        return self._baseline

    def try_load_baseline(self) -> None:
        """Load the baseline now if it is seeded (at start); later requests load it otherwise,
        so a web process may start before the release step has migrated and seeded."""
        try:
            self.baseline  # noqa: B018
        except BaselineMissing:
            log.warning("no baseline seeded yet; history answers 503 until `marketsim seed`")
        except SQLAlchemyError as exc:
            log.warning(
                "baseline not loaded at start (%s); will retry on first use", exc.__class__.__name__
            )

    def clock(self) -> SimClock:
        return clock_of(self.store, self.store.log.current_epoch())

    def now(self) -> datetime:
        return self.clock().now(datetime.now(UTC))

    def history(self, query: HistoryQuery) -> dict[str, Any]:
        """Values, normalized scores and flags per stream and time, plus the external events
        of the range: the stored baseline first, then the live hours of the current epoch."""
        view = self.baseline
        hours = query.resolution_hours
        now = self.now()
        start, end = align(query.start, hours), align(query.end, hours, up=True)
        epoch = self.store.log.current_epoch()
        live_start, live_end = max(start, view.end), min(end, align(now, hours, up=True))
        live: dict[str, list[LiveHour]] = {name: [] for name in query.streams}
        frontier = None
        if live_start < live_end:
            self.store.rollup.catch_up()
            frontier = self.store.rollup.frontier(epoch)
            for totals in self.store.rollup.read(epoch, query.streams, live_start, live_end):
                live[totals.stream].append(
                    LiveHour(totals.stream, totals.hour, totals.events, totals.mean_value)
                )
        streams = {}
        for name in query.streams:
            entity = self.catalog.stream(name).shape == "entity"
            streams[name] = view.baseline_points(name, start, min(end, view.end), hours) + (
                live_points(
                    view, name, entity, live[name], live_start, live_end, frontier, hours, now
                )
            )
        return {
            "timeRange": {"start": iso(start), "end": iso(end)},
            "resolution": f"{hours}h",
            "simulatedNow": iso(now),
            "epoch": epoch,
            "coverage": {
                "baseline": {"start": iso(view.start), "end": iso(view.end)},
                "live": {"start": iso(view.end), "end": iso(now)},
            },
            "streams": streams,
            "events": view.events_between(start, end),
        }
