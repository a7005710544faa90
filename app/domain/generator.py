"""The live marketplace: events for a simulated interval, one cadence group at a time.

`StreamGenerator` is pure: given the model, the baseline (for normalization and for the
coupling windows that reach into the past), a seed and what the log already holds, it returns
draft events for `[frontier, until)` of one cadence group:

- roots: Poisson arrivals at the hour's expected rate, times drawn in the interval;
- gauges: samples on a fixed grid (the group's interval, each stream staggered by a hash of
  its name), noise drawn from the sample's index;
- caused events that have come due: each appended event is decided once, by its rules, from
  counter-based randomness keyed by its log position (`app/domain/randomness.py`). So the
  pending work after a crash is recomputed from the log and comes out the same.

Work goes in rounds inside one transaction: the caller appends a round's drafts, tells the
generator their positions (`committed`), and the caused events that come due within the
interval make the next round. So every cause is in the log before its effects, every child
names its cause's position, and none is due before its cause.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np

from app.domain.calendar import HOUR
from app.domain.causes import CauseSet, anomaly_causes, external_causes
from app.domain.effects import EffectsSource
from app.domain.events import NewEvent
from app.domain.fields import DataMaker
from app.domain.generation.decisions import RuleDecisions
from app.domain.generation.gauges import GaugeSamples
from app.domain.generation.in_force import InForce
from app.domain.generation.queue import EffectQueue
from app.domain.generation.records import (
    GROUPS,
    RECENT,
    TICK_TYPE,
    Cause,
    Draft,
    LogSnapshot,
    Pending,
)
from app.domain.generation.records import seconds as _seconds
from app.domain.generation.roots import RootArrivals
from app.domain.generation.state import LiveState
from app.domain.generation.timeline import Timeline
from app.domain.generation.values import EventValues
from app.domain.history import BaselineView
from app.domain.hourly import HourlyRun, simulate
from app.domain.model import MarketModel, Rule
from app.domain.randomness import uniforms

__all__ = [
    "GROUPS",
    "RECENT",
    "TICK_TYPE",
    "Cause",
    "Draft",
    "LogSnapshot",
    "Pending",
    "StreamGenerator",
    "Timeline",
    "restored_history",
]

CARRY_OVER = timedelta(days=14)
"""How much of the past a fresh start simulates (hourly) for the work already in flight."""


class StreamGenerator:
    """The live generator. The causal events of the baseline whose impact runs past its end
    keep acting (as they did in the baseline); `effects` adds what scenarios and injected
    events do."""

    def __init__(
        self,
        model: MarketModel,
        baseline: BaselineView,
        seed: int,
        *,
        effects: EffectsSource | None = None,
    ) -> None:
        self.model = model
        self.baseline = baseline
        self.seed = seed
        self.state = LiveState(model, baseline)
        self.in_force = InForce(model, baseline, self.state)
        self.makers = {
            i: DataMaker(model.catalog.stream(name), model.catalog.population)
            for i, name in enumerate(model.names)
        }
        self.group_of = self.state.group_of
        self.roots = RootArrivals(seed, self.state, self.in_force, self.makers)
        self.gauges = GaugeSamples(model, seed, self.state, self.in_force)
        self.decisions = RuleDecisions(model, seed, self.in_force)
        self.values = EventValues(model, baseline, self.state, self.in_force)
        self.queue = EffectQueue(model, seed, self.state, self.in_force, self.makers)
        self._roots = {r.stream: r for r in model.roots}
        self._gauges = {g.stream: g for g in model.gauges}
        self._rules_from: dict[int, list[Rule]] = defaultdict(list)
        for rule in model.rules:
            self._rules_from[rule.source].append(rule)
        if effects is not None:
            self.set_effects(effects)

    @property
    def pending(self) -> dict[str, list[tuple[float, int, int, Pending]]]:
        """Per cadence group, the effects decided and not yet emitted (a heap)."""
        return self.queue.heaps

    @property
    def epoch(self) -> int:
        return self.state.epoch

    @property
    def frontiers(self) -> dict[str, datetime]:
        """How far each cadence group has generated."""
        return self.state.frontiers

    @property
    def timeline(self) -> Timeline:
        return self.state.timeline

    @property
    def recent(self) -> dict[int, np.ndarray]:
        return self.state.recent

    @property
    def latest_sample(self) -> dict[int, float]:
        return self.state.latest_sample

    # Restoring from the log ---------------------------------------------------------------------

    def restore(self, snapshot: LogSnapshot, start: datetime) -> None:
        """Rebuild every piece of state from what the log holds; `start` is where live
        generation began in this epoch (the baseline's end, or the reset)."""
        self.state.epoch = snapshot.epoch
        self.state.frontiers = {g: snapshot.frontiers.get(g, start) for g in GROUPS}
        self.state.timeline = Timeline(self.model, self.baseline)
        self.timeline.cover(max(self.frontiers.values()))
        for name, hour, events, value_sum, value_count in snapshot.hourly:
            stream = self.model.index[name]
            h = self.timeline.index(hour)
            if 0 <= h < self.timeline.hours:
                self.timeline.live_known[stream, h] = True
                self.timeline.live_sum[stream, h] = (
                    events if self.model.is_entity(stream) else value_sum
                )
                self.timeline.live_count[stream, h] = (
                    events if self.model.is_entity(stream) else (value_count)
                )
        carried, carried_recent = self._carry_over(start)
        times: dict[int, list[float]] = defaultdict(list)
        for stream, seconds in carried_recent.items():
            times[stream].extend(seconds)
        for name, moment in snapshot.recent:
            times[self.model.index[name]].append(_seconds(moment))
        self.state.recent = defaultdict(lambda: np.zeros(0))
        self.recent.update({s: np.sort(np.array(t)) for s, t in times.items()})
        self.state.latest_sample = {
            self.model.index[n]: v for n, v in snapshot.latest_samples.items()
        }
        self.queue.clear()
        self.queue.push_all(
            p
            for p in carried
            if p.due >= self.frontiers[self.group_of[self.model.rules[p.rule].target]]
        )
        logged = [
            Cause(position, self.model.index[name], at, data, correlation)
            for position, name, at, data, correlation in snapshot.causes
        ]
        self.queue.push_all(self.decisions.decide(logged, emitted=snapshot.emitted))

    def _carry_over(self, start: datetime) -> tuple[list[Pending], dict[int, list[float]]]:
        """The work in flight when live generation begins: caused events still due after
        `start` (sessions booked for next week), and each stream's events of the last hour.
        At the baseline's end they are the baseline's own; after a reset, the fortnight before
        `start` is run through the hourly flow (seeded by `start`). Their causes are in the
        baseline, not the log: they carry no causation id."""
        overflow, last_hour = self._in_flight(start)
        pending = []
        for index, counts in overflow.items():
            rule = self.model.rules[index]
            total = int(counts.sum())
            if total == 0:
                continue
            offsets = np.repeat(np.arange(counts.size), counts)
            within = uniforms(self.seed, 5, index, np.arange(total))
            data_rng = np.random.default_rng([self.seed, 6, index, int(_seconds(start))])
            cause_data = self.makers[rule.source].make(data_rng, total)
            cause_time = start - timedelta(minutes=1)
            pending.extend(
                Pending(
                    start + timedelta(hours=float(k + u)),
                    index,
                    Cause(0, rule.source, cause_time, data, None),
                )
                for k, u, data in zip(offsets, within, cause_data, strict=True)
            )
        recent = {}
        hour_start = _seconds(start) - 3600
        for stream in range(self.model.stream_count):
            if self.model.is_entity(stream):
                count = int(last_hour[stream])
                spots = uniforms(self.seed, 7, stream, np.arange(count))
                recent[stream] = (hour_start + 3600 * np.sort(spots)).tolist()
        return pending, recent

    def _in_flight(self, start: datetime) -> tuple[dict[int, np.ndarray], np.ndarray]:
        """Per rule, caused events due in each hour after `start`; each stream's last hour."""
        if start == self.baseline.end and self.baseline.carry_over:
            keys = {f"{r.rule_id}:{self.model.names[r.target]}": r.index for r in self.model.rules}
            overflow = {}
            for key, pairs in self.baseline.carry_over.items():
                counts = np.zeros(max(k for k, _ in pairs) + 1, dtype=int)
                for k, c in pairs:
                    counts[k] = c
                overflow[keys[key]] = counts
            last = np.array([self.baseline.values[self.baseline.index[n], -1]
                             for n in self.model.names])  # fmt: skip
            return overflow, last
        drawn = restored_history(self.model, self.baseline, self.seed, start)
        overflow = {i: np.rint(v).astype(int) for i, v in drawn.overflow.items()}
        return overflow, drawn.values[:, -1]

    def cause_windows(self) -> dict[str, timedelta]:
        """For each stream that causes others, how far back a cause can still have an effect
        pending: its rules' longest delay, plus a day for effects emitted late by a group that
        was behind."""
        longest: dict[str, float] = defaultdict(float)
        for rule in self.model.rules:
            name = self.model.names[rule.source]
            longest[name] = max(longest[name], rule.delay.high)
        return {name: timedelta(seconds=s) + timedelta(days=1) for name, s in longest.items()}

    # Generation ---------------------------------------------------------------------------------

    def first_round(self, group: str, until: datetime) -> list[Draft]:
        """Roots, gauge samples and due caused events of `group` in [frontier, until)."""
        start = self.frontiers[group]
        self.timeline.cover(until)
        self.in_force.forget_round()
        drafts: list[Draft] = []
        for stream in self._streams(group):
            if stream in self._roots:
                drafts.extend(self.roots.events(self._roots[stream], start, until))
            elif stream in self._gauges:
                drafts.extend(self.gauges.samples(self._gauges[stream], start, until))
        drafts.extend(self.queue.due(group, until))
        return self.values.finish(drafts)

    def next_round(self, group: str, until: datetime) -> list[Draft]:
        """Caused events of `group` that came due in the interval since the last round."""
        self.in_force.forget_round()
        return self.values.finish(self.queue.due(group, until))

    def set_effects(self, effects: EffectsSource) -> None:
        """What scenarios, modifiers and logged external events do from now on (on top of the
        baseline's events that still act)."""
        self.in_force.set(effects)
        self.queue.requeue()
        self.values.explained = None

    def committed(self, drafts: Sequence[Draft], first_position: int) -> None:
        """The drafts are in the log from `first_position` on: record them and decide what
        each of them causes."""
        by_stream: dict[int, list[int]] = defaultdict(list)
        for offset, draft in enumerate(drafts):
            by_stream[draft.stream].append(offset)
        causes = []
        for stream, offsets in by_stream.items():
            items = [drafts[i] for i in offsets]
            seconds = np.array([d.occurred_at.timestamp() for d in items])
            if self.model.is_entity(stream):
                self.timeline.add_many(stream, seconds, None)
                causes.extend(
                    Cause(first_position + i, stream, d.occurred_at, d.data, d.correlation_id)
                    for i, d in zip(offsets, items, strict=True)
                )
            else:
                self.timeline.add_many(stream, seconds, np.array([d.value for d in items]))
                self.latest_sample[stream] = float(items[-1].value or 0.0)
        self.queue.push_all(self.decisions.decide(causes, emitted=set()))

    def advance(self, group: str, until: datetime) -> None:
        self.frontiers[group] = max(self.frontiers[group], until)

    def to_events(self, drafts: Sequence[Draft]) -> list[NewEvent]:
        """The drafts as log events."""
        events = []
        for draft in drafts:
            name = self.model.names[draft.stream]
            events.append(
                NewEvent(
                    kind="stream",
                    type=name,
                    stream=name,
                    occurred_at=draft.occurred_at,
                    data=draft.data,
                    value=draft.value,
                    normalized=draft.normalized,
                    flag=draft.flag,
                    expected=draft.expected,
                    expected_flag=draft.expected_flag,
                    causation_id=draft.cause.position
                    if draft.cause and draft.cause.position
                    else None,
                    correlation_id=draft.correlation_id,
                )
            )
        return events

    def pending_count(self) -> int:
        return self.queue.count()

    def _streams(self, group: str) -> list[int]:
        return [s for s in range(self.model.stream_count) if self.group_of[s] == group]


def restored_history(
    model: MarketModel, baseline: BaselineView, seed: int, start: datetime
) -> HourlyRun:
    """The fortnight before a live start that has no baseline behind it (a reset): the hourly
    flow drawn with a seed from `start`, with the baseline's own causes acting (its events
    that run on past its end: a reset goes back to the baseline's marketplace, finals week
    and all). History shows it, and the generator takes the work in flight from it, so both
    tell the same story; the same seed and reset moment give the same fortnight."""
    begin = start - CARRY_OVER
    hours = int(CARRY_OVER / HOUR)
    causes = CauseSet(
        model,
        begin,
        hours,
        [
            *anomaly_causes(model, baseline.anomalies),
            *external_causes(model, baseline.events, "baseline"),
        ],
    )
    expected = simulate(model, begin, hours)
    conditions = causes.conditions()
    conditioned = simulate(model, begin, hours, expected=expected, conditions=conditions)
    rng = np.random.default_rng([seed, 4, int(start.timestamp())])
    return simulate(
        model,
        begin,
        hours,
        rng=rng,
        expected=expected,
        conditions=conditions,
        preliminary=conditioned,
    )
