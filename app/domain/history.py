"""History from memory: the stored baseline, normalized once at start, joined with the live
hours of the log's rollup. Pure: the store hands in what it read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from app.domain.baseline import BASELINE_HOURS, BUCKET_HOURS
from app.domain.calendar import HOUR, day_type, hour_grid, hour_of_day
from app.domain.events import Flag
from app.domain.ids import anomaly_id
from app.domain.normalize import flags_array, normalize_array
from app.domain.timerange import iso, utc

RESOLUTIONS = {"1h": 1, "12h": BUCKET_HOURS}


@dataclass(frozen=True)
class Slots:
    """Expected value and spread per stream, day type and block: shape (streams, 2, blocks)."""

    expected: np.ndarray
    spread: np.ndarray

    @classmethod
    def from_statistics(
        cls, statistics: Mapping[str, Mapping[str, Any]], streams: Sequence[str], key: str
    ) -> Slots:
        def table(field: str) -> np.ndarray:
            return np.array([
                [statistics[s]["slots"][key][day][field] for day in ("weekday", "weekend")]
                for s in streams
            ])  # fmt: skip

        return cls(table("expected"), table("spread"))

    def lookup(self, stream: int, grid: np.ndarray, hours_per_block: int):
        days = day_type(grid)
        blocks = hour_of_day(grid) // hours_per_block
        return self.expected[stream, days, blocks], self.spread[stream, days, blocks]


class BaselineView:
    """The baseline ready to serve: values, normalized scores and flags, by stream and time."""

    def __init__(
        self,
        streams: Sequence[str],
        start: datetime,
        values: np.ndarray,
        buckets: np.ndarray,
        statistics: Mapping[str, Mapping[str, Any]],
        events: Iterable[Mapping[str, Any]],
        aggregation: Mapping[str, str],
        carry_over: Mapping[str, Sequence[Sequence[int]]] | None = None,
        anomalies: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        self.streams = tuple(streams)
        self.index = {name: i for i, name in enumerate(self.streams)}
        self.start = utc(start)
        self.end = self.start + BASELINE_HOURS * HOUR
        self.values = values
        self.carry_over = carry_over or {}
        self.anomalies = [
            {**anomaly, "id": anomaly.get("id") or anomaly_id(number)}
            for number, anomaly in enumerate(anomalies)
        ]
        """With their ids (a baseline seeded before anomalies had ids gets them here, in the
        same order)."""
        self.statistics = statistics
        self.aggregation = aggregation
        self.slots = {
            1: Slots.from_statistics(statistics, self.streams, "hourly"),
            BUCKET_HOURS: Slots.from_statistics(statistics, self.streams, "twelveHour"),
        }
        self.events = sorted(events, key=lambda e: e["timestamp"])
        self._points = {
            1: self._precompute(values, 1),
            BUCKET_HOURS: self._precompute(buckets, BUCKET_HOURS),
        }

    def _precompute(self, values: np.ndarray, hours: int) -> list[list[dict[str, Any]]]:
        grid = hour_grid(self.start, values.shape[1] * hours)[::hours]
        stamps = [iso(self.start + i * hours * HOUR) for i in range(values.shape[1])]
        rows = []
        for s in range(len(self.streams)):
            expected, spread = self.slots[hours].lookup(s, grid, hours)
            scores = normalize_array(values[s], expected, spread)
            flags = flags_array(values[s], expected, spread)
            rows.append([
                {"timestamp": t, "value": _number(v), "normalized": float(n), "flag": f}
                for t, v, n, f in zip(stamps, values[s], scores, flags, strict=True)
            ])  # fmt: skip
        return rows

    def baseline_points(
        self, stream: str, start: datetime, end: datetime, hours: int
    ) -> list[dict[str, Any]]:
        """The stored points of one stream with `start <= timestamp < end` (aligned)."""
        first = max(0, int((start - self.start) / (hours * HOUR)))
        last = min(BASELINE_HOURS // hours, int(np.ceil((end - self.start) / (hours * HOUR))))
        return self._points[hours][self.index[stream]][first:last] if last > first else []

    def normalize(
        self, stream: str, moments: Sequence[datetime], values: np.ndarray, hours: int
    ) -> tuple[np.ndarray, list[Flag]]:
        """Scores and flags of live values against the stream's baseline slots."""
        grid = np.array([np.datetime64(utc(m).replace(tzinfo=None), "h") for m in moments])
        expected, spread = self.slots[hours].lookup(self.index[stream], grid, hours)
        return normalize_array(values, expected, spread), flags_array(values, expected, spread)

    def normalize_grid(
        self, stream: str, grid: np.ndarray, values: np.ndarray, hours: int
    ) -> tuple[np.ndarray, list[Flag]]:
        """As `normalize`, for moments given as a numpy datetime64[h] grid."""
        expected, spread = self.slots[hours].lookup(self.index[stream], grid, hours)
        return normalize_array(values, expected, spread), flags_array(values, expected, spread)

    def normalize_seconds(
        self, stream: str, seconds: np.ndarray, values: np.ndarray
    ) -> tuple[np.ndarray, list[Flag]]:
        """As `normalize` at hourly resolution, for moments given as Unix seconds."""
        grid = (seconds // 3600).astype(np.int64).astype("datetime64[h]")
        expected, spread = self.slots[1].lookup(self.index[stream], grid, 1)
        return normalize_array(values, expected, spread), flags_array(values, expected, spread)

    def slot_spread(self, stream: str, moment: datetime) -> float:
        """The stream's standard deviation at `moment`'s hour of the day and type of day over
        the baseline month (what normalization scores against: one is 20 points)."""
        grid = np.array([np.datetime64(utc(moment).replace(tzinfo=None), "h")])
        return float(self.slots[1].lookup(self.index[stream], grid, 1)[1][0])

    def events_between(self, start: datetime, end: datetime) -> list[Mapping[str, Any]]:
        low, high = iso(start), iso(end)
        return [e for e in self.events if low <= e["timestamp"] < high]


@dataclass(frozen=True)
class LiveHour:
    stream: str
    hour: datetime
    events: int
    mean_value: float | None


def with_the_resets_hour(
    hours: Sequence[LiveHour], stream: str, reset: datetime, last_restored: float
) -> list[LiveHour]:
    """A count stream's live hours with the part of the reset's hour before the reset: the
    epoch's events start at the reset (12:35), and the restored run's last hour, which ends
    there, gives the minutes before it in proportion (35 of its 60), so that the hour is
    whole rather than a dip of two thirds."""
    hour = reset.replace(minute=0, second=0, microsecond=0)
    before = round(float(last_restored) * ((reset - hour) / HOUR))
    if before <= 0:
        return list(hours)
    found = [h for h in hours if h.hour == hour]
    others = [h for h in hours if h.hour != hour]
    events = found[0].events if found else 0
    mean = found[0].mean_value if found else None
    return sorted([*others, LiveHour(stream, hour, events + before, mean)], key=lambda h: h.hour)


def live_points(
    view: BaselineView,
    stream: str,
    entity: bool,
    hours: Sequence[LiveHour],
    start: datetime,
    end: datetime,
    frontier: datetime | None,
    resolution_hours: int,
    now: datetime,
    settled: datetime | None = None,
) -> list[dict[str, Any]]:
    """Points of the live part, from the rollup's hours: counts for entity streams (an hour the
    generator went through without an event counts 0), the mean value for samples, folded into
    12-hour buckets when asked. The point that holds `now` is marked partial, and so is a
    point that ends after `settled`: where a cadence group that feeds the stream has not
    generated yet, its effects may still come in (a confirmation from the medium group
    schedules a session of the high group, dated back)."""
    if frontier is None or end <= start:
        return []
    by_hour = {h.hour: h for h in hours}
    step = resolution_hours * HOUR
    moments, values = [], []
    moment = start
    while moment < end and moment <= frontier:
        inside = [by_hour.get(moment + i * HOUR) for i in range(resolution_hours)]
        value = _fold(inside, entity, view.aggregation[stream])
        if value is not None:
            moments.append(moment)
            values.append(value)
        moment += step
    if not moments:
        return []
    covered = [_covered(m, step, now) for m in moments]
    pace = [v / c if entity and 0 < c < 1 else v for v, c in zip(values, covered, strict=True)]
    scores, flags = view.normalize(stream, moments, np.array(pace), resolution_hours)
    points = []
    for m, v, s, f, c in zip(moments, values, scores, flags, covered, strict=True):
        point = {"timestamp": iso(m), "value": _number(v), "normalized": float(s), "flag": f}
        if c < 1 or (settled is not None and m + step > settled):
            point["partial"] = True
            if c < MIN_SCORED_SHARE:
                point |= {"normalized": None, "flag": None}
        points.append(point)
    return points


def live_reach(
    last_hour: datetime | None, group_until: datetime | None, now: datetime
) -> tuple[datetime | None, datetime]:
    """How far a stream's live points go: up to the hour where every cadence group that feeds
    it has generated (`group_until`, the earliest of their frontiers), and the running point
    covered up to there. A medium-cadence stream is generated every few wall minutes, a
    low-cadence one every half hour or so: counting the hours the high group has reached but
    its own has not as zeros (and the running hour's pace up to `now`) read, at a fast clock,
    as hours of silence. So did the hours its own group has reached but a group that feeds it
    has not (booking requests, caused by high-cadence searches, at 3,600x)."""
    if last_hour is None or group_until is None:
        return None, now
    group_hour = (group_until - timedelta(microseconds=1)).replace(
        minute=0, second=0, microsecond=0
    )
    return min(last_hour, group_hour), min(now, group_until)


MIN_SCORED_SHARE = 0.25
"""A running point is scored at the pace of its covered part (a count over 20 minutes of an
hour counts three times), once that part is at least this share: before, it says too little."""


def _covered(moment: datetime, step: timedelta, until: datetime) -> float:
    """The share of the point [moment, moment + step) that simulated time has gone through."""
    return min(1.0, max(0.0, (until - moment) / step))


def _fold(hours: Sequence[LiveHour | None], entity: bool, aggregation: str) -> float | None:
    if entity:
        return float(sum(h.events for h in hours if h is not None))
    means = [h.mean_value for h in hours if h is not None and h.mean_value is not None]
    if not means:
        return None
    return float(np.mean(means)) if aggregation == "mean" else float(np.sum(means))


def align(moment: datetime, hours: int, up: bool = False) -> datetime:
    """`moment` moved to the start (or, with `up`, the end) of its `hours`-long block."""
    moment = utc(moment)
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    floor = midnight + timedelta(hours=((moment - midnight) // HOUR // hours) * hours)
    return floor + hours * HOUR if up and floor < moment else floor


def _number(value: float) -> float | int:
    value = float(value)
    return int(value) if value.is_integer() else round(value, 4)


def ratio_for_sigma(sigma: float, spread: float, expected: float) -> float | None:
    """The multiplier that moves an hour expected at `expected` by `sigma` deviations of
    `spread`; None when nothing is expected then (no multiplier moves nothing)."""
    if expected <= 0:
        return None
    return 1.0 + sigma * spread / expected
