"""Scenarios, manual modifiers and external events: their state folded from the log, the
decisions that change it, and the effects they exert on the generator.

    state = fold(events)                 # evolve() one logged event at a time
    new_events = activate(state, ...)    # or stop(), due(), ... : decide, never write
    effects = StateEffects(state, model).at(moment)

A scenario run is `active` from its activation for its duration, then `settling` (at the end
of its duration or when stopped) along its curve, then `settled` once every change it makes
is within 5% of the baseline. Only one run may be active at a time; a run that is settling
does not block the next.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from pydantic import TypeAdapter

from app.domain import ids
from app.domain.catalog import Catalog, Modifier, Scenario, format_duration
from app.domain.effects import Adjust, Effects, EffectsSource, Release, combine
from app.domain.errors import NotNow, Unknown
from app.domain.events import NewEvent, RecordedEvent
from app.domain.impacts import ImpactEffects, event_impact, template_json
from app.domain.model import MarketModel
from app.domain.timerange import from_iso, iso

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
_DURATIONS = TypeAdapter(timedelta)
SETTLED_WITHIN = 0.05
"""A run is settled once each change it makes is within 5% of the baseline."""


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

    def in_force(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


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


# Folding ------------------------------------------------------------------------------------


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
        modifier = ManualModifier(
            event.position,
            data["stream"],
            data["type"],
            float(data["value"]),
            event.occurred_at,
            from_iso(data["until"]),
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


# Settling -----------------------------------------------------------------------------------


def weight(scenario: Scenario, run: Run, moment: datetime) -> float:
    """How much of the scenario's change is in force at `moment` (1 while active)."""
    if moment < run.activated_at:
        return 0.0
    if moment < run.settles_from:
        return 1.0
    settling = scenario.settling
    elapsed = (moment - run.settles_from).total_seconds()
    if settling.curve == "immediate":
        return 0.0
    if settling.curve == "linear":
        span = max(settling.duration.total_seconds(), 1.0)
        return max(0.0, 1.0 - elapsed / span)
    half_life = (settling.half_life or settling.duration / 4).total_seconds()
    return 0.5 ** (elapsed / max(half_life, 1.0))


def settle_time(scenario: Scenario, model: MarketModel, start: datetime) -> datetime:
    """When a run that starts settling at `start` is within 5% of baseline everywhere: the
    largest change it makes decides (with a backlog spike, not before the spike is over)."""
    settling = scenario.settling
    worst = max((deviation(m, model) for m in _all_modifiers(scenario)), default=0.0)
    if settling.curve == "immediate":
        after = settling.backlog.duration if settling.backlog else timedelta(0)
        return start + after
    if worst <= SETTLED_WITHIN:
        return start
    needed = SETTLED_WITHIN / worst
    if settling.curve == "linear":
        return start + settling.duration * (1 - needed)
    half_life = settling.half_life or settling.duration / 4
    return start + half_life * math.log2(1 / needed)


def deviation(modifier: Modifier, model: MarketModel) -> float:
    """How far (relative) a modifier moves its target from the baseline at full strength."""
    base = _base_of(modifier, model)
    if modifier.type == "multiplier":
        return abs(modifier.value - 1)
    if modifier.type in ("additive", "probabilityShift"):
        return abs(modifier.value) / base if base else abs(modifier.value)
    return abs(modifier.value - base) / base if base else abs(modifier.value)


def _base_of(modifier: Modifier, model: MarketModel) -> float:
    target = modifier.target
    if target.rate is not None:
        return model.rates[target.rate]
    baseline = model.catalog.baseline(target.stream)
    if baseline.model == "poisson":
        return baseline.rate_per_hour * model.catalog.profile(baseline.profile).weekly_mean
    if baseline.model == "gauge":
        return baseline.base
    return 1.0


def _all_modifiers(scenario: Scenario) -> list[Modifier]:
    return [*scenario.modifiers, *scenario.cascade_rules]


# Decisions ----------------------------------------------------------------------------------


def activate(state: SimulationState, scenario: Scenario, now: datetime) -> NewEvent:
    """The activation of a scenario; refused while another one is active."""
    running = state.active_run(now)
    if running is not None:
        raise NotNow(
            "scenario_active",
            f"scenario '{running.scenario_id}' is active (run {running.run_id}); only one "
            "scenario can be active at a time",
        )
    ends_at = now + scenario.duration
    return NewEvent(
        kind="scenario",
        type=ACTIVATED,
        occurred_at=now,
        data={
            "scenarioId": scenario.id,
            "name": scenario.name,
            "endsAt": iso(ends_at),
            "duration": format_duration(scenario.duration),
            "settling": {
                "curve": scenario.settling.curve,
                "duration": format_duration(scenario.settling.duration),
            },
        },
    )


def injected_events(
    scenario: Scenario, catalog: Catalog, now: datetime, run_id: int
) -> list[NewEvent]:
    """The scenario's external events: those at or before now are recorded now (a negative
    offset places one in the past); later ones are scheduled and recorded when due."""
    events = []
    for planned in scenario.events:
        template = catalog.template(planned.template)
        at = now + planned.offset
        record = external_record(
            catalog,
            template.id,
            at,
            title=planned.title,
            description=planned.description,
            actual=planned.apply_impact,
            source={"kind": "scenario", "scenarioId": scenario.id, "runId": run_id},
        )
        if at <= now:
            events.append(
                NewEvent(
                    kind="external",
                    type=EXTERNAL,
                    occurred_at=at,
                    data=record,
                    correlation_id=run_id,
                )
            )
        else:
            events.append(
                NewEvent(
                    kind="control",
                    type=SCHEDULED,
                    occurred_at=now,
                    data={"dueAt": iso(at), "event": record},
                    correlation_id=run_id,
                )
            )
    return events


def external_record(
    catalog: Catalog,
    template_id: str | None,
    at: datetime,
    *,
    title: str | None = None,
    description: str | None = None,
    actual: bool = True,
    source: Mapping[str, Any] | None = None,
    custom: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An external event in the ExternalEvent shape, from a template or custom fields
    (`custom`: type, title, description, severity, icon, expectedImpact)."""
    if template_id is not None:
        template = catalog.template(template_id)
        body = template_json(template, catalog)
        delay, duration = template.expected_impact.delay, template.expected_impact.duration
    else:
        body = dict(custom or {})
        delay = _duration(body["expectedImpact"].get("delay", "PT0S"))
        duration = _duration(body["expectedImpact"]["duration"])
    if title:
        body["title"] = title
    if description:
        body["description"] = description
    start = at + delay
    return {
        **body,
        "timestamp": iso(at),
        "impactWindow": {"start": iso(start), "end": iso(start + duration)},
        "actualImpact": actual,
        "injectedByAI": False,
        "source": dict(source or {"kind": "api"}),
    }


def _duration(text: str) -> timedelta:
    return _DURATIONS.validate_python(text)


def stop(state: SimulationState, scenario: Scenario, model: MarketModel, now: datetime):
    """Stop the active run: it starts settling now."""
    run = state.active_run(now)
    if run is None:
        raise NotNow("no_active_scenario", "no scenario is active")
    return run, [
        NewEvent(
            kind="scenario",
            type=STOPPED,
            occurred_at=now,
            data={"runId": run.run_id},
            correlation_id=run.run_id,
        ),
        settling_event(run, scenario, model, now, "stopped"),
    ]


def end_early(state: SimulationState, modifier_id: int, now: datetime) -> NewEvent:
    """End a manual modifier of this epoch now, before its planned end."""
    modifier = next((m for m in state.modifiers if m.modifier_id == modifier_id), None)
    if modifier is None:
        raise Unknown(
            "unknown_modifier", f"no modifier {ids.modifier_id(modifier_id)} in epoch {state.epoch}"
        )
    if not now < modifier.end:
        raise NotNow(
            "modifier_over", f"{ids.modifier_id(modifier_id)} already ended at {iso(modifier.end)}"
        )
    return NewEvent(
        kind="scenario",
        type=MODIFIER_ENDED,
        occurred_at=now,
        data={
            "modifierId": ids.modifier_id(modifier_id),
            "stream": modifier.stream,
            "plannedEnd": iso(modifier.end),
        },
        correlation_id=modifier_id,
    )


def settling_event(
    run: Run, scenario: Scenario, model: MarketModel, at: datetime, reason: str
) -> NewEvent:
    settled_at = settle_time(scenario, model, at)
    return NewEvent(
        kind="scenario",
        type=SETTLING,
        occurred_at=at,
        data={
            "runId": run.run_id,
            "reason": reason,
            "curve": scenario.settling.curve,
            "settledAt": iso(settled_at),
        },
        correlation_id=run.run_id,
    )


def due(
    state: SimulationState, catalog: Catalog, model: MarketModel, now: datetime
) -> list[NewEvent]:
    """What time has brought about by `now`: runs that reached their end start settling, runs
    that settled say so, manual modifiers that reached their end expire, scheduled external
    events happen."""
    events = []
    for run in state.runs:
        scenario = catalog.scenarios.get(run.scenario_id)
        if scenario is None:
            continue
        if run.settling_from is None and run.ends_at <= now:
            events.append(settling_event(run, scenario, model, run.ends_at, "duration"))
        elif run.settled_at is not None and not run.settled_logged and run.settled_at <= now:
            events.append(
                NewEvent(
                    kind="scenario",
                    type=SETTLED,
                    occurred_at=run.settled_at,
                    data={"runId": run.run_id},
                    correlation_id=run.run_id,
                )
            )
    events.extend(
        _expired(modifier) for modifier in state.modifiers
        if not modifier.end_logged and modifier.end <= now
    )  # fmt: skip
    for position, record in sorted(state.scheduled.items()):
        if record.occurred_at <= now:
            events.append(
                NewEvent(
                    kind="external",
                    type=EXTERNAL,
                    occurred_at=record.occurred_at,
                    data=dict(record.data),
                    causation_id=position,
                    correlation_id=record.correlation_id,
                )
            )
    return events


def _expired(modifier: ManualModifier) -> NewEvent:
    """A manual modifier's planned end, on record: feed subscribers and the console see the
    stream go back without waiting for a poll."""
    return NewEvent(
        kind="scenario",
        type=MODIFIER_EXPIRED,
        occurred_at=modifier.end,
        data={"modifierId": ids.modifier_id(modifier.modifier_id), "stream": modifier.stream},
        correlation_id=modifier.modifier_id,
    )


# Effects ------------------------------------------------------------------------------------


class StateEffects(EffectsSource):
    """What the state's scenario runs, manual modifiers and causal external events do at a
    moment. Within one run, modifiers of one target combine (multipliers multiply); when one
    of them has a precedence, the highest precedence alone applies."""

    def __init__(self, state: SimulationState, model: MarketModel) -> None:
        self.state = state
        self.model = model
        catalog = model.catalog
        self.runs = [
            (run, catalog.scenarios[run.scenario_id])
            for run in state.runs
            if run.scenario_id in catalog.scenarios
        ]
        self.impacts = ImpactEffects(
            event_impact(model, record.data, record.position)
            for record in state.externals
            if record.data.get("actualImpact")
        )

    def at(self, moment: datetime) -> Effects:
        parts = [self._run_effects(run, scenario, moment) for run, scenario in self.runs]
        parts.extend(self._modifier_effects(m, moment) for m in self.state.modifiers)
        parts.append(self.impacts.at(moment))
        return combine(parts)

    def changes(self) -> tuple[datetime, ...]:
        moments = set()
        for run, scenario in self.runs:
            settles = run.settles_from
            moments |= {run.activated_at, settles, settles + scenario.settling.duration}
            moments |= {run.activated_at + c.after for c in scenario.cascade_rules}
            if scenario.settling.backlog:
                moments.add(settles + scenario.settling.backlog.duration)
        for modifier in self.state.modifiers:
            moments |= {modifier.start, modifier.end}
        return tuple(sorted(moments))

    def releases(self) -> tuple[Release, ...]:
        """A backlog's caused streams: what their causes started while the run was active
        (until it settles, or is planned to) happens over the backlog's duration after it."""
        found = []
        for run, scenario in self.runs:
            backlog = scenario.settling.backlog
            if backlog is None:
                continue
            settles = run.settles_from
            for name in backlog.streams:
                stream = self.model.index[name]
                if self.model.is_chain(stream):
                    end = settles + backlog.duration
                    found.append(
                        Release(stream, run.activated_at, settles, settles, end, run.run_id)
                    )
        return tuple(found)

    def _run_effects(self, run: Run, scenario: Scenario, moment: datetime) -> Effects:
        w = weight(scenario, run, moment)
        streams: dict[int, Adjust] = {}
        rates: dict[str, Adjust] = {}
        if w > 0:
            in_force = list(scenario.modifiers)
            in_force += [c for c in scenario.cascade_rules if moment >= run.activated_at + c.after]
            for target, modifiers in _by_target(in_force).items():
                adjust = _combined(modifiers, w)
                if target[0] == "stream":
                    streams[self.model.index[target[1]]] = adjust
                else:
                    rates[target[1]] = adjust
        backlog = scenario.settling.backlog
        settling = run.settles_from
        if backlog and settling <= moment < settling + backlog.duration:
            for name in backlog.streams:
                stream = self.model.index[name]
                if not self.model.is_chain(stream):  # a chain stream's backlog is a release
                    streams[stream] = streams.get(stream, Adjust()).then(
                        Adjust(factor=backlog.multiplier)
                    )
        sources_s = {s: run.run_id for s in streams}
        sources_r = {r: run.run_id for r in rates}
        return Effects(streams, rates, sources_s, sources_r)

    def _modifier_effects(self, modifier: ManualModifier, moment: datetime) -> Effects:
        if not modifier.in_force(moment):
            return Effects()
        stream = self.model.index[modifier.stream]
        adjust = _adjust(modifier.type, modifier.value, 1.0)
        return Effects({stream: adjust}, {}, {stream: modifier.modifier_id}, {})


def _by_target(modifiers: Sequence[Modifier]) -> dict[tuple[str, str], list[Modifier]]:
    grouped: dict[tuple[str, str], list[Modifier]] = defaultdict(list)
    for modifier in modifiers:
        target = modifier.target
        key = ("stream", target.stream) if target.stream else ("rate", target.rate)
        grouped[key].append(modifier)
    return grouped


def _combined(modifiers: list[Modifier], w: float) -> Adjust:
    ranked = [m for m in modifiers if m.precedence is not None]
    if ranked:
        modifiers = [max(ranked, key=lambda m: m.precedence)]
    adjust = Adjust()
    for modifier in modifiers:
        adjust = adjust.then(_adjust(modifier.type, modifier.value, w))
    return adjust


def _adjust(kind: str, value: float, w: float) -> Adjust:
    if kind == "multiplier":
        return Adjust(factor=1 + (value - 1) * w)
    if kind in ("additive", "probabilityShift"):
        return Adjust(add=value * w)
    return Adjust(override=value, weight=w)


def conflicts(scenario: Scenario) -> list[str]:
    """Targets that several modifiers of a scenario change at once (logged as warnings)."""
    found = []
    for (kind, name), modifiers in _by_target(_all_modifiers(scenario)).items():
        if len(modifiers) > 1:
            ranked = any(m.precedence is not None for m in modifiers)
            how = "the highest precedence applies" if ranked else "they combine"
            found.append(f"{len(modifiers)} modifiers change {kind} '{name}': {how}")
    return found
