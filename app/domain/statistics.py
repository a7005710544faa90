"""Baseline statistics of one stream's hourly series, found in the data itself.

Besides the summary figures (mean, spread, percentiles) it finds the patterns a dashboard
reader looks for (weekday vs weekend, the hour-of-day and hour-of-week profiles, the trend,
daily and weekly seasonality) and the per-slot expectation and spread that normalization
compares against.

The trend of a month of marketplace data is mostly its calendar and its events (exam season
ramps up, Thanksgiving halves demand): a straight line through the data says little about
growth. So `trend` is measured against a shape the caller knows, the model's expectation of
the week profile, the calendar and every labelled cause without growth: what is left is the
growth. `rawTrend` keeps the straight line through the data itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from app.domain.calendar import HOUR, WEEKDAY, WEEKEND, day_type, hour_grid, hour_of_day
from app.domain.timerange import iso

PERCENTILES = (25, 50, 75, 90, 95)
DAILY_LAG, WEEKLY_LAG = 24, 168
SEASONAL_CORRELATION = 0.3
"""Autocorrelation at a lag above which the series is said to repeat with that period."""


@dataclass(frozen=True)
class SlotBaseline:
    """Expected value and spread per (day type, block of the day), shape (2, blocks)."""

    expected: np.ndarray
    spread: np.ndarray

    def at(self, day: int, block: int) -> tuple[float, float]:
        return float(self.expected[day, block]), float(self.spread[day, block])


@dataclass(frozen=True)
class StreamStatistics:
    name: str
    summary: dict[str, Any]
    hourly_slots: SlotBaseline
    bucket_slots: SlotBaseline

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            **self.summary,
            "slots": {
                "hourly": _slots_json(self.hourly_slots),
                "twelveHour": _slots_json(self.bucket_slots),
            },
        }


def aggregate(values: np.ndarray, width: int, how: str) -> np.ndarray:
    """Fold consecutive runs of `width` values (the last axis) by sum or mean."""
    shaped = values.reshape(*values.shape[:-1], -1, width)
    return shaped.sum(axis=-1) if how == "sum" else shaped.mean(axis=-1)


def slot_baseline(values: np.ndarray, days: np.ndarray, blocks: np.ndarray, n_blocks: int):
    """Mean and standard deviation of the values in each (day type, block) slot."""
    expected = np.zeros((2, n_blocks))
    spread = np.zeros((2, n_blocks))
    for day in (WEEKDAY, WEEKEND):
        for block in range(n_blocks):
            chosen = values[(days == day) & (blocks == block)]
            if chosen.size:
                expected[day, block] = chosen.mean()
                spread[day, block] = chosen.std(ddof=1) if chosen.size > 1 else 0.0
    return SlotBaseline(expected, spread)


def stream_statistics(
    name: str,
    start: datetime,
    values: np.ndarray,
    *,
    bucket_hours: int = 12,
    how: str = "sum",
    shape: np.ndarray | None = None,
) -> StreamStatistics:
    """Statistics of an hourly series starting at `start` (whole days, aligned buckets).
    `shape`: the expected series without growth, that `trend` is measured against (without
    it, `trend` is the straight line through the data)."""
    grid = hour_grid(start, values.size)
    days, hours = day_type(grid), hour_of_day(grid)
    buckets = aggregate(values, bucket_hours, how)
    bucket_grid = grid[::bucket_hours]
    raw = _trend(values, days)
    summary = {
        **_summary(values),
        "computedOver": {
            "start": iso(start),
            "end": iso(start + values.size * HOUR),
            "hours": int(values.size),
            "trendAgainst": (
                "the expectation of the week profile, the academic calendar and every "
                "labelled cause, without growth"
                if shape is not None
                else "a straight line through the daily means, weekends as their own level"
            ),
        },
        "patterns": {
            **_weekday_weekend(values, days),
            "hourOfDay": _round_list(_hour_profile(values, hours)),
            "hourOfWeek": _round_list(_week_profile(values, grid)),
            "trend": raw if shape is None else _trend_against(values, shape),
            "rawTrend": raw,
            "seasonality": _seasonality(values),
        },
    }
    return StreamStatistics(
        name=name,
        summary=summary,
        hourly_slots=slot_baseline(values, days, hours, 24),
        bucket_slots=slot_baseline(
            buckets,
            day_type(bucket_grid),
            hour_of_day(bucket_grid) // bucket_hours,
            24 // bucket_hours,
        ),
    )


def _summary(values: np.ndarray) -> dict[str, Any]:
    percentiles = np.percentile(values, PERCENTILES)
    return {
        "mean": _r(values.mean()),
        "median": _r(np.median(values)),
        "stdDev": _r(values.std(ddof=1)),
        "min": _r(values.min()),
        "max": _r(values.max()),
        "percentiles": {f"p{p}": _r(v) for p, v in zip(PERCENTILES, percentiles, strict=True)},
    }


def _weekday_weekend(values: np.ndarray, days: np.ndarray) -> dict[str, float]:
    weekday = values[days == WEEKDAY].mean() if (days == WEEKDAY).any() else 0.0
    weekend = values[days == WEEKEND].mean() if (days == WEEKEND).any() else 0.0
    uplift = weekend / weekday - 1 if weekday else 0.0
    return {"weekdayAvg": _r(weekday), "weekendAvg": _r(weekend), "weekendUplift": _r(uplift)}


def _hour_profile(values: np.ndarray, hours: np.ndarray) -> np.ndarray:
    return np.array([values[hours == h].mean() for h in range(24)])


def _week_profile(values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """The mean of each hour of the week, Monday 00:00 first."""
    weekday = (grid.astype("datetime64[D]").astype(np.int64) + 3) % 7
    slot = weekday * 24 + hour_of_day(grid)
    sums = np.bincount(slot, weights=values, minlength=168)
    counts = np.bincount(slot, minlength=168)
    return np.divide(sums, counts, out=np.zeros(168), where=counts > 0)


def _trend_against(values: np.ndarray, shape: np.ndarray) -> dict[str, Any]:
    """Least squares of the log of each day's data over the day's expected shape: with the
    week, the calendar and the causes in the shape, the slope is the growth."""
    daily = values.reshape(-1, 24).sum(axis=1)
    expected = shape.reshape(-1, 24).sum(axis=1)
    usable = (daily > 0) & (expected > 0)
    if usable.sum() < 2:
        return _trend_result(0.0, 0.0)
    x = np.arange(daily.size, dtype=float)[usable]
    slope = np.polyfit(x, np.log(daily[usable] / expected[usable]), 1)[0]
    per_month = float(np.expm1(30 * slope))
    return _trend_result(float(np.expm1(slope)) * float(daily.mean() / 24), per_month)


def _trend_result(slope_per_day: float, per_month: float) -> dict[str, Any]:
    label = "growing" if per_month > 0.01 else "declining" if per_month < -0.01 else "flat"
    return {
        "slopePerDay": _r(slope_per_day),
        "percentPerMonth": _r(100 * per_month),
        "direction": label,
    }


def _trend(values: np.ndarray, days: np.ndarray) -> dict[str, Any]:
    """Least squares of the daily mean on the day number, with weekends as their own level
    (so that where the window starts in the week does not tilt the slope)."""
    daily = values.reshape(-1, 24).mean(axis=1)
    weekend = days.reshape(-1, 24)[:, 0].astype(float)
    design = np.column_stack([np.ones_like(daily), np.arange(daily.size, dtype=float), weekend])
    (_, slope, _), *_ = np.linalg.lstsq(design, daily, rcond=None)
    level = daily.mean()
    per_month = 30 * slope / level if level else 0.0
    return _trend_result(float(slope), float(per_month))


def _autocorrelation(values: np.ndarray, lag: int) -> float:
    if values.size <= lag + 1:
        return 0.0
    detrended = values - np.polyval(
        np.polyfit(np.arange(values.size), values, 1), np.arange(values.size)
    )
    a, b = detrended[:-lag], detrended[lag:]
    denominator = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denominator) if denominator else 0.0


def _seasonality(values: np.ndarray) -> dict[str, Any]:
    daily = _autocorrelation(values, DAILY_LAG)
    weekly = _autocorrelation(values, WEEKLY_LAG)
    found = []
    if daily >= SEASONAL_CORRELATION:
        found.append("daily")
    if weekly >= SEASONAL_CORRELATION and weekly - daily > 0.05:
        found.append("weekly")
    return {"daily": _r(daily), "weekly": _r(weekly), "found": " and ".join(found) or "none"}


def _slots_json(slots: SlotBaseline) -> dict[str, Any]:
    return {
        label: {
            "expected": _round_list(slots.expected[day]),
            "spread": _round_list(slots.spread[day]),
        }
        for label, day in (("weekday", WEEKDAY), ("weekend", WEEKEND))
    }


def _r(value: float) -> float:
    """Rounded, and never -0.0 (jsonb stores it as 0, which would change the checksum)."""
    return round(float(value), 4) + 0.0


def _round_list(values: np.ndarray) -> list[float]:
    return [_r(v) for v in values]
