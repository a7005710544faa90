"""Capacity: the most the supply can serve, and how an outcome saturates as demand nears it.

A booking request asks a tutor for a session; the tutors' calendars hold at most so many a day.
Far below that limit almost every request the tutors would confirm is confirmed; far above it,
the confirmations stay at the limit and the rest of the requests are declined or expire. The
demand is measured as the hourly flow and the live generator both can: the expectation's day
around the hour, scaled by how far the realized demand has been above or below it over the
capacity's window (hours, so that a surge meets the limit the day it starts).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SHARPNESS = 4.0
"""How abruptly the outcome saturates. At 4, a day asking for half of what the calendars take
loses 1.8% of its confirmations, one asking for all of it 18%, one asking for twice as much 53%
(filling 94% of the calendars)."""

FULLEST = 0.95
"""The share of the limit that full calendars take: a tutor keeps gaps (a break between
sessions, an hour cancelled and not taken again). Demand is measured hours late, so the day a
surge starts takes a little more than a settled day; this leaves it below the limit."""

DAY_HOURS = 24


@dataclass(frozen=True)
class CapacitySpec:
    """A capacity compiled: the chain and the index of its limited outcome, the stream whose
    events ask for it (the chain's source), and the limit per day at the model's anchor."""

    capacity_id: str
    chain: str
    outcome: int
    demand: int
    per_day: float
    window_hours: int


def saturation(pressure: np.ndarray | float) -> np.ndarray:
    """The share of what is asked for that the capacity serves, at `pressure` (what a day asks
    for over the day's limit): the smooth minimum of 1 and FULLEST / pressure, so that what is
    served, pressure x saturation, stays below FULLEST of the limit however high the
    pressure."""
    x = np.maximum(np.asarray(pressure, dtype=float), 0.0) / FULLEST
    return (1.0 + x**SHARPNESS) ** (-1.0 / SHARPNESS)


def limit_outcome(probabilities: np.ndarray, outcome: int, served: np.ndarray) -> np.ndarray:
    """A chain's outcome probabilities (one row per outcome) with `outcome`'s scaled by
    `served`; what it gives up goes to the other outcomes in proportion to theirs (a request
    the tutors cannot take is declined or expires instead)."""
    limited = probabilities.astype(float)
    freed = limited[outcome] * (1.0 - served)
    limited[outcome] = limited[outcome] - freed
    others = np.delete(limited, outcome, axis=0)
    total = others.sum(axis=0)
    share = np.divide(freed, total, out=np.zeros_like(freed), where=total > 1e-12)
    for row in range(limited.shape[0]):
        if row != outcome:
            limited[row] = limited[row] * (1.0 + share)
    return limited


def within_capacity(
    probabilities: np.ndarray, capacity: CapacitySpec, asked_per_probability: np.ndarray | float
) -> np.ndarray:
    """A chain's outcome probabilities once `capacity` has served what it can, when a day
    asks `asked_per_probability` of its limit per unit of the limited outcome's probability
    (the hourly flow and the live generator each measure that their way)."""
    asked = asked_per_probability * probabilities[capacity.outcome]
    return limit_outcome(probabilities, capacity.outcome, saturation(asked))


def daily_around(values: np.ndarray) -> np.ndarray:
    """Each hour's day (the 12 hours before it to the 12 after) of an hourly series: of an
    expectation, which is known ahead, so that a Saturday is measured by its own busy day and
    not by the quieter Friday before it. Hours nearer the ends than 12 take the first or last
    day of the series (or all there is, scaled to 24 hours)."""
    cumulative = np.concatenate([[0.0], np.cumsum(values)])
    size = values.size
    if size <= DAY_HOURS:
        return np.full(size, cumulative[-1] * DAY_HOURS / max(size, 1))
    half = DAY_HOURS // 2
    first = np.clip(np.arange(size) - half, 0, size - DAY_HOURS)
    return cumulative[first + DAY_HOURS] - cumulative[first]


def sum_before(values: np.ndarray, window: int) -> np.ndarray:
    """Each hour's preceding `window` hours of an hourly series (fewer at the start)."""
    cumulative = np.concatenate([[0.0], np.cumsum(values)])
    hours = np.arange(values.size)
    return cumulative[hours] - cumulative[np.maximum(hours - window, 0)]
