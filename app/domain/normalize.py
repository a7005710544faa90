"""Normalization: a raw value as a 0-100 score against the baseline of its slot.

50 is the slot's expected value; 30 and 70 are one standard deviation below and above; 0 and
100 are three. Piecewise linear in between, clamped outside. A quiet night is normal because
it is compared with other nights, not with the daily peak.

Beside it, a live value's flag against its own expectation (`expected_flags`): what the
calendar and every cause in force lead one to expect at that moment. Exam season is high
against the month's slot, and expected; only what nothing known explains is flagged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.domain.events import Flag

WARNING_SIGMAS = 1.0
CRITICAL_SIGMAS = 3.0
MIN_RELATIVE_SPREAD = 0.01
"""A slot whose values never varied still gets a spread of 1% of its mean, so that a constant
stream that moves at all is noticed without dividing by zero."""


@dataclass(frozen=True, slots=True)
class Normalized:
    score: float
    flag: Flag


def spread_floor(expected: float, spread: float) -> float:
    return max(spread, abs(expected) * MIN_RELATIVE_SPREAD, 1e-9)


def score_of(z: float) -> float:
    """The 0-100 score of a value `z` standard deviations from the expected value."""
    magnitude = abs(z)
    if magnitude <= WARNING_SIGMAS:
        offset = 20.0 * magnitude
    else:
        offset = 20.0 + 30.0 * (magnitude - WARNING_SIGMAS) / (CRITICAL_SIGMAS - WARNING_SIGMAS)
    offset = min(offset, 50.0)
    return 50.0 + offset if z >= 0 else 50.0 - offset


def flag_of(z: float) -> Flag:
    magnitude = abs(z)
    if magnitude >= CRITICAL_SIGMAS:
        return "critical"
    if magnitude >= WARNING_SIGMAS:
        return "warning"
    return "normal"


def normalize(value: float, expected: float, spread: float) -> Normalized:
    """Score `value` against a slot whose expected value and standard deviation are given."""
    z = (value - expected) / spread_floor(expected, spread)
    return Normalized(round(score_of(z), 2), flag_of(z))


def z_array(values: np.ndarray, expected: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """Standard deviations from the expected value, with the same spread floor as `normalize`."""
    floor = np.maximum(np.maximum(spread, np.abs(expected) * MIN_RELATIVE_SPREAD), 1e-9)
    return (values - expected) / floor


def normalize_array(values: np.ndarray, expected: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """Scores for many values at once (same rule as `normalize`, vectorized)."""
    z = z_array(values, expected, spread)
    magnitude = np.abs(z)
    slope = 30.0 / (CRITICAL_SIGMAS - WARNING_SIGMAS)
    offset = np.where(
        magnitude <= WARNING_SIGMAS, 20.0 * magnitude, 20.0 + slope * (magnitude - WARNING_SIGMAS)
    )
    offset = np.minimum(offset, 50.0)
    return np.round(np.where(z >= 0, 50.0 + offset, 50.0 - offset), 2)


def flags_array(values: np.ndarray, expected: np.ndarray, spread: np.ndarray) -> list[Flag]:
    """Flags for many values at once (same rule as `flag_of`, vectorized)."""
    magnitude = np.abs(z_array(values, expected, spread))
    warning = np.where(magnitude >= WARNING_SIGMAS, "warning", "normal")
    return np.where(magnitude >= CRITICAL_SIGMAS, "critical", warning).tolist()


UNEXPLAINED_WARNING = 3.0
UNEXPLAINED_CRITICAL = 5.0
MODEL_ALLOWANCE = 0.1
"""Beside its noise, a value may stray this share of its expectation without being called
unexplained: the hourly expectation is the model's, the live data the generator's, minute by
minute, with its couplings following what really happened."""


def expected_flags(values: np.ndarray, expected: np.ndarray, noise: np.ndarray) -> list[Flag]:
    """Flags of values against what was expected of them: `warning` three deviations away,
    `critical` five, where a deviation is the value's noise (`noise`: Poisson for a count, a
    gauge's sampling noise) together with `MODEL_ALLOWANCE` of the expectation."""
    spread = np.sqrt(noise**2 + (MODEL_ALLOWANCE * np.abs(expected)) ** 2)
    z = np.abs(values - expected) / np.maximum(spread, 1e-9)
    warning = np.where(z >= UNEXPLAINED_WARNING, "warning", "normal")
    return np.where(z >= UNEXPLAINED_CRITICAL, "critical", warning).tolist()
