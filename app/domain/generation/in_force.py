"""What acts on the live marketplace at a moment: effects, rates, couplings and capacities.

Effects (the baseline's events that still act, scenarios, modifiers, injected events) are taken
as constant over stretches: 5-minute slices, cut where an effect starts or ends inside one, so
an activation acts from its very moment. Couplings and capacities read the timeline's live
hours, so what they say is recomputed each round (`forget_round`).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from itertools import pairwise

import numpy as np

from app.domain.calendar import HOUR, hour_grid
from app.domain.capacity import CapacitySpec, within_capacity
from app.domain.delays import DelayModel
from app.domain.effects import CombinedEffects, Effects, EffectsSource, Release
from app.domain.generation.records import moment, seconds
from app.domain.generation.state import LiveState
from app.domain.history import BaselineView
from app.domain.impacts import ImpactEffects, logged_impacts
from app.domain.model import ChainGroup, CouplingSpec, MarketModel, Rule

SLICE = 300
"""Seconds over which effects, couplings and loads are taken as constant."""
_EFFECTS_KEPT = 4096
"""Stretches whose effects are kept between rounds (two weeks of 5-minute slices)."""


class InForce:
    """The effects in force and what they make of the model's rates, streams and delays."""

    def __init__(self, model: MarketModel, baseline: BaselineView, state: LiveState) -> None:
        self.model = model
        self.state = state
        self._ongoing = ImpactEffects(logged_impacts(model, baseline.events))
        self.effects: EffectsSource = self._ongoing
        self.cuts: list[float] = []
        """Where effects jump (as seconds), sorted: slices of constant effects end there."""
        self.releases: dict[int, list[Release]] = defaultdict(list)
        """Per stream, the backlogs in force: effects they hold happen when released."""
        self._couplings_to_stream: dict[int, list[CouplingSpec]] = defaultdict(list)
        self._couplings_to_rate: dict[str, list[CouplingSpec]] = defaultdict(list)
        for coupling in model.couplings:
            if coupling.target_stream is not None:
                self._couplings_to_stream[coupling.target_stream].append(coupling)
            else:
                self._couplings_to_rate[coupling.target_rate].append(coupling)
        self._coupling_cache: dict[tuple[str, int], float] = {}
        self._effects_cache: dict[float, Effects] = {}
        self._delay_cache: dict[tuple, DelayModel] = {}

    def set(self, effects: EffectsSource) -> None:
        """What scenarios, modifiers and logged external events do from now on (on top of the
        baseline's events that still act)."""
        self.effects = CombinedEffects(self._ongoing, effects)
        self.cuts = [change.timestamp() for change in self.effects.changes()]
        self.releases = defaultdict(list)
        for release in self.effects.releases():
            self.releases[release.stream].append(release)
        self._effects_cache.clear()
        self.forget_round()

    def forget_round(self) -> None:
        """Drop what was computed from live data for the previous round (couplings and
        capacities: the data has moved on since). The effects at each stretch are a function
        of the effects source alone, so they are kept until it changes (`set`), but not
        without bound."""
        self._coupling_cache.clear()
        if len(self._effects_cache) > _EFFECTS_KEPT:
            self._effects_cache.clear()

    # Stretches of constant effects ------------------------------------------------------------

    def at(self, when: datetime) -> Effects:
        """The effects in force, taken as constant over each stretch (`stretch_starts`)."""
        return self.in_stretch(self.stretch_start(when.timestamp()))

    def in_stretch(self, start: float) -> Effects:
        """The effects in force over the stretch that begins at `start` (seconds)."""
        effects = self._effects_cache.get(start)
        if effects is None:
            effects = self._effects_cache[start] = self.effects.at(moment(start))
        return effects

    def sources(self, stream: int, moments: Sequence[datetime]) -> list[int | None]:
        """`source` for many moments at once: one look-up per stretch."""
        starts = self.stretch_starts(np.array([m.timestamp() for m in moments])).tolist()
        found: dict[float, int | None] = {}
        for start in set(starts):
            found[start] = self.in_stretch(start).stream_sources.get(stream)
        return [found[start] for start in starts]

    def decoupled(self, stream: int, moments: Sequence[datetime]) -> list[bool]:
        """For each moment, whether the stream is decoupled from its causes then (a
        correlation break): one look-up per stretch."""
        if not self.cuts:
            return [False] * len(moments)
        starts = self.stretch_starts(np.array([m.timestamp() for m in moments])).tolist()
        found = {start: self.in_stretch(start).stream(stream).decoupled for start in set(starts)}
        return [found[start] for start in starts]

    def stretch_start(self, second: float) -> float:
        """`stretch_starts` for one moment, without numpy: it runs once per chain effect."""
        start = (second // SLICE) * SLICE
        latest = bisect.bisect_right(self.cuts, second) - 1
        return max(start, self.cuts[latest]) if latest >= 0 else start

    def stretch_starts(self, moments: np.ndarray) -> np.ndarray:
        """Where the stretch of constant effects holding each moment begins: its 5-minute
        slice, cut where a scenario, cascade or modifier starts or ends inside it (so an
        activation acts from its very moment, not from the next slice)."""
        starts = (moments // SLICE) * SLICE
        if not self.cuts:
            return starts
        cuts = np.array(self.cuts)
        latest = np.searchsorted(cuts, moments, side="right") - 1
        cut = np.where(latest >= 0, cuts[np.maximum(latest, 0)], -np.inf)
        return np.maximum(starts, cut)

    def segments(self, start: datetime, end: datetime) -> Iterable[tuple[datetime, datetime]]:
        """[start, end) cut at hours (the baseline's expectation changes) and where effects
        change (stretches)."""
        low, high = seconds(start), seconds(end)
        first_slice = (low // SLICE + 1) * SLICE
        cuts = set(np.arange(first_slice, high, SLICE).tolist())
        cuts |= {c for c in self.cuts if low < c < high}
        bounds = [low, *sorted(cuts), high]
        for a, b in pairwise(bounds):
            yield moment(a), moment(b)

    # Streams, rates, couplings, capacities ----------------------------------------------------

    def stream_value(self, stream: int, at: datetime, base):
        """A root's rate or a gauge's level at `at`: effects in force, then couplings."""
        value = self.at(at).stream(stream).apply_array(base)
        h = self.state.timeline.index(at)
        for coupling in self._couplings_to_stream.get(stream, ()):
            value = value * self._coupling(coupling, h)
        return np.maximum(value, 0.0)

    def source(self, stream: int, at: datetime) -> int | None:
        """What is behind a stream's change at `at` (a scenario run, an event), if anything."""
        return self.at(at).stream_sources.get(stream)

    def rate(self, name: str, at: datetime) -> float:
        """A rate of the model at `at`, with the effects in force and its couplings."""
        value = self.at(at).rate(name).apply(self.model.rates[name])
        h = self.state.timeline.index(at)
        for coupling in self._couplings_to_rate.get(name, ()):
            value *= self._coupling(coupling, h)
        return min(max(value, 0.0), 1.0)

    def _coupling(self, coupling: CouplingSpec, h: int) -> float:
        key = (coupling.coupling_id, h)
        if key not in self._coupling_cache:
            timeline = self.state.timeline
            complete = timeline.index(self.state.frontier_of(coupling.driver))
            ratio = timeline.ratio(coupling.driver, h, coupling.window_hours, complete)
            self._coupling_cache[key] = max(ratio, 1e-6) ** coupling.elasticity
        return self._coupling_cache[key]

    def within_capacity(
        self, chain: ChainGroup, probabilities: np.ndarray, at: datetime
    ) -> np.ndarray:
        """A chain's outcome probabilities at `at` once its capacity, if it has one, has
        served what it can (as the hourly flow reckons it: `app.domain.capacity`)."""
        capacity = self.model.capacities.get(chain.rule_id)
        if capacity is None:
            return probabilities
        asked = self._asked_per_probability(capacity, self.state.timeline.index(at))
        return within_capacity(probabilities, capacity, asked)

    def _asked_per_probability(self, capacity: CapacitySpec, h: int) -> float:
        """What a day asks of a capacity at hour `h`, over its limit, per unit of the outcome's
        probability."""
        key = (capacity.capacity_id, h)
        if key not in self._coupling_cache:
            timeline = self.state.timeline
            complete = timeline.index(self.state.frontier_of(capacity.demand))
            ratio = timeline.ratio(capacity.demand, h, capacity.window_hours, complete)
            plain_day = timeline.day_around(capacity.demand, h)
            hour = hour_grid(timeline.origin + h * HOUR, 1)
            limit = float(self.model.capacity_limit(capacity, hour)[0])
            self._coupling_cache[key] = ratio * plain_day / limit
        return self._coupling_cache[key]

    def rule_probability(self, rule: Rule, at: datetime) -> float:
        """A rule's probability at a moment: its rate (with effects and couplings) times the
        effects on the stream it produces, at most 1. (A cascade's condition is tested on each
        cause's data instead of entering as a share.)"""
        p = self.rate(rule.rate, at)
        return min(1.0, p * self.at(at).stream(rule.target).factor)

    def delay_model(self, rule: Rule, at: datetime) -> DelayModel:
        """The rule's delay, rebuilt when it reads a rate (a median in hours) that the effects
        at `at` change: a support overload slows resolution down."""
        refs = [ref.rate for _, ref in rule.spec.rate_refs()]
        if not refs:
            return rule.delay
        effects = self.at(at)
        hours = {name: effects.rate(name).apply(self.model.rates[name]) for name in refs}
        if all(hours[n] == self.model.rates[n] for n in refs):
            return rule.delay
        key = (rule.index, tuple(sorted(hours.items())))
        if key not in self._delay_cache:
            self._delay_cache[key] = DelayModel.of(rule.spec, hours)
        return self._delay_cache[key]
