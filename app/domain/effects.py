"""Effects in force at a moment: what scenarios, manual modifiers and external events do to
the streams and to the named rates.

An `Adjust` is what happens to one target: `value = base x factor + add`, then, if there is
an override, `value` moves to it by `weight` (1 = fully; settling lowers it). The live
generator asks an `EffectsSource` at each moment it generates; the hourly flow samples the
same source hour by hour. Sources combine: factors multiply, additions add, and an override
(the last one given) wins over both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise


@dataclass(frozen=True)
class Adjust:
    factor: float = 1.0
    add: float = 0.0
    override: float | None = None
    weight: float = 1.0
    spread: float = 1.0
    """A gauge's noise, times (its level unchanged): the live generator's alone, as the hourly
    flow's expectation does not depend on it."""
    held: bool = False
    """A gauge holds its last sample (a flatline): the live generator's alone, like `spread`."""
    absent: bool = False
    """A gauge's samples do not arrive (a gap): the live generator's alone, like `spread`."""
    decoupled: bool = False
    """A caused stream no longer follows its causes (a correlation break): its events arrive
    at the plain expectation of its hour, and its causes' effects on it do not happen."""

    def apply(self, base: float) -> float:
        value = base * self.factor + self.add
        if self.override is not None:
            value += (self.override - value) * self.weight
        return value

    def apply_array(self, base):
        """`apply` on a numpy array."""
        value = base * self.factor + self.add
        if self.override is not None:
            value = value + (self.override - value) * self.weight
        return value

    def then(self, other: Adjust) -> Adjust:
        """This adjustment and another on the same target."""
        spread, held = self.spread * other.spread, self.held or other.held
        absent, decoupled = self.absent or other.absent, self.decoupled or other.decoupled
        if other.override is not None:
            return Adjust(self.factor * other.factor, self.add + other.add, other.override,
                          other.weight, spread, held, absent, decoupled)  # fmt: skip
        return Adjust(self.factor * other.factor, self.add + other.add, self.override, self.weight,
                      spread, held, absent, decoupled)  # fmt: skip

    @property
    def is_identity(self) -> bool:
        return (
            self.factor == 1.0
            and self.add == 0.0
            and (self.override is None or not self.weight)
            and self.spread == 1.0
            and not self.held
            and not self.absent
            and not self.decoupled
        )


NO_ADJUST = Adjust()


@dataclass(frozen=True)
class Effects:
    """Adjustments per stream (a root's rate in events/h, a gauge's value, or - factor only -
    the probability of the rules producing a chain stream) and per named rate, with the log
    position of what is behind each (a scenario run, a modifier, an external event)."""

    streams: Mapping[int, Adjust] = field(default_factory=dict)
    rates: Mapping[str, Adjust] = field(default_factory=dict)
    stream_sources: Mapping[int, int] = field(default_factory=dict)
    rate_sources: Mapping[str, int] = field(default_factory=dict)

    def stream(self, index: int) -> Adjust:
        return self.streams.get(index, NO_ADJUST)

    def rate(self, name: str) -> Adjust:
        return self.rates.get(name, NO_ADJUST)


NO_EFFECTS = Effects()


@dataclass(frozen=True)
class Release:
    """Effects held back and let go: the caused events of `stream` whose causes occurred in
    [held_from, held_until) happen over [start, end) instead (a scenario's backlog: the
    charges that could not go through during an outage go through when it is fixed).
    `source` is the log position of what holds them (the scenario run)."""

    stream: int
    held_from: datetime
    held_until: datetime
    start: datetime
    end: datetime
    source: int | None = None

    def holds(self, moment: datetime) -> bool:
        return self.held_from <= moment < self.held_until

    def at(self, share: float) -> datetime:
        """The moment `share` (0-1) of the way through the release."""
        return self.start + (self.end - self.start) * share


@dataclass(frozen=True)
class DeliveryFault:
    """A fault in how `stream`'s events occurring in [start, end) are delivered (a manual
    modifier's: `late`, `out-of-order`, `duplicate` or `clock-skew`, with its `value`). It
    changes no level: the events are generated as ever. `source` is the position of the
    modifier, or of the scenario run (`by_run`), behind it."""

    stream: int
    fault: str
    value: float
    start: datetime
    end: datetime
    source: int
    by_run: bool = False

    def covers(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


class EffectsSource:
    """Where the generator asks for the effects in force at a moment."""

    def at(self, moment: datetime) -> Effects:
        return NO_EFFECTS

    def changes(self) -> tuple[datetime, ...]:
        """The moments where the effects jump (a scenario starts, a modifier ends): the
        generator takes effects as constant over 5-minute slices, and cuts a slice there."""
        return ()

    def releases(self) -> tuple[Release, ...]:
        """The caused events held back and when they are let go."""
        return ()

    def deliveries(self) -> tuple[DeliveryFault, ...]:
        """The faults of delivery on record."""
        return ()


class CombinedEffects(EffectsSource):
    """Several sources at once."""

    def __init__(self, *sources: EffectsSource) -> None:
        self.sources = sources

    def at(self, moment: datetime) -> Effects:
        return combine([source.at(moment) for source in self.sources])

    def changes(self) -> tuple[datetime, ...]:
        return tuple(sorted({moment for source in self.sources for moment in source.changes()}))

    def releases(self) -> tuple[Release, ...]:
        return tuple(release for source in self.sources for release in source.releases())

    def deliveries(self) -> tuple[DeliveryFault, ...]:
        return tuple(fault for source in self.sources for fault in source.deliveries())


def combine(all_effects: list[Effects]) -> Effects:
    streams: dict[int, Adjust] = {}
    rates: dict[str, Adjust] = {}
    stream_sources: dict[int, int] = {}
    rate_sources: dict[str, int] = {}
    for effects in all_effects:
        for key, adjust in effects.streams.items():
            streams[key] = streams.get(key, NO_ADJUST).then(adjust)
        for key, adjust in effects.rates.items():
            rates[key] = rates.get(key, NO_ADJUST).then(adjust)
        stream_sources.update(effects.stream_sources)
        rate_sources.update(effects.rate_sources)
    return Effects(streams, rates, stream_sources, rate_sources)


def hour_average(source: EffectsSource, start: datetime) -> Effects:
    """The effects in force over the hour from `start`, for the hourly model.

    The hour is cut where the effects jump (a modifier ends at :52, a scenario starts at :17),
    each piece taken at its middle and weighted by its length, as the live generator meets
    them; an hour without a jump is taken at its middle. Taking every hour at its middle
    counted a modifier that ended at :52 as holding the whole hour, and the measured impact
    of anything else in that hour as the difference."""
    end = start + timedelta(hours=1)
    cuts = [start, *(c for c in source.changes() if start < c < end), end]
    if len(cuts) == 2:
        return source.at(start + (end - start) / 2)
    pieces = [(source.at(a + (b - a) / 2), (b - a) / (end - start)) for a, b in pairwise(cuts)]
    return average(pieces)


def average(weighted: Sequence[tuple[Effects, float]]) -> Effects:
    """Effects held for shares of a span (the shares add up to 1), as one: what each adjusts
    on a constant base, on average. Exact for factors and additions; an override is averaged
    by its weight, exact when the factor and addition under it do not change."""
    streams = {key for effects, _ in weighted for key in effects.streams}
    rates = {key for effects, _ in weighted for key in effects.rates}
    stream_sources: dict[int, int] = {}
    rate_sources: dict[str, int] = {}
    for effects, _ in weighted:
        stream_sources.update(effects.stream_sources)
        rate_sources.update(effects.rate_sources)
    return Effects(
        {key: _mean_adjust([(e.stream(key), share) for e, share in weighted]) for key in streams},
        {key: _mean_adjust([(e.rate(key), share) for e, share in weighted]) for key in rates},
        stream_sources,
        rate_sources,
    )


def _mean_adjust(weighted: Sequence[tuple[Adjust, float]]) -> Adjust:
    """(A stream decoupled from its causes for half the span or more counts as decoupled for
    all of it: the hourly flow has no share of a break.)"""
    factor = sum(adjust.factor * share for adjust, share in weighted)
    add = sum(adjust.add * share for adjust, share in weighted)
    decoupled = sum(share for adjust, share in weighted if adjust.decoupled) >= 0.5
    overriding = [(a, share) for a, share in weighted if a.override is not None and a.weight]
    weight = sum(a.weight * share for a, share in overriding)
    if not weight:
        return Adjust(factor, add, decoupled=decoupled)
    override = sum(a.override * a.weight * share for a, share in overriding) / weight
    return Adjust(factor, add, override, weight, decoupled=decoupled)
