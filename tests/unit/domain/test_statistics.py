"""Statistics find in a series the patterns that were put into it."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from app.domain.calendar import day_type, floor_hours, hour_grid, hour_of_day, slot_of
from app.domain.statistics import aggregate, stream_statistics

START = datetime(2026, 10, 5, tzinfo=UTC)  # a Monday
HOURS = 30 * 24


def synthetic(weekend_uplift=0.4, monthly_growth=0.03, noise=0.0, seed=1) -> np.ndarray:
    grid = hour_grid(START, HOURS)
    hours, days = hour_of_day(grid), day_type(grid)
    profile = np.where((hours >= 8) & (hours < 22), 1.5, 0.3)
    growth = 1 + monthly_growth * np.arange(HOURS) / (30 * 24)
    values = 100 * profile * np.where(days == 1, 1 + weekend_uplift, 1.0) * growth
    return values * (1 + noise * np.random.default_rng(seed).standard_normal(HOURS))


def test_calendar_helpers_know_weekends_hours_and_blocks():
    grid = hour_grid(START, 24 * 7)

    assert day_type(grid)[::24].tolist() == [0, 0, 0, 0, 0, 1, 1]
    assert hour_of_day(grid)[:3].tolist() == [0, 1, 2]
    assert slot_of(datetime(2026, 10, 10, 15, tzinfo=UTC)) == (1, 15)
    assert floor_hours(datetime(2026, 10, 10, 15, 42, tzinfo=UTC), 12) == datetime(
        2026, 10, 10, 12, tzinfo=UTC
    )


def test_summary_figures_describe_the_distribution():
    values = synthetic(noise=0.05)
    stats = stream_statistics("s", START, values).to_json()

    assert stats["mean"] == pytest.approx(values.mean(), rel=1e-4)
    assert stats["median"] == pytest.approx(np.median(values), rel=1e-4)
    assert stats["min"] <= stats["percentiles"]["p25"] <= stats["percentiles"]["p50"]
    assert stats["percentiles"]["p90"] <= stats["percentiles"]["p95"] <= stats["max"]


def test_weekend_uplift_and_hour_profile_are_found():
    patterns = stream_statistics("s", START, synthetic()).to_json()["patterns"]

    assert patterns["weekendUplift"] == pytest.approx(0.4, abs=0.02)
    profile = patterns["hourOfDay"]
    assert min(profile[8:22]) > 3 * max(profile[:7])


def test_the_trend_is_measured_in_percent_a_month_whatever_the_weekday_mix():
    trend = stream_statistics("s", START, synthetic(monthly_growth=0.04)).to_json()["patterns"][
        "trend"
    ]

    assert trend["percentPerMonth"] == pytest.approx(4.0, abs=0.5)
    assert trend["direction"] == "growing"


def test_daily_and_weekly_seasonality_are_detected_and_noise_has_none():
    seasonal = stream_statistics("s", START, synthetic(noise=0.05)).to_json()["patterns"]
    noise = np.random.default_rng(3).normal(100, 10, HOURS)
    flat = stream_statistics("n", START, noise).to_json()["patterns"]

    assert seasonal["seasonality"]["found"] == "daily and weekly"
    assert flat["seasonality"]["found"] == "none"


def test_slot_baselines_hold_the_expected_value_and_spread_of_each_slot():
    values = synthetic(monthly_growth=0.0)
    stats = stream_statistics("s", START, values)

    assert stats.hourly_slots.at(0, 12) == pytest.approx((150.0, 0.0))
    assert stats.hourly_slots.at(1, 3) == pytest.approx((42.0, 0.0))
    assert stats.bucket_slots.at(0, 0) == pytest.approx((100 * (8 * 0.3 + 4 * 1.5), 0.0))


def test_buckets_fold_hours_by_sum_or_mean():
    values = np.arange(48, dtype=float)

    assert aggregate(values, 12, "sum").tolist() == [66.0, 210.0, 354.0, 498.0]
    assert aggregate(values, 12, "mean").tolist() == [5.5, 17.5, 29.5, 41.5]
