"""The simulation's state, folded from the log: scenario runs and their phases, manual
modifiers, external events (recorded and scheduled), the epoch.

    state = fold(events)                 # evolve() one logged event at a time

A scenario run is `active` from its activation for its duration, then `settling` (at the end
of its duration or when stopped) along its curve, then `settled` once every change it makes
is within 5% of the baseline. Only one run may be active at a time; a run that is settling
does not block the next.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from app.domain import ids
from app.domain.catalog import (
    DELIVERY_FAULTS,
    SHAPED_MODIFIERS,
    SPREAD_MODIFIERS,
    VALUELESS_MODIFIERS,
    ModifierKind,
)
from app.domain.events import RecordedEvent
from app.domain.timerange import from_iso

ACTIVATED = "scenario.activated"
STOPPED = "scenario.stopped"
SETTLING = "scenario.settling"
SETTLED = "scenario.settled"
MODIFIER = "modifier.applied"
MODIFIER_ENDED = "modifier.ended"
MODIFIER_EXPIRED = "modifier.expired"
EXTERNAL = "external.event"
SCHEDULED = "external.scheduled"
RESET = "control.reset"


@dataclass(frozen=True)
class Run:
    """One activation of a scenario."""

    run_id: int
    scenario_id: str
    activated_at: datetime
    ends_at: datetime
    settling_from: datetime | None = None
    settling_reason: str | None = None
    settled_at: datetime | None = None
    """When the run is (or will be) within 5% of baseline; known once it starts settling."""
    settled_logged: bool = False
    stopped_at: datetime | None = None

    @property
    def settles_from(self) -> datetime:
        """When settling begins: when it was stopped, else at the end of its duration."""
        return self.settling_from or self.ends_at

    def phase(self, moment: datetime) -> str:
        if self.settled_at is not None and moment >= self.settled_at:
            return "settled"
        if moment >= self.settles_from:
            return "settling"
        return "active"


@dataclass(frozen=True)
class ManualModifier:
    """A stream modifier applied by hand for a while (POST /api/simulation/modifiers)."""

    modifier_id: int
    stream: str
    type: str
    value: float
    start: datetime
    end: datetime
    """When it stops acting: its planned end, or the moment it was ended early."""
    end_logged: bool = False
    """Its end is in the log (`modifier.ended`, or `modifier.expired` at its planned end)."""
    planned_end: datetime | None = None
    """Its planned end (a trend's slope is set by it, even when ended early); `end` if None."""
    sigma: float | None = None
    """The change as given in the stream's own standard deviations (`value` the multiplier
    worked out from it), or None when given as a value."""
    by_run: bool = False
    """A scenario run's shape (`scenario_shapes`): `modifier_id` is the run's position, and
    the log holds the run, not this modifier."""

    def in_force(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    @property
    def given_value(self) -> float | None:
        """Its value as given: None for the types that take none (missing, flatline)."""
        return None if self.type in VALUELESS_MODIFIERS else self.value

    @property
    def kind(self) -> ModifierKind:
        """What a detector meets: a shaped type's or a fault's own name (`spike`, `trend`,
        `missing`, `late`, ...), or a `level-shift` (a multiplier, addition or override held for
        the duration)."""
        if self.type in SHAPED_MODIFIERS or self.type in DELIVERY_FAULTS:
            return self.type
        return "level-shift"

    def factor_at(self, moment: datetime) -> float:
        """A multiplicative modifier's factor at `moment`: a trend's grows in a straight line
        from 1 at its start to `value` at its planned end; a missing stream's is 0; a change
        of spread, a correlation break or a fault of delivery leaves the level alone. (A
        seasonality change's depends on the stream's day: `StateEffects` works it out.)"""
        if self.type == "missing":
            return 0.0
        if self.type in (*SPREAD_MODIFIERS, "correlation-break", *DELIVERY_FAULTS):
            return 1.0
        if self.type != "trend":
            return self.value
        planned = self.planned_end or self.end
        progress = (moment - self.start) / (planned - self.start)
        return 1.0 + (self.value - 1.0) * min(max(progress, 0.0), 1.0)


@dataclass(frozen=True)
class ExternalRecord:
    """An external event in the log (`data` in the ExternalEvent shape)."""

    position: int
    occurred_at: datetime
    data: Mapping[str, Any]
    correlation_id: int | None
    announced_at: int | None = None
    """The position of the `external.scheduled` event that announced it, for one injected
    ahead of its time: its id stays the one the injection answered with."""

    @property
    def id(self) -> str:
        return ids.event_id(self.announced_at or self.position)


@dataclass(frozen=True)
class SimulationState:
    epoch: int = 1
    epoch_start: datetime | None = None
    runs: tuple[Run, ...] = ()
    modifiers: tuple[ManualModifier, ...] = ()
    externals: tuple[ExternalRecord, ...] = ()
    scheduled: Mapping[int, ExternalRecord] = field(default_factory=dict)
    last_position: int = 0

    def active_run(self, moment: datetime) -> Run | None:
        return next((r for r in self.runs if r.phase(moment) == "active"), None)

    def run(self, run_id: int) -> Run | None:
        return next((r for r in self.runs if r.run_id == run_id), None)


def fold(events: Iterable[RecordedEvent], state: SimulationState | None = None) -> SimulationState:
    state = state or SimulationState()
    for event in events:
        state = evolve(state, event)
    return state


def evolve(state: SimulationState, event: RecordedEvent) -> SimulationState:
    """The state after one logged event (events of other epochs and kinds pass through)."""
    if event.type == RESET:
        return SimulationState(
            epoch=event.epoch, epoch_start=event.occurred_at, last_position=event.position
        )
    state = replace(state, last_position=max(state.last_position, event.position))
    data = event.data
    if event.type == ACTIVATED:
        run = Run(
            run_id=event.position,
            scenario_id=data["scenarioId"],
            activated_at=event.occurred_at,
            ends_at=from_iso(data["endsAt"]),
        )
        return replace(state, runs=(*state.runs, run))
    if event.type in (STOPPED, SETTLING, SETTLED):
        return replace(state, runs=tuple(_run_after(r, event) for r in state.runs))
    if event.type == MODIFIER:
        until = from_iso(data["until"])
        modifier = ManualModifier(
            event.position,
            data["stream"],
            data["type"],
            float(data.get("value") or 0.0),
            from_iso(data["start"]) if "start" in data else event.occurred_at,
            until,
            planned_end=until,
            sigma=data.get("sigma"),
        )
        return replace(state, modifiers=(*state.modifiers, modifier))
    if event.type in (MODIFIER_ENDED, MODIFIER_EXPIRED):
        return replace(state, modifiers=tuple(_modifier_after(m, event) for m in state.modifiers))
    if event.type == SCHEDULED:
        record = ExternalRecord(
            event.position, from_iso(data["dueAt"]), data["event"], event.correlation_id
        )
        return replace(state, scheduled={**state.scheduled, event.position: record})
    if event.type == EXTERNAL:
        announced = event.causation_id if event.causation_id in state.scheduled else None
        record = ExternalRecord(
            event.position, event.occurred_at, data, event.correlation_id, announced
        )
        scheduled = {k: v for k, v in state.scheduled.items() if k != event.causation_id}
        return replace(state, externals=(*state.externals, record), scheduled=scheduled)
    return state


def _run_after(run: Run, event: RecordedEvent) -> Run:
    if run.run_id != event.correlation_id:
        return run
    if event.type == STOPPED:
        return replace(run, stopped_at=event.occurred_at)
    if event.type == SETTLING:
        return replace(
            run,
            settling_from=event.occurred_at,
            settling_reason=event.data["reason"],
            settled_at=from_iso(event.data["settledAt"]),
        )
    return replace(run, settled_at=event.occurred_at, settled_logged=True)


def _modifier_after(modifier: ManualModifier, event: RecordedEvent) -> ManualModifier:
    if modifier.modifier_id != event.correlation_id:
        return modifier
    return replace(modifier, end=min(modifier.end, event.occurred_at), end_logged=True)
