"""What the state's scenario runs, manual modifiers and causal external events do to the
streams at a moment, as the generator and the hourly flow apply it.

    effects = StateEffects(state, model).at(moment)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from app.domain.catalog import DELIVERY_FAULTS, Modifier, Scenario, ScenarioCascade, ShapeSpec
from app.domain.effects import Adjust, DeliveryFault, Effects, EffectsSource, Release, combine
from app.domain.impacts import ImpactEffects, event_impact
from app.domain.model import MarketModel
from app.domain.seasonality import reshaped_day
from app.domain.settling import scenario_modifiers, weight
from app.domain.simulation_state import ManualModifier, Run, SimulationState


class StateEffects(EffectsSource):
    """What the state's scenario runs, manual modifiers and causal external events do at a
    moment. Within one run, modifiers of one target combine (multipliers multiply); when one
    of them has a precedence, the highest precedence alone applies. A run's shapes act as
    manual modifiers of their type (`scenario_shapes`); with `run_shapes` False they are left
    to be given as modifiers of the state (the ground truth makes each a cause of its own)."""

    def __init__(self, state: SimulationState, model: MarketModel, run_shapes: bool = True) -> None:
        self.state = state
        self.model = model
        catalog = model.catalog
        self.runs = [
            (run, catalog.scenarios[run.scenario_id])
            for run in state.runs
            if run.scenario_id in catalog.scenarios
        ]
        shapes = [m for run, scenario in self.runs for m in scenario_shapes(run, scenario)]
        self.modifiers = [*state.modifiers, *(shapes if run_shapes else ())]
        self.impacts = ImpactEffects(
            event_impact(model, record.data, record.position)
            for record in state.externals
            if record.data.get("actualImpact")
        )

    def at(self, moment: datetime) -> Effects:
        parts = [self._run_effects(run, scenario, moment) for run, scenario in self.runs]
        parts.extend(self._modifier_effects(m, moment) for m in self.modifiers)
        parts.append(self.impacts.at(moment))
        return combine(parts)

    def changes(self) -> tuple[datetime, ...]:
        moments = set()
        for run, scenario in self.runs:
            settles = run.settles_from
            moments |= {run.activated_at, settles, settles + scenario.settling.duration}
            moments |= {run.activated_at + c.after for c in scenario.cascade_rules}
            moments |= {_acting_from(m, run) + m.ramp for m in _ramped(scenario)}
            if scenario.settling.backlog:
                moments.add(settles + scenario.settling.backlog.duration)
        for modifier in self.modifiers:
            moments |= {modifier.start, modifier.end}
            if modifier.type == "seasonality":  # its factor changes with each hour
                moments |= set(_hours_between(modifier.start, modifier.end))
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

    def deliveries(self) -> tuple[DeliveryFault, ...]:
        """The faults of delivery over the time each acts: manual modifiers', and scenario
        runs' while they are active (until they start settling)."""
        index = self.model.index
        found = [
            DeliveryFault(index[m.stream], m.type, m.value, m.start, m.end, m.modifier_id)
            for m in self.state.modifiers
            if m.type in DELIVERY_FAULTS and m.stream in index
        ]
        found += [
            DeliveryFault(
                index[f.stream],
                f.type,
                f.value,
                run.activated_at,
                run.settles_from,
                run.run_id,
                by_run=True,
            )
            for run, scenario in self.runs
            for f in scenario.deliveries
            if f.stream in index
        ]
        return tuple(found)

    def _run_effects(self, run: Run, scenario: Scenario, moment: datetime) -> Effects:
        w = weight(scenario, run, moment)
        streams: dict[int, Adjust] = {}
        rates: dict[str, Adjust] = {}
        if w > 0:
            in_force = list(scenario.modifiers)
            in_force += [c for c in scenario.cascade_rules if moment >= run.activated_at + c.after]
            for target, modifiers in _by_target(in_force).items():
                adjust = _combined(modifiers, lambda m: w * _ramp_share(m, run, moment))
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
        if not modifier.in_force(moment) or modifier.type in DELIVERY_FAULTS:
            return Effects()
        stream = self.model.index[modifier.stream]
        if modifier.type in ("additive", "override"):
            adjust = _adjust(modifier.type, modifier.value, 1.0)
        elif modifier.type == "variance":
            adjust = Adjust(spread=modifier.value)
        elif modifier.type == "flatline":
            adjust = Adjust(held=True)
        elif modifier.type == "correlation-break":
            adjust = Adjust(decoupled=True)
        elif modifier.type == "missing" and not self.model.is_entity(stream):
            adjust = Adjust(absent=True)  # a gap in the samples: what it measures goes on
        elif modifier.type == "seasonality":
            adjust = Adjust(factor=self._reshaped(stream, modifier.value, moment))
        else:
            adjust = Adjust(factor=modifier.factor_at(moment))
        return Effects({stream: adjust}, {}, {stream: modifier.modifier_id}, {})

    def _reshaped(self, stream: int, strength: float, moment: datetime) -> float:
        """A seasonality change's factor on the hour `moment` is in (`reshaped_day`)."""
        profile = self.model.own_profile(stream)
        if profile is None:
            return 1.0
        day = self.model.day_of(profile, moment)
        return float(reshaped_day(day, strength)[moment.astimezone(UTC).hour])


ZERO = timedelta(0)


def scenario_shapes(run: Run, scenario: Scenario) -> list[ManualModifier]:
    """A run's shaped anomalies as the manual modifiers of their type that make them: each from
    `after` its activation for its `duration` (or until the run settles), ended early when the
    run starts settling; a trend's slope is set by its planned length all the same."""
    found = []
    for shape in scenario.shapes:
        start = run.activated_at + shape.after
        planned = run.ends_at if shape.duration is None else start + shape.duration
        end = min(planned, run.settles_from)
        if end > start:
            found.append(_shape_modifier(run, shape, start, end, planned))
    return found


def _shape_modifier(
    run: Run, shape: ShapeSpec, start: datetime, end: datetime, planned: datetime
) -> ManualModifier:
    value = 0.0 if shape.value is None else shape.value
    return ManualModifier(
        run.run_id, shape.stream, shape.type, value, start, end,
        end_logged=True, planned_end=planned, by_run=True,
    )  # fmt: skip


def _hours_between(start: datetime, end: datetime) -> list[datetime]:
    hour = start.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    found = []
    while hour < end:
        found.append(hour)
        hour += timedelta(hours=1)
    return found


def _by_target(modifiers: Sequence[Modifier]) -> dict[tuple[str, str], list[Modifier]]:
    grouped: dict[tuple[str, str], list[Modifier]] = defaultdict(list)
    for modifier in modifiers:
        target = modifier.target
        key = ("stream", target.stream) if target.stream else ("rate", target.rate)
        grouped[key].append(modifier)
    return grouped


def _combined(modifiers: list[Modifier], weight: Callable[[Modifier], float]) -> Adjust:
    ranked = [m for m in modifiers if m.precedence is not None]
    if ranked:
        modifiers = [max(ranked, key=lambda m: m.precedence)]
    adjust = Adjust()
    for modifier in modifiers:
        adjust = adjust.then(_adjust(modifier.type, modifier.value, weight(modifier)))
    return adjust


def _acting_from(modifier: Modifier, run: Run) -> datetime:
    return run.activated_at + (modifier.after if isinstance(modifier, ScenarioCascade) else ZERO)


def _ramped(scenario: Scenario) -> list[Modifier]:
    return [m for m in (*scenario.modifiers, *scenario.cascade_rules) if m.ramp]


def _ramp_share(modifier: Modifier, run: Run, moment: datetime) -> float:
    """How much of a ramped modifier's change is in: a straight line from 0 when it starts
    acting to 1 after its ramp, held from when the run starts settling."""
    if not modifier.ramp:
        return 1.0
    grown = min(moment, run.settles_from) - _acting_from(modifier, run)
    return min(max(grown / modifier.ramp, 0.0), 1.0)


def _adjust(kind: str, value: float, w: float) -> Adjust:
    if kind == "multiplier":
        return Adjust(factor=1 + (value - 1) * w)
    if kind in ("additive", "probabilityShift"):
        return Adjust(add=value * w)
    return Adjust(override=value, weight=w)


def conflicts(scenario: Scenario) -> list[str]:
    """Targets that several modifiers of a scenario change at once (logged as warnings)."""
    found = []
    for (kind, name), modifiers in _by_target(scenario_modifiers(scenario)).items():
        if len(modifiers) > 1:
            ranked = any(m.precedence is not None for m in modifiers)
            how = "the highest precedence applies" if ranked else "they combine"
            found.append(f"{len(modifiers)} modifiers change {kind} '{name}': {how}")
    return found
