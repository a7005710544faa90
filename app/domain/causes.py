"""The causes behind the data's changes, each one something that can be taken away.

A cause is anything on record that bends the streams: an external event, a scenario run, a
manual modifier, a natural anomaly of the baseline, a period of the academic calendar. Each
says what it does (its action) and over which span it acts; `CauseSet` turns a set of them
into the hourly flow's conditions, with or without some of them. The truth about one cause
is then a counterfactual: the flow's expectation with every cause acting, against the same
with that cause removed (`app/domain/counterfactual.py`).

External events and anomalies multiply their streams; a calendar period is part of the model's
own curves, so removing it divides its share back out; scenario runs and manual modifiers act
through the same effects the live generator applies (`StateEffects`). Each shape of a scenario
run (a spike, a variance, ... of its definition) is a cause of its own, with the shape's kind,
so its windows say what a detector meets there.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

import numpy as np

from app.domain import ids
from app.domain.calendar import DAY, HOUR, hour_grid
from app.domain.catalog import Scenario
from app.domain.effects import Effects, Release, hour_average
from app.domain.hourly import Conditions
from app.domain.impacts import Impact, event_impact, hourly_shape
from app.domain.model import MarketModel
from app.domain.simulation_state import ManualModifier, Run, SimulationState
from app.domain.state_effects import StateEffects, scenario_shapes
from app.domain.timerange import from_iso

CauseKind = Literal["external", "scenario", "modifier", "anomaly", "calendar"]


@dataclass(frozen=True)
class ImpactAction:
    """An external event's multipliers. Events of one template in one `group` (the baseline's,
    or the log's) do not compound on a stream: the strongest holds, as the generator does."""

    impact: Impact
    group: str


@dataclass(frozen=True)
class AnomalyAction:
    stream: int
    factor: float


@dataclass(frozen=True)
class CalendarAction:
    period: str


@dataclass(frozen=True)
class StateAction:
    """A scenario run or a manual modifier, acting as the live generator applies it."""

    run: Run | None = None
    modifier: ManualModifier | None = None


Action = ImpactAction | AnomalyAction | CalendarAction | StateAction | None


@dataclass(frozen=True)
class Cause:
    """One labelled cause. `start`/`end` bound where it acts (for a scenario run, up to where
    it settles); `occurred_at` is when it happened (the lag of its windows counts from
    there). `action` is None for what does nothing (a red herring)."""

    id: str
    kind: CauseKind
    occurred_at: datetime
    start: datetime
    end: datetime
    causal: bool
    named: tuple[str, ...]
    source: Mapping[str, Any]
    action: Action = None
    shape: str | None = None
    """A manual modifier's anomaly kind (`ModifierKind`): what its windows are labelled."""

    @property
    def acts(self) -> bool:
        return self.action is not None


@dataclass
class CauseSet:
    """The causes acting over an hour grid, ready to give the flow's conditions with all of
    them or without some."""

    model: MarketModel
    start: datetime
    hours: int
    causes: Sequence[Cause]
    _rows: dict[str, dict[int, np.ndarray]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.by_id = {cause.id: cause for cause in self.causes}
        self.grid = hour_grid(self.start, self.hours)

    @property
    def acting(self) -> list[Cause]:
        return [cause for cause in self.causes if cause.acts]

    def conditions(self, without: Collection[str] = ()) -> Conditions:
        """The conditions of the flow with every acting cause but those in `without`."""
        removed = set(without)
        factor = np.ones((self.model.stream_count, self.hours))
        for rows in self._impact_groups(removed):
            for stream, row in rows.items():
                factor[stream] *= row
        for cause in self.acting:
            action = cause.action
            if isinstance(action, AnomalyAction) and cause.id not in removed:
                factor[action.stream] *= self.rows_of(cause)[action.stream]
            elif isinstance(action, CalendarAction) and cause.id in removed:
                for stream, row in self.rows_of(cause).items():
                    factor[stream] /= row
        effects, releases = self._state_effects(removed)
        return Conditions(stream_factor=factor, effects=effects, releases=releases)

    def streams_of(self, cause: Cause) -> frozenset[int]:
        """The streams a cause acts on directly (an outcome of an exclusive chain with its
        other outcomes)."""
        action = cause.action
        if isinstance(action, StateAction):
            direct = [self.model.index[name] for name in cause.named]
        else:
            direct = list(self.rows_of(cause))
        found: frozenset[int] = frozenset()
        for stream in direct:
            found |= self.model.outcomes_moved_with(stream)
        return found

    # Multipliers --------------------------------------------------------------------------------

    def rows_of(self, cause: Cause) -> dict[int, np.ndarray]:
        """A multiplying cause's factor on each stream it moves, hour by hour (for a calendar
        period: the factor its occurrence contributes, to be divided out)."""
        if cause.id not in self._rows:
            self._rows[cause.id] = self._compute_rows(cause)
        return self._rows[cause.id]

    def _compute_rows(self, cause: Cause) -> dict[int, np.ndarray]:
        action = cause.action
        if isinstance(action, ImpactAction):
            impact = action.impact
            shape = hourly_shape(impact.start, impact.end, self.start, self.hours)
            return {stream: 1 + (m - 1) * shape for stream, m in impact.factors.items()}
        if isinstance(action, AnomalyAction):
            row = np.ones(self.hours)
            row[self._hours_between(cause.start, cause.end)] = action.factor
            return {action.stream: row}
        if isinstance(action, CalendarAction):
            return self._calendar_rows(cause, action.period)
        return {}

    def _hours_between(self, start: datetime, end: datetime) -> slice:
        first = int(np.floor((start - self.start) / HOUR))
        last = int(np.ceil((end - self.start) / HOUR))
        return slice(max(first, 0), max(min(last, self.hours), 0))

    def _calendar_rows(self, cause: Cause, period: str) -> dict[int, np.ndarray]:
        inside = self._hours_between(cause.start, cause.end)
        rows = {}
        for stream, profile in seasonal_streams(self.model).items():
            with_all = self.model.calendar_curve(profile, self.grid)
            without = self.model.calendar_curve(profile, self.grid, without=period)
            row = np.ones(self.hours)
            row[inside] = with_all[inside] / without[inside]
            if np.any(np.abs(row - 1) > 1e-12):
                rows[stream] = row
        return rows

    def _impact_groups(self, removed: set[str]) -> Iterable[dict[int, np.ndarray]]:
        """The factor rows of each (group, template): the strongest holds at each hour."""
        groups: dict[tuple[str, str], list[Cause]] = defaultdict(list)
        for cause in self.acting:
            if isinstance(cause.action, ImpactAction) and cause.id not in removed:
                groups[(cause.action.group, cause.action.impact.template)].append(cause)
        for members in groups.values():
            if len(members) == 1:
                yield self.rows_of(members[0])
                continue
            strongest: dict[int, np.ndarray] = {}
            for member in members:
                for stream, row in self.rows_of(member).items():
                    current = strongest.get(stream)
                    if current is None:
                        strongest[stream] = row
                    else:
                        stronger = np.abs(np.log(row)) > np.abs(np.log(current))
                        strongest[stream] = np.where(stronger, row, current)
            yield strongest

    # Scenario runs and manual modifiers ---------------------------------------------------------

    def _state_effects(self, removed: set[str]) -> tuple[list[Effects] | None, tuple[Release, ...]]:
        """The runs' and modifiers' effects hour by hour, and their backlogs' releases."""
        runs, modifiers = [], []
        for cause in self.acting:
            action = cause.action
            if isinstance(action, StateAction) and cause.id not in removed:
                runs.extend([action.run] if action.run else [])
                modifiers.extend([action.modifier] if action.modifier else [])
        if not runs and not modifiers:
            return None, ()
        source = StateEffects(
            SimulationState(runs=tuple(runs), modifiers=tuple(modifiers)),
            self.model,
            run_shapes=False,  # each is a cause of its own (`shape_causes`)
        )
        first = min([r.activated_at for r in runs] + [m.start for m in modifiers])
        empty = Effects()
        effects = []
        for h in range(self.hours):
            moment = self.start + h * HOUR
            effects.append(hour_average(source, moment) if moment + HOUR > first else empty)
        return effects, source.releases()


def seasonal_streams(model: MarketModel) -> dict[int, str]:
    """The roots and gauges the academic calendar scales, with their profile."""
    found = {root.stream: root.profile for root in model.roots if root.seasonal}
    found |= {gauge.stream: gauge.profile for gauge in model.gauges if gauge.seasonal}
    return found


# Building causes -------------------------------------------------------------------------------


def calendar_causes(model: MarketModel, start: datetime, end: datetime) -> list[Cause]:
    """Each occurrence of a calendar period whose ramps reach into [start, end), with the
    streams it scales."""
    calendar = model.catalog.calendar
    profiles = set(seasonal_streams(model).values())
    found = []
    for period in calendar.periods:
        acting = sorted(p for p in period.multipliers if p in profiles)
        if not acting:
            continue
        ramp = timedelta(days=period.ramp_days if period.ramp_days is not None else
                         calendar.ramp_days)  # fmt: skip
        for year in range(start.year - 1, end.year + 1):
            first, last = period.window(year)
            begin = _midnight(first) - ramp
            finish = _midnight(last) + DAY + ramp
            if begin >= end or finish <= start:
                continue
            named = tuple(
                model.names[s] for s, p in sorted(seasonal_streams(model).items()) if p in acting
            )
            found.append(
                Cause(
                    id=ids.calendar_id(period.id, first.year),
                    kind="calendar",
                    occurred_at=_midnight(first),
                    start=begin,
                    end=finish,
                    causal=True,
                    named=named,
                    source={
                        "kind": "calendar",
                        "id": ids.calendar_id(period.id, first.year),
                        "period": period.id,
                        "title": period.name,
                        "periodKind": period.kind,
                        "multipliers": {p: period.multipliers[p] for p in acting},
                    },
                    action=CalendarAction(period.id),
                )
            )
    return found


def anomaly_causes(model: MarketModel, anomalies: Iterable[Mapping[str, Any]]) -> list[Cause]:
    """The baseline's natural anomalies (in their JSON shape, with their ids)."""
    found = []
    for anomaly in anomalies:
        start, end = from_iso(anomaly["start"]), from_iso(anomaly["end"])
        factor = float(anomaly["factor"])
        found.append(
            Cause(
                id=anomaly["id"],
                kind="anomaly",
                occurred_at=start,
                start=start,
                end=end,
                causal=True,
                named=(anomaly["stream"],),
                source={
                    "kind": "anomaly",
                    "id": anomaly["id"],
                    "title": f"{'spike' if factor > 1 else 'dip'} x{round(factor, 2)}",
                },
                action=AnomalyAction(model.index[anomaly["stream"]], factor),
            )
        )
    return found


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def external_causes(
    model: MarketModel, events: Iterable[Mapping[str, Any]], group: str
) -> list[Cause]:
    """External events in the ExternalEvent shape, with their ids (`position`, when the log
    holds them, keys a custom event). `group`: whose events these are (`baseline`, `log`)."""
    found = []
    for event in events:
        window = event["impactWindow"]
        causal = bool(event.get("actualImpact"))
        source = event.get("source") or {}
        action = (
            ImpactAction(event_impact(model, event, event.get("position")), group)
            if causal
            else None
        )
        found.append(
            Cause(
                id=event["id"],
                kind="external",
                occurred_at=from_iso(event["timestamp"]),
                start=from_iso(window["start"]),
                end=from_iso(window["end"]),
                causal=causal,
                named=tuple(event["expectedImpact"]["streams"]),
                source={
                    "kind": "external",
                    "id": event["id"],
                    "title": event["title"],
                    "template": event.get("template"),
                    **(
                        {"scenarioId": source["scenarioId"], "runId": source["runId"]}
                        if source.get("kind") == "scenario"
                        else {}
                    ),
                },
                action=action,
            )
        )
    return found


def run_cause(model: MarketModel, run: Run, until: datetime) -> Cause | None:
    """A scenario run: from its activation until it settles (or `until`, while it has not)."""
    scenario = model.catalog.scenarios.get(run.scenario_id)
    if scenario is None:
        return None
    return Cause(
        id=ids.run_id(run.run_id),
        kind="scenario",
        occurred_at=run.activated_at,
        start=run.activated_at,
        end=max(run.settled_at or until, run.activated_at),
        causal=True,
        named=scenario_streams(model, scenario),
        source={
            "kind": "scenario",
            "id": ids.run_id(run.run_id),
            "scenarioId": run.scenario_id,
            "title": scenario.name,
        },
        action=StateAction(run=run),
    )


def shape_causes(model: MarketModel, run: Run) -> list[Cause]:
    """A scenario run's shapes, each a cause labelled with its kind (`shape_cause`)."""
    scenario = model.catalog.scenarios.get(run.scenario_id)
    if scenario is None:
        return []
    return [
        shape_cause(modifier, scenario, number)
        for number, modifier in enumerate(scenario_shapes(run, scenario), start=1)
    ]


def shape_cause(modifier: ManualModifier, scenario: Scenario, number: int) -> Cause:
    """The `number`th shape of a scenario run (`modifier`, made by `scenario_shapes`): the
    manual modifier's cause, its id the run's with the shape's number, its source the run."""
    cause = modifier_cause(modifier)
    run_id = ids.run_id(modifier.modifier_id)
    title = f"{scenario.name}: {cause.source['title']}"
    source = {**cause.source, "kind": "scenario", "id": run_id, "scenarioId": scenario.id}
    return replace(
        cause, id=f"{run_id}:shape-{number}", kind="scenario", source=source | {"title": title}
    )


def modifier_cause(modifier: ManualModifier) -> Cause:
    """A manual modifier, with its shape and parameters (what a detector is scored by)."""
    value = modifier.given_value
    planned = modifier.planned_end or modifier.end
    change = modifier.type if value is None else f"{modifier.type} {value:g}"
    return Cause(
        id=ids.modifier_id(modifier.modifier_id),
        kind="modifier",
        occurred_at=modifier.start,
        start=modifier.start,
        end=modifier.end,
        causal=True,
        named=(modifier.stream,),
        source={
            "kind": "modifier",
            "id": ids.modifier_id(modifier.modifier_id),
            "title": f"{change} on {modifier.stream}",
            "type": modifier.type,
            "value": value,
            "durationSeconds": (planned - modifier.start).total_seconds(),
        }
        | ({"sigma": modifier.sigma} if modifier.sigma is not None else {}),
        action=StateAction(modifier=modifier),
        shape=modifier.kind,
    )


def scenario_streams(model: MarketModel, scenario: Scenario) -> tuple[str, ...]:
    """The streams a scenario acts on directly: its modifiers' streams, the streams made by
    the rules whose rates it changes, its backlog's streams, its faults of delivery's and its
    shapes'."""
    found: set[int] = set()
    for modifier in [*scenario.modifiers, *scenario.cascade_rules]:
        target = modifier.target
        if target.stream:
            found.add(model.index[target.stream])
        else:
            found |= model.rate_targets(target.rate)
    if scenario.settling.backlog:
        found |= {model.index[name] for name in scenario.settling.backlog.streams}
    found |= {model.index[fault.stream] for fault in scenario.deliveries}
    found |= {model.index[shape.stream] for shape in scenario.shapes}
    return tuple(model.names[s] for s in sorted(found))


def source_title(data: Mapping[str, Any]) -> str | None:
    """What a logged event that moved streams is called where it is listed as their source:
    an external event's title, a scenario activation's name (or its id), a manual modifier's
    stream."""
    for key in ("title", "name", "scenarioId", "stream"):
        if data.get(key) is not None:
            return str(data[key])
    return None
