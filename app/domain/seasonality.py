"""A change of a stream's daily profile (the `seasonality` modifier): the day's shape taken
away in part, flattened or turned over, its total kept."""

from __future__ import annotations

import numpy as np


def reshaped_day(day: np.ndarray, strength: float) -> np.ndarray:
    """The factor on each hour of a day whose profile is `day` (24 multipliers) that takes away
    `strength` of its shape and keeps the day's total: 0 leaves it, 0.5 halves its swing (in
    logs), 1 flattens it to its mean, 2 turns it over (the quiet night busy, the evening
    quiet). The day's events move between its hours; its total and mean stay."""
    day = np.maximum(np.asarray(day, dtype=float), 1e-6)
    shaped = day ** (1.0 - strength)
    return shaped / day * (day.mean() / shaped.mean())
