"""External events: their JSON shape from a template, what they do to the streams (which
multipliers, over which window, in what shape), and how far the data moved in their window.
Shared by the baseline (hourly), the live generator (at any moment) and the impact the API
reports."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from app.domain.calendar import HOUR
from app.domain.catalog import Catalog, EventTemplate, ExpectedImpact, format_duration
from app.domain.effects import Adjust, Effects, EffectsSource
from app.domain.model import MarketModel
from app.domain.timerange import from_iso


def template_json(template: EventTemplate, catalog: Catalog) -> dict[str, Any]:
    """The ExternalEvent fields a template gives: type, title, severity, expected impact."""
    return {
        "type": template.type,
        "template": template.id,
        "title": template.title,
        "description": template.description,
        "severity": template.severity,
        "icon": template.icon,
        "expectedImpact": expected_impact_json(template.expected_impact, catalog),
    }


def expected_impact_json(impact: ExpectedImpact, catalog: Catalog) -> dict[str, Any]:
    """An ExternalEvent's `expectedImpact` (a template's, or a custom event's): the streams,
    their overall direction (`mixed` when they differ) and largest magnitude, the timing, and
    each stream's multiplier."""
    directions = {i.direction for i in impact.streams}
    magnitude_order = ("low", "medium", "high")
    return {
        "streams": [i.stream for i in impact.streams],
        "direction": directions.pop() if len(directions) == 1 else "mixed",
        "magnitude": max((i.magnitude for i in impact.streams), key=magnitude_order.index),
        "duration": format_duration(impact.duration),
        "delay": format_duration(impact.delay),
        "details": [
            {
                "stream": i.stream,
                "direction": i.direction,
                "magnitude": i.magnitude,
                "factor": round(catalog.magnitudes.factor(i.magnitude, i.direction), 4),
            }
            for i in impact.streams
        ],
    }


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


def shape_at(start: datetime, end: datetime, moment: datetime) -> float:
    """The impact's weight at `moment`: 1 in the middle, rising and falling linearly over the
    first and last 15% of the window (at least an hour each)."""
    if not start <= moment < end:
        return 0.0
    hours = (end - start) / HOUR
    ramp = max(1, round(hours * RAMP_SHARE)) + 1
    since, left = (moment - start) / HOUR + 1, (end - moment) / HOUR
    return float(min(1.0, since / ramp, left / ramp))


SLICE_STARTS = np.arange(0, 60, 5) / 60
"""Where in each hour the live generator takes effects as constant (its 5-minute slices)."""


def hourly_shape(start: datetime, end: datetime, grid_start: datetime, hours: int) -> np.ndarray:
    """The impact's weight in each hour of a grid: `shape_at` averaged over the hour's
    5-minute slices, as the live generator meets it. The baseline and the truth use it, so
    an event acts the same in the past, in the live data and in its counterfactual."""
    shape = np.zeros(hours)
    first = max(0, int(np.floor((start - grid_start) / HOUR)))
    last = min(hours, int(np.ceil((end - grid_start) / HOUR)))
    if last <= first:
        return shape
    length = (end - start) / HOUR
    ramp = max(1, round(length * RAMP_SHARE)) + 1
    moments = np.arange(first, last)[:, None] + SLICE_STARTS[None, :]
    since = moments - (start - grid_start) / HOUR
    left = length - since
    weight = np.minimum(1.0, np.minimum((since + 1) / ramp, left / ramp))
    weight[(since < 0) | (left <= 0)] = 0.0
    shape[first:last] = weight.mean(axis=1)
    return shape


@dataclass(frozen=True)
class Impact:
    """One causal event's multipliers on its streams over its window; `source` is its log
    position (None for a baseline event, which is not in the log)."""

    template: str
    start: datetime
    end: datetime
    factors: dict[int, float]
    source: int | None = None


def event_impact(model: MarketModel, event: Mapping[str, Any], source: int | None = None) -> Impact:
    """What a recorded external event (in the ExternalEvent JSON shape) does if it is causal:
    its template's multipliers, or a custom event's own, over its impact window. `source` is
    its log position (it keys a custom event, which has no template)."""
    window = event["impactWindow"]
    template = event.get("template")
    if template and template in model.catalog.templates:
        factors = impact_factors(model, model.catalog.template(template))
    else:
        magnitudes = model.catalog.magnitudes
        factors = {
            model.index[d["stream"]]: magnitudes.factor(d["magnitude"], d["direction"])
            for d in event["expectedImpact"].get("details", [])
        }
    return Impact(
        str(template or f"custom-{source}"),
        from_iso(window["start"]),
        from_iso(window["end"]),
        factors,
        source,
    )


def logged_impacts(model: MarketModel, events: Iterable[Mapping[str, Any]]) -> list[Impact]:
    """The impacts of recorded causal external events (in the ExternalEvent JSON shape):
    baseline events whose window runs past the baseline's end go on acting live."""
    return [event_impact(model, event) for event in events if event.get("actualImpact")]


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


SCORE_FLOOR = 2.0
SCORE_SPAN = 8.0


@dataclass(frozen=True)
class MeasuredEffect:
    """How far a stream's observed hours stand from what was expected: `effect` is the
    relative change, `z_score` how many standard errors that is, over `hours` hours."""

    effect: float
    z_score: float
    hours: int

    @property
    def score(self) -> float:
        """How strongly the stream moved, 0 to 1: 0 within `SCORE_FLOOR` standard errors
        (noise), 1 at `SCORE_FLOOR + SCORE_SPAN` and beyond."""
        return float(np.clip((abs(self.z_score) - SCORE_FLOOR) / SCORE_SPAN, 0.0, 1.0))

    def json(self) -> dict[str, float | int]:
        """`effect` to 4 decimals, `zScore` to 2 (never -0.0), `hours`."""
        return {
            "effect": round(self.effect, 4) + 0.0,
            "zScore": round(self.z_score, 2) + 0.0,
            "hours": self.hours,
        }


def measured_effect(
    model: MarketModel, stream: int, observed: np.ndarray, expected: np.ndarray
) -> MeasuredEffect:
    """The effect of `observed` hourly values of a stream against `expected` ones (the
    expectation without the event): the baseline's `measuredEffect` and the API's impact.

    A count stream's hours are Poisson draws, so a window's total has its expectation as
    variance: the sums are compared, with a standard error of sqrt(expected) (at least 1). A
    gauge's values carry multiplicative noise of standard deviation `noise` around the
    level, so the means are compared and the relative change is divided by noise /
    sqrt(hours). (A baseline hour is one draw; a live hour averages several samples, so
    there the z-score is on the cautious side.) An empty window has no effect."""
    if observed.size == 0:
        return MeasuredEffect(0.0, 0.0, 0)
    if model.is_entity(stream):
        total_observed, total_expected = observed.sum(), expected.sum()
        effect = total_observed / total_expected - 1 if total_expected > 0 else 0.0
        z = (total_observed - total_expected) / np.sqrt(max(total_expected, 1.0))
    else:
        gauge = next(g for g in model.gauges if g.stream == stream)
        effect = observed.mean() / expected.mean() - 1 if expected.mean() else 0.0
        z = effect / (max(gauge.noise, 1e-6) / np.sqrt(observed.size))
    return MeasuredEffect(float(effect), float(z), int(observed.size))
