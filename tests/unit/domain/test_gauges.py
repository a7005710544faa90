"""A gauge's noise: its hourly value varies by `noise` live as in the baseline, and its samples
drift smoothly from one hour to the next."""

from __future__ import annotations

import numpy as np

from app.domain.generation.gauges import hourly_drift

START = 1_795_000_000 - 1_795_000_000 % 3600  # an hour's start, in POSIX seconds
SEED = 20261125


def test_an_hours_mean_of_the_drift_varies_by_one_noise():
    hours = 4000
    seconds = START + np.arange(hours * 60) * 60.0  # a sample a minute

    means = hourly_drift(SEED, 7, seconds).reshape(hours, 60).mean(axis=1)

    assert abs(float(np.mean(means))) < 0.05
    assert 0.95 < float(np.std(means)) < 1.05


def test_the_drift_is_continuous_across_the_hour():
    boundaries = START + np.arange(1, 500) * 3600.0

    before = hourly_drift(SEED, 7, boundaries - 0.5)
    after = hourly_drift(SEED, 7, boundaries + 0.5)

    assert float(np.max(np.abs(after - before))) < 0.01


def test_the_drift_is_a_function_of_the_seed_the_stream_and_the_moment():
    seconds = START + np.array([0.0, 1800.0, 7200.0])

    assert np.array_equal(hourly_drift(SEED, 7, seconds), hourly_drift(SEED, 7, seconds))
    assert not np.array_equal(hourly_drift(SEED, 7, seconds), hourly_drift(SEED, 8, seconds))
    assert not np.array_equal(hourly_drift(SEED, 7, seconds), hourly_drift(SEED + 1, 7, seconds))
