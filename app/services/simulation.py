"""The simulation as one process sees it: the catalog, the store, the baseline in memory,
and the projections it serves (history)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy.exc import SQLAlchemyError

from app.domain.baseline import WARMUP_DAYS
from app.domain.calendar import HOUR, hour_grid, hour_of_day
from app.domain.catalog import Catalog
from app.domain.catchup import Progress, progress
from app.domain.clock import SimClock
from app.domain.generator import GROUPS, restored_history
from app.domain.history import (
    BaselineView,
    LiveHour,
    align,
    live_points,
    live_reach,
    with_the_resets_hour,
)
from app.domain.hourly import HourlyRun, simulate
from app.domain.model import MarketModel
from app.domain.regeneration import Regenerated, regenerate, retroactive
from app.domain.simulation_state import ExternalRecord, SimulationState, fold
from app.domain.timerange import iso
from app.services.baseline_loader import BaselineMissing, load_baseline
from app.services.clock import WallClock, clock_of, system_wall
from app.settings import DEFAULT_SEED
from app.store import Store

log = logging.getLogger(__name__)

WARMUP = timedelta(days=WARMUP_DAYS)


@dataclass(frozen=True)
class HistoryQuery:
    start: datetime
    end: datetime
    streams: tuple[str, ...]
    resolution_hours: int


class Simulation:
    """The simulation as one process sees it: catalog, store, the baseline in memory, the
    state folded from the log, and the projections it serves."""

    def __init__(
        self,
        store: Store,
        catalog: Catalog,
        seed: int = DEFAULT_SEED,
        baseline: BaselineView | None = None,
        wall: WallClock = system_wall,
    ) -> None:
        self.store = store
        self.wall = wall
        """Wall time now: the machine's clock, or a test's."""
        self.catalog = catalog
        self.seed = seed
        self._baseline = baseline
        self._model: MarketModel | None = None
        self._lock = threading.Lock()
        self._state = SimulationState()
        self._state_lock = threading.Lock()
        self._plain: HourlyRun | None = None
        self._regenerated: dict[tuple, Regenerated | None] = {}
        self._restored: dict[datetime, HourlyRun] = {}
        self.truth_cache: dict[tuple, Any] = {}
        """Ground truth's windows, per log state and grid (`app/services/truth.py`)."""

    @property
    def baseline(self) -> BaselineView:
        """The baseline, loaded on first use and kept (it never changes)."""
        if self._baseline is None:
            with self._lock:
                if self._baseline is None:
                    self._baseline = load_baseline(self.store, self.catalog)
        return self._baseline

    @property
    def model(self) -> MarketModel:
        if self._model is None:
            self._model = MarketModel(self.catalog, anchor=self.baseline.end)
        return self._model

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

    def state(self) -> SimulationState:
        """The state folded from the log, brought up to date (incrementally) on each call."""
        with self._state_lock:
            events = self.store.state.state_events(self._state.last_position)
            if events:
                self._state = fold(events, self._state)
            return self._state

    def clock(self) -> SimClock:
        return clock_of(self.store, self.store.log.current_epoch(), self.wall)

    def now(self) -> datetime:
        """Simulated time now."""
        return self.clock().now(self.wall())

    def generation_progress(self) -> Progress:
        """How far live generation has got in this epoch, and whether it is catching up. A
        group with no tick yet in this epoch stands where live generation begins (a first
        start that has hours to catch up is catching up before its first job has written)."""
        clock = self.clock()
        frontiers = self.store.generation.frontiers(self.store.log.current_epoch(), GROUPS)
        if len(frontiers) < len(GROUPS):
            start = self._generation_start()
            if start is not None:
                frontiers = {group: frontiers.get(group, start) for group in GROUPS}
        return progress(frontiers, clock.now(self.wall()), clock.speed, self.catalog.cadences)

    def _generation_start(self) -> datetime | None:
        """Where live generation begins in this epoch: the reset, or the baseline's end (read
        from its run's row, not by loading it: readiness asks this); None before a seed."""
        state = self.state()
        if state.epoch_start is not None:
            return state.epoch_start
        if self._baseline is not None:
            return self._baseline.end
        run = self.store.baselines.latest_run()
        return None if run is None else run.end

    def live_start(self, state: SimulationState) -> datetime:
        """Where live generation began in this epoch: the baseline's end, or the reset."""
        return state.epoch_start or self.baseline.end

    # History ----------------------------------------------------------------------------------

    def history(self, query: HistoryQuery) -> dict[str, Any]:
        """Values, normalized scores and flags per stream and time, plus the external events
        of the range: the baseline (with what retroactive events changed), after a reset the
        restored hours up to it, then the live hours of the current epoch."""
        view, state = self.baseline, self.state()
        hours = query.resolution_hours
        now = self.now()
        start, end = align(query.start, hours), align(query.end, hours, up=True)
        live_from = align(self.live_start(state), hours)
        regenerated = self.regeneration(state)
        reset = self.live_start(state) if self.live_start(state) > view.end else None
        restored = self.restored(reset) if reset is not None else None
        live_start, live_end = max(start, live_from), min(end, align(now, hours, up=True))
        live, frontier = self._live_hours(state.epoch, query.streams, live_start, live_end)
        if restored is not None:
            live = self._with_the_resets_hour(live, reset, restored, live_start, live_end)
        reached = self.store.generation.frontiers(state.epoch, GROUPS)
        streams = {}
        for name in query.streams:
            points = self._past_points(name, start, end, hours, regenerated, restored, live_from)
            stream, settled = self.catalog.stream(name), self._settled(name, reached)
            last_hour, until = live_reach(frontier, settled, now)
            points += live_points(
                view, name, stream.shape == "entity", live[name], live_start, live_end,
                last_hour, hours, until, settled,
            )  # fmt: skip
            streams[name] = points
        return {
            "timeRange": {"start": iso(start), "end": iso(end)},
            "resolution": f"{hours}h",
            "simulatedNow": iso(now),
            "epoch": state.epoch,
            "historicalMode": "modified" if regenerated else "baseline",
            "coverage": {
                "baseline": {"start": iso(view.start), "end": iso(view.end)},
                "restored": (
                    {"start": iso(view.end), "end": iso(live_from)}
                    if live_from > view.end
                    else None
                ),
                "live": {"start": iso(live_from), "end": iso(now)},
            },
            "streams": streams,
            "events": self.events_between(state, start, end),
        }

    def _with_the_resets_hour(self, live, reset, restored, start, end):
        if not start <= reset < end:
            return live
        found = {}
        for name, hours in live.items():
            row = self.model.index[name]
            if self.model.is_entity(row):
                hours = with_the_resets_hour(hours, name, reset, restored.values[row, -1])
            found[name] = hours
        return found

    def _settled(self, stream: str, reached: dict[str, datetime]) -> datetime | None:
        """Up to where every cadence group that feeds the stream has generated."""
        groups = self.model.feeding_groups[self.model.index[stream]]
        frontiers = [reached[g] for g in groups if g in reached]
        return min(frontiers) if frontiers else None

    def _live_hours(self, epoch: int, streams, start: datetime, end: datetime):
        live: dict[str, list[LiveHour]] = {name: [] for name in streams}
        if start >= end:
            return live, None
        self.store.rollup.catch_up()
        for totals in self.store.rollup.read(epoch, streams, start, end):
            live[totals.stream].append(
                LiveHour(totals.stream, totals.hour, totals.events, totals.mean_value)
            )
        return live, self.store.rollup.frontier(epoch)

    def _past_points(self, name, start, end, hours, regenerated, restored, live_from):
        view = self.baseline
        points = []
        base_end = min(end, view.end)
        if start < base_end:
            if regenerated is None:
                points += view.baseline_points(name, start, base_end, hours)
            else:
                values = self._base_values(name, regenerated)
                points += self._computed(name, view.start, values, start, base_end, hours)
        if restored is not None and max(start, view.end) < min(end, live_from):
            values = self._restored_values(name, restored, live_from)
            first = live_from - values.size * HOUR
            if regenerated is not None:
                row = self.model.index[name]
                values = values * regenerated.factors(row, first, values.size)
            points += self._computed(
                name, first, values, max(start, view.end), min(end, live_from), hours
            )
        return points

    def _base_values(self, name: str, regenerated: Regenerated) -> np.ndarray:
        view = self.baseline
        values = view.values[view.index[name]]
        factors = regenerated.factors(self.model.index[name], view.start, values.size)
        return _rounded(values * factors, self.model.is_entity(self.model.index[name]))

    def _restored_values(self, name: str, restored: HourlyRun, live_from: datetime):
        """The restored run's whole hours from the baseline's end (or the run's start) up to
        `live_from` (an hour boundary)."""
        row = self.model.index[name]
        first = max(self.baseline.end, restored.start)
        offset = int((first - restored.start) / HOUR)
        count = max(0, int((live_from - first) / HOUR))
        return restored.values[row, offset : offset + count]

    def _computed(self, name, first: datetime, hourly: np.ndarray, start, end, hours):
        """Points of values computed here (regenerated or restored), whole hours from
        `first`, cut to [start, end) and folded to the resolution."""
        lo = max(0, int((start - first) / HOUR))
        hi = min(hourly.size, int(np.ceil((end - first) / HOUR)))
        if hi <= lo:
            return []
        grid = hour_grid(first, hi)[lo:]
        values = np.asarray(hourly[lo:hi], dtype=float)
        if hours > 1:
            aligned = np.flatnonzero(hour_of_day(grid) % hours == 0)
            if aligned.size == 0:
                return []
            usable = (values.size - aligned[0]) // hours * hours
            blocks = values[aligned[0] : aligned[0] + usable].reshape(-1, hours)
            how = self.catalog.stream(name).aggregation
            values = blocks.sum(axis=1) if how == "sum" else blocks.mean(axis=1)
            grid = grid[aligned[0] : aligned[0] + usable : hours]
        if grid.size == 0:
            return []
        scores, flags = self.baseline.normalize_grid(name, grid, values, hours)
        stamps = np.datetime_as_string(grid, unit="s")
        return [
            {"timestamp": f"{t}Z", "value": _number(v), "normalized": float(sc), "flag": f}
            for t, v, sc, f in zip(stamps, values, scores, flags, strict=True)
        ]

    def diff(self, query: HistoryQuery) -> dict[str, Any]:
        """Where history differs from the stored baseline (retroactive events), per stream
        and hour: both values and the change."""
        view, state = self.baseline, self.state()
        regenerated = self.regeneration(state)
        start, end = align(query.start, 1), align(query.end, 1, up=True)
        changes: dict[str, list[dict[str, Any]]] = {}
        if regenerated is not None:
            for name in query.streams:
                original = view.values[view.index[name]]
                modified = self._base_values(name, regenerated)
                rows = []
                for i in np.flatnonzero(np.abs(modified - original) > 1e-9):
                    moment = view.start + int(i) * HOUR
                    if start <= moment < end:
                        rows.append(
                            {
                                "timestamp": iso(moment),
                                "baseline": _number(original[i]),
                                "modified": _number(modified[i]),
                                "delta": _number(modified[i] - original[i]),
                            }
                        )
                if rows:
                    changes[name] = rows
        return {
            "timeRange": {"start": iso(start), "end": iso(end)},
            "historicalMode": "modified" if regenerated else "baseline",
            "causes": list(regenerated.event_ids if regenerated else ()),
            "streams": changes,
        }

    # Projections of the past -------------------------------------------------------------------

    def plain_expectation(self) -> HourlyRun:
        """The flow's expectation over the baseline's fortnight of warm-up and its month."""
        if self._plain is None:
            view = self.baseline
            start = view.start - WARMUP
            self._plain = simulate(self.model, start, int((view.end - start) / HOUR))
        return self._plain

    def regeneration(self, state: SimulationState) -> Regenerated | None:
        """The past as the log's retroactive external events (placed before live generation
        began) change it, as hourly multipliers: None when nothing reaches into the past."""
        live_from = self.live_start(state)
        records = retroactive(state, live_from)
        key = (state.epoch, live_from, tuple(r.position for r in records))
        if key not in self._regenerated:
            self._regenerated[key] = None
            if records:
                start = self.baseline.start - WARMUP
                plain = self.plain_expectation()
                self._regenerated[key] = regenerate(self.model, records, start, live_from, plain)
        return self._regenerated[key]

    def restored(self, live_from: datetime) -> HourlyRun:
        """After a reset, the hours between the baseline's end and the reset: the same drawn
        fortnight the generator carries its work in flight from."""
        if live_from not in self._restored:
            self._restored[live_from] = restored_history(
                self.model, self.baseline, self.seed, live_from
            )
        return self._restored[live_from]

    # Events ---------------------------------------------------------------------------------

    def events_between(self, state: SimulationState, start: datetime, end: datetime):
        """External events of a range: the baseline's, then those in the log."""
        events = list(self.baseline.events_between(start, end))
        for record in state.externals:
            if start <= record.occurred_at < end:
                events.append(external_json(record))
        return events


def external_json(record: ExternalRecord) -> dict[str, Any]:
    """A logged external event as the API shows it, with its id."""
    return {"id": record.id, **record.data}


def _rounded(values: np.ndarray, entity: bool) -> np.ndarray:
    return np.rint(values) if entity else np.round(values, 4)


def _number(value: float) -> float | int:
    value = float(value)
    return int(value) if value.is_integer() else round(value, 4)
