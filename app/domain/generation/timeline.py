"""The hourly timeline the live generator reads its expectations and couplings from."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from app.domain.calendar import HOUR
from app.domain.capacity import daily_around
from app.domain.history import BaselineView
from app.domain.hourly import HourlyRun, simulate
from app.domain.model import MarketModel

SPAN_BEHIND = timedelta(days=30)
SPAN_AHEAD = timedelta(days=3)


class Timeline:
    """Hourly values per stream over a moving span: what happened live where the generator has
    been, the stored baseline before it, and the expectation elsewhere. Couplings and gauge
    loads compare the first two with the third."""

    def __init__(self, model: MarketModel, baseline: BaselineView) -> None:
        self.model = model
        self.baseline = baseline
        self.origin: datetime | None = None
        self.expected: np.ndarray = np.zeros((model.stream_count, 0))
        self.live_sum = np.zeros_like(self.expected)
        self.live_count = np.zeros_like(self.expected)
        self.live_known = np.zeros_like(self.expected, dtype=bool)
        self._expected_run: HourlyRun | None = None

    def cover(self, moment: datetime) -> None:
        """Make sure the span holds `moment` (recomputing the expectation when it moves)."""
        if self.origin is not None and moment < self.origin + self.hours * HOUR - SPAN_AHEAD / 3:
            return
        origin = (moment - SPAN_BEHIND).replace(minute=0, second=0, microsecond=0)
        hours = int((SPAN_BEHIND + SPAN_AHEAD) / HOUR)
        run = simulate(self.model, origin, hours)
        shift = 0 if self.origin is None else int((origin - self.origin) / HOUR)
        old = (self.live_sum, self.live_count, self.live_known)
        self.origin, self.expected, self._expected_run = origin, run.values, run
        self.live_sum = np.zeros_like(run.values)
        self.live_count = np.zeros_like(run.values)
        self.live_known = np.zeros_like(run.values, dtype=bool)
        keep = old[0].shape[1] - shift
        if shift >= 0 and keep > 0:
            self.live_sum[:, :keep] = old[0][:, shift:]
            self.live_count[:, :keep] = old[1][:, shift:]
            self.live_known[:, :keep] = old[2][:, shift:]

    @property
    def hours(self) -> int:
        return self.expected.shape[1]

    @property
    def plain(self) -> HourlyRun:
        """The span's plain expectation as a run (what couplings compare against)."""
        assert self._expected_run is not None
        return self._expected_run

    def index(self, moment: datetime) -> int:
        assert self.origin is not None
        return int((moment - self.origin) // HOUR)

    def add_many(self, stream: int, seconds: np.ndarray, values: np.ndarray | None) -> None:
        """Count a stream's events (or add its samples' values) into their hours."""
        hours = ((seconds - self.origin.timestamp()) // 3600).astype(int)
        inside = (hours >= 0) & (hours < self.hours)
        hours = hours[inside]
        self.live_known[stream, hours] = True
        np.add.at(self.live_count[stream], hours, 1)
        np.add.at(self.live_sum[stream], hours, 1.0 if values is None else values[inside])

    def realized(self, stream: int, first: int, last: int, complete: int | None = None):
        """Values of hours [first, last): live, else baseline, else expected. Live hours from
        `complete` on (not yet wholly generated) count as expected."""
        values = self.expected[stream, first:last].copy()
        base = self.baseline
        offsets = np.arange(first, last) + int((self.origin - base.start) / HOUR)
        in_base = (offsets >= 0) & (offsets < base.values.shape[1])
        values[in_base] = base.values[base.index[self.model.names[stream]], offsets[in_base]]
        known = self.live_known[stream, first:last].copy()
        if complete is not None:
            known[max(complete - first, 0) :] = False
        if self.model.is_entity(stream):
            values[known] = self.live_sum[stream, first:last][known]
        else:
            counts = np.maximum(self.live_count[stream, first:last], 1)
            values[known] = (self.live_sum[stream, first:last] / counts)[known]
        return values

    def day_around(self, stream: int, hour: int) -> float:
        """The expectation over the day around `hour` (`app.domain.capacity.daily_around`)."""
        return float(daily_around(self.expected[stream])[hour])

    def ratio(self, stream: int, hour: int, window: int, complete: int | None = None) -> float:
        """Realized over expected across the `window` hours before `hour` (hours from
        `complete` on, not wholly generated yet, count as expected)."""
        first = max(0, hour - window)
        if first >= hour:
            return 1.0
        expected = self.expected[stream, first:hour].sum()
        if expected <= 1e-9:
            return 1.0
        return float(self.realized(stream, first, hour, complete).sum() / expected)
