"""What an external event does to the streams: which multipliers, over which window, in what
shape. Shared by the baseline (hourly) and the live generator (at any moment)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from app.domain.calendar import HOUR, from_iso
from app.domain.catalog import EventTemplate
from app.domain.effects import Adjust, Effects, EffectsSource
from app.domain.model import MarketModel

RAMP_SHARE = 0.15
"""An impact ramps in over the first and out over the last 15% of its window (>= 1 hour)."""


def impact_window(template: EventTemplate, occurred_at: datetime) -> tuple[datetime, datetime]:
    """When the event's effect is felt: from its time plus the delay, for its duration."""
    start = occurred_at + template.expected_impact.delay
    return start, start + template.expected_impact.duration


def impact_factors(model: MarketModel, template: EventTemplate) -> dict[int, float]:
    """The multiplier an event applies to each stream it names, net of what flows in.

    A stream downstream of another named stream (app opens -> searches) already moves with
    it through the rules, so it only gets the rest of its expected change: naming a whole
    funnel "high" doubles each step once, not 2 x 2 x 2."""
    named = {
        model.index[i.stream]: model.catalog.magnitudes.factor(i.magnitude, i.direction)
        for i in template.expected_impact.streams
    }
    factors = {}
    for stream, multiplier in named.items():
        upstream = [
            named[other]
            for other in model.ancestors[stream]
            if other in named and (named[other] > 1) == (multiplier > 1)
        ]
        if upstream:
            strongest = max(upstream, key=lambda f: abs(np.log(f)))
            rest = multiplier / strongest
            multiplier = rest if (rest > 1) == (multiplier > 1) else 1.0
        factors[stream] = multiplier
    return factors


def trapezoid(length: int) -> np.ndarray:
    """1 in the middle, rising and falling linearly over the first and last 15% (>= 1 hour)."""
    ramp = max(1, round(length * RAMP_SHARE))
    steps = np.arange(length, dtype=float)
    rise = np.minimum((steps + 1) / (ramp + 1), 1.0)
    fall = np.minimum((length - steps) / (ramp + 1), 1.0)
    return np.minimum(rise, fall)


def shape_at(start: datetime, end: datetime, moment: datetime) -> float:
    """The impact's weight at `moment`: the continuous form of `trapezoid`."""
    if not start <= moment < end:
        return 0.0
    hours = (end - start) / HOUR
    ramp = max(1, round(hours * RAMP_SHARE)) + 1
    since, left = (moment - start) / HOUR + 1, (end - moment) / HOUR
    return float(min(1.0, since / ramp, left / ramp))


@dataclass(frozen=True)
class Impact:
    """One causal event's multipliers on its streams over its window; `source` is its log
    position (None for a baseline event, which is not in the log)."""

    template: str
    start: datetime
    end: datetime
    factors: dict[int, float]
    source: int | None = None


def logged_impacts(model: MarketModel, events: Iterable[Mapping[str, Any]]) -> list[Impact]:
    """The impacts of recorded causal external events (in the ExternalEvent JSON shape):
    baseline events whose window runs past the baseline's end go on acting live."""
    impacts = []
    for event in events:
        if not event.get("actualImpact"):
            continue
        template = model.catalog.template(event["template"])
        window = event["impactWindow"]
        impacts.append(
            Impact(
                template.id,
                from_iso(window["start"]),
                from_iso(window["end"]),
                impact_factors(model, template),
            )
        )
    return impacts


class ImpactEffects(EffectsSource):
    """The effects of the causal external events in force at a moment. Events of one template
    overlapping on a stream do not compound: the strongest holds (as in the baseline)."""

    def __init__(self, impacts: Iterable[Impact]) -> None:
        self.impacts = sorted(impacts, key=lambda i: i.start)

    def at(self, moment: datetime) -> Effects:
        strongest: dict[tuple[str, int], tuple[float, int | None]] = {}
        for impact in self.impacts:
            if impact.start > moment:
                break
            weight = shape_at(impact.start, impact.end, moment)
            if weight <= 0:
                continue
            for stream, multiplier in impact.factors.items():
                value = 1 + (multiplier - 1) * weight
                key = (impact.template, stream)
                if abs(np.log(value)) > abs(np.log(strongest.get(key, (1.0, None))[0])):
                    strongest[key] = (value, impact.source)
        factors: dict[int, float] = defaultdict(lambda: 1.0)
        sources: dict[int, int] = {}
        for (_, stream), (value, source) in strongest.items():
            factors[stream] *= value
            if source is not None:
                sources[stream] = source
        adjusts = {stream: Adjust(factor=value) for stream, value in factors.items()}
        return Effects(streams=adjusts, stream_sources=sources)


class AnomalyEffects(EffectsSource):
    """The baseline's natural anomalies (stream, start, end, factor) as effects."""

    def __init__(self, model: MarketModel, anomalies: Iterable[Mapping[str, Any]]) -> None:
        self.model = model
        self.anomalies = [
            (model.index[a["stream"]], from_iso(a["start"]), from_iso(a["end"]), float(a["factor"]))
            for a in anomalies
        ]

    def at(self, moment: datetime) -> Effects:
        streams = {
            stream: Adjust(factor=factor)
            for stream, start, end, factor in self.anomalies
            if start <= moment < end
        }
        return Effects(streams=streams)
