"""Root streams' arrivals: a Poisson process at the hour's expected rate, times the effects in
force and the couplings, constant over each stretch; times drawn uniformly in it."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from app.domain.calendar import HOUR
from app.domain.fields import DataMaker
from app.domain.generation.in_force import InForce
from app.domain.generation.records import Draft
from app.domain.generation.records import moment as moment_of
from app.domain.generation.records import seconds as seconds_of
from app.domain.generation.state import LiveState
from app.domain.model import Root


class RootArrivals:
    """Draws the events of root streams (app opens, searches, signups, ...)."""

    def __init__(
        self, seed: int, state: LiveState, in_force: InForce, makers: dict[int, DataMaker]
    ) -> None:
        self.seed = seed
        self.state = state
        self.in_force = in_force
        self.makers = makers

    def decoupled(self, stream: int, start: datetime, end: datetime) -> list[Draft]:
        """A caused stream's own arrivals in [start, end) while it is decoupled from its
        causes (a correlation break): a Poisson process at the plain expectation of each
        hour, whatever its causes do; data drawn afresh (there is no cause to inherit from)."""
        rng = np.random.default_rng([self.seed, 8, stream, int(seconds_of(start) * 1000)])
        times: list[float] = []
        for segment_start, segment_end in self.in_force.segments(start, end):
            if not self.in_force.at(segment_start).stream(stream).decoupled:
                continue
            rate = self.state.timeline.expected[stream, self.state.timeline.index(segment_start)]
            count = int(rng.poisson(float(rate) * ((segment_end - segment_start) / HOUR)))
            low, high = seconds_of(segment_start), seconds_of(segment_end)
            times.extend(rng.uniform(low, high, count).tolist())
        if not times:
            return []
        times.sort()
        data = self.makers[stream].make(rng, len(times))
        moments = list(map(moment_of, times))
        sources = self.in_force.sources(stream, moments)
        return [
            Draft(stream, moment, d, correlation_id=source)
            for moment, d, source in zip(moments, data, sources, strict=True)
        ]

    def events(self, root: Root, start: datetime, end: datetime) -> list[Draft]:
        """The root's arrivals in [start, end): a Poisson process at its rate in each
        stretch, with their data."""
        rng = np.random.default_rng([self.seed, 1, root.stream, int(seconds_of(start) * 1000)])
        times: list[float] = []
        for segment_start, segment_end in self.in_force.segments(start, end):
            h = self.state.timeline.index(segment_start)
            rate = self.in_force.stream_value(
                root.stream, segment_start, self.state.timeline.expected[root.stream, h]
            )
            count = int(rng.poisson(float(rate) * ((segment_end - segment_start) / HOUR)))
            low, high = seconds_of(segment_start), seconds_of(segment_end)
            times.extend(rng.uniform(low, high, count).tolist())
        times.sort()
        data = self.makers[root.stream].make(rng, len(times))
        moments = list(map(moment_of, times))
        sources = self.in_force.sources(root.stream, moments)
        return [
            Draft(root.stream, moment, d, correlation_id=source)
            for moment, d, source in zip(moments, data, sources, strict=True)
        ]
