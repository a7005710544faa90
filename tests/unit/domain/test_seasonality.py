"""A change of a stream's daily profile: its shape taken away in part, flattened or turned
over, with the day's total kept."""

from __future__ import annotations

import numpy as np
import pytest

from app.domain.catalog import Profile
from app.domain.seasonality import reshaped_day

EVENING = np.array([0.2] * 7 + [0.6] * 9 + [1.8] * 6 + [0.8] * 2)
"""A day quiet at night and busy in the evening."""


@pytest.mark.parametrize("strength", [0.3, 0.5, 1.0, 1.5, 2.0])
def test_the_days_total_is_kept(strength):
    reshaped = EVENING * reshaped_day(EVENING, strength)

    assert reshaped.sum() == pytest.approx(EVENING.sum())


def test_a_strength_of_one_flattens_the_day_to_its_mean():
    reshaped = EVENING * reshaped_day(EVENING, 1.0)

    assert reshaped == pytest.approx(np.full(24, EVENING.mean()))


def test_half_the_strength_halves_the_days_swing_in_logs():
    reshaped = EVENING * reshaped_day(EVENING, 0.5)

    swing = np.log(reshaped.max() / reshaped.min())
    assert swing == pytest.approx(np.log(EVENING.max() / EVENING.min()) / 2)


def test_a_strength_of_two_turns_the_day_over():
    reshaped = EVENING * reshaped_day(EVENING, 2.0)

    assert np.argmax(reshaped) == np.argmin(EVENING) and np.argmin(reshaped) == np.argmax(EVENING)


def _profile(day) -> Profile:
    hours = tuple(float(h) for h in day)
    return Profile(description="test", weekday=hours, weekend=hours, weekend_multiplier=1.0)


def test_a_flat_profile_has_no_shape_to_change(catalog):
    assert not _profile(np.ones(24)).rises_and_falls
    assert not catalog.profiles["flat"].rises_and_falls
    assert _profile(EVENING).rises_and_falls
    assert catalog.profiles["demand"].rises_and_falls
