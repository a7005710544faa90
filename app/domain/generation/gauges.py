"""Gauges: samples on a fixed grid (the group's mean interval, each stream's phase a hash of its
name), around the hour's level, following their load, with noise keyed by the sample's index.

A gauge's `noise` is the spread of its hourly value (the mean of its samples), as the baseline
draws it and the ground truth's sigma reads it. Samples carry it as a drift that moves smoothly
from one hour to the next (drawn per hour, keyed by the hour, interpolated between the hours'
middles) plus a jitter of their own of the same size. With the jitter alone, an hour's mean of
20 to 650 samples hardly moved: at 3,600x the live `system.api.latency` changed by 2% from
one hour to the next where the baseline's hours before it changed by 11%."""

from __future__ import annotations

import zlib
from datetime import datetime

import numpy as np

from app.domain.generation.in_force import InForce
from app.domain.generation.records import Draft
from app.domain.generation.records import moment as moment_of
from app.domain.generation.records import seconds as seconds_of
from app.domain.generation.state import LiveState
from app.domain.model import Gauge, MarketModel
from app.domain.randomness import normal_quantile, uniforms

_DRIFT_KEY = 8
_DRIFT_SCALE = 1 / np.sqrt(2 * (1 / 8) ** 2 + (3 / 4) ** 2)


def hourly_drift(seed: int, stream: int, seconds: np.ndarray) -> np.ndarray:
    """The hour's part of a gauge's noise at these POSIX seconds, in units of its `noise`: one
    standard normal draw per hour (keyed by the hour since 1970), interpolated between the
    hours' middles, and scaled so that an hour's mean of it has a standard deviation of one
    (that mean is 1/8, 3/4 and 1/8 of the draws of the hour before, its own and the one after:
    a deviation of 0.77 before scaling)."""
    position = np.asarray(seconds, dtype=float) / 3600.0 - 0.5
    hour = np.floor(position).astype(np.int64)
    weight = position - hour
    here = normal_quantile(uniforms(seed, _DRIFT_KEY, stream, hour))
    after = normal_quantile(uniforms(seed, _DRIFT_KEY, stream, hour + 1))
    return _DRIFT_SCALE * ((1 - weight) * here + weight * after)


def sample_interval(model: MarketModel, stream: int) -> float:
    """Seconds between a gauge's samples: the middle of its cadence group's interval."""
    cadence = model.catalog.cadences[model.catalog.stream(model.names[stream]).cadence]
    return (cadence.interval.min + cadence.interval.max).total_seconds() / 2


class GaugeSamples:
    """Draws the samples of gauge streams (queue lengths, latencies, ...)."""

    def __init__(self, model: MarketModel, seed: int, state: LiveState, in_force: InForce) -> None:
        self.model = model
        self.seed = seed
        self.state = state
        self.in_force = in_force

    def samples(self, gauge: Gauge, start: datetime, end: datetime) -> list[Draft]:
        """The gauge's samples on its grid in [start, end)."""
        interval, offset = self._sample_grid(gauge.stream)
        first = int(np.ceil((seconds_of(start) - offset) / interval))
        last = int(np.ceil((seconds_of(end) - offset) / interval))
        if last <= first:
            return []
        ks = np.arange(first, last)
        seconds = offset + ks * interval
        hours = ((seconds - seconds_of(self.state.timeline.origin)) // 3600).astype(int)
        level = self.state.timeline.expected[gauge.stream, hours].copy()
        slices = self.in_force.stretch_starts(seconds.astype(float))
        sources = {}
        spread = np.ones(ks.size)
        held = np.zeros(ks.size, dtype=bool)
        absent = np.zeros(ks.size, dtype=bool)
        for key in np.unique(slices):
            at = moment_of(float(key))
            inside = slices == key
            level[inside] = self.in_force.stream_value(gauge.stream, at, level[inside])
            if gauge.load is not None:
                ratio = self._load_ratio(gauge.load, at, gauge.load_hours)
                level[inside] *= ratio**gauge.elasticity
            sources[key] = self.in_force.source(gauge.stream, at)
            adjust = self.in_force.at(at).stream(gauge.stream)
            spread[inside], held[inside] = adjust.spread, adjust.held
            absent[inside] = adjust.absent
        jitter = normal_quantile(uniforms(self.seed, 2, gauge.stream, ks)) * spread
        noise = hourly_drift(self.seed, gauge.stream, seconds) + jitter
        values = np.round(np.clip(level * (1 + gauge.noise * noise), gauge.low, gauge.high), 4)
        if held.any():
            values = self._held(gauge.stream, values, held, level)
        return [
            Draft(gauge.stream, moment_of(t), {}, value=float(v), correlation_id=sources[k])
            for t, v, k, gap in zip(seconds, values, slices, absent, strict=True)
            if not gap
        ]

    def _held(
        self, stream: int, values: np.ndarray, held: np.ndarray, level: np.ndarray
    ) -> np.ndarray:
        """A flatline: each held sample repeats the one before it (before the first sample of
        this batch, the gauge's latest; with none, its level)."""
        values = values.copy()
        for i in np.flatnonzero(held):
            if i > 0:
                values[i] = values[i - 1]
            else:
                values[i] = self.state.latest_sample.get(stream, round(float(level[0]), 4))
        return values

    def _sample_grid(self, stream: int) -> tuple[float, float]:
        """Seconds between samples of a gauge and its phase (a stable hash of its name)."""
        cadence = self.model.catalog.cadences[self.state.group_of[stream]]
        interval = sample_interval(self.model, stream)
        spread = min(cadence.stagger.max_offset.total_seconds(), interval)
        name = self.model.names[stream].encode()
        return interval, (zlib.crc32(name) % 10_000) / 10_000 * spread

    def _load_ratio(self, load: int, at: datetime, hours: int = 1) -> float:
        """A gauge's load against its expectation: the load stream's events of the `hours`
        before `at` (as far as its group has generated them, scaled to the whole span)
        against the events expected over that span, or the latest sample of a gauge load
        against its hour's level. Unknown (the load's group is far behind): as expected."""
        if not self.model.is_entity(load):
            expected = self.state.timeline.expected[load, self.state.timeline.index(at)]
            return (
                self.state.latest_sample.get(load, expected) / expected if expected > 1e-9 else 1.0
            )
        moment = seconds_of(at)
        span = hours * 3600
        expected = self._expected_events(load, moment - span, moment)
        if expected <= 1e-9:
            return 1.0
        known = min(moment, seconds_of(self.state.frontier_of(load)))
        covered = known - (moment - span)
        if covered < 600:
            return 1.0
        return self._trailing(load, moment - span, known) * span / covered / expected

    def _expected_events(self, stream: int, start: float, end: float) -> float:
        """The events the timeline expects of `stream` between two POSIX seconds (its hourly
        expectations, in proportion to the part of each hour the span covers)."""
        timeline = self.state.timeline
        origin = seconds_of(timeline.origin)
        total, moment = 0.0, start
        while moment < end:
            hour = int((moment - origin) // 3600)
            until = min(end, origin + (hour + 1) * 3600)
            total += float(timeline.expected[stream, hour]) * (until - moment) / 3600
            moment = until
        return total

    def _trailing(self, stream: int, after: float, until: float) -> float:
        times = self.state.recent[stream]
        return float(
            np.searchsorted(times, until, "right") - np.searchsorted(times, after, "right")
        )
