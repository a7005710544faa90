"""A simple detector, as a user of the simulator would write one in an afternoon: a robust
z-score of each hour against a seasonal model learnt from the series itself. Nothing in it
knows the simulator's model, its causes or its labels.

For each stream: the expected value of an hour is the median of its hour of the week (over
the series, in logs) times a level that follows the trailing week (the median of the last
168 hours' departures from that profile). An hour is flagged when its departure from the
expected value, in units of its noise (Poisson for counts, plus a tenth of the expected value
for what the profile gets wrong), is more than `Z` robust standard deviations of all such
departures, and at least three events for a count.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

Z = 4.0
LEVEL_HOURS = 168
ALLOWANCE = 0.1
MIN_EXCESS = 3.0


def read_series(path: Path) -> tuple[list[datetime], np.ndarray]:
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    times = [datetime.fromisoformat(r["timestamp"]).replace(tzinfo=UTC) for r in rows]
    return times, np.array([float(r["value"]) for r in rows])


def flagged_hours(
    times: list[datetime],
    values: np.ndarray,
    counts: bool,
    *,
    z_limit: float = Z,
    level_hours: int = LEVEL_HOURS,
    centred: bool = False,
) -> np.ndarray:
    """The indexes of the hours the detector flags. The defaults are the test's detector;
    `bench/detectors.py` tries its variants (a centred level, other spans and limits)."""
    hour_of_week = np.array([t.weekday() * 24 + t.hour for t in times])
    logs = np.log(np.maximum(values, 0) + 0.5)
    level = np.zeros(values.size)
    profile = np.zeros(values.size)
    for _ in range(2):
        for slot in np.unique(hour_of_week):
            chosen = hour_of_week == slot
            profile[chosen] = np.median((logs - level)[chosen])
        level = (_centred_median if centred else _trailing_median)(logs - profile, level_hours)
    expected = np.maximum(np.exp(profile + level) - 0.5, 0.0)
    departure = values - expected
    if counts:
        units = departure / np.sqrt(np.maximum(expected, 0.5) + (ALLOWANCE * expected) ** 2)
        busy = expected >= 1
        reference = units[busy] if busy.sum() >= 48 else units
        spread = max(1.0, _robust_sd(reference))
        z = (units - np.median(reference)) / spread
        return np.flatnonzero((np.abs(z) > z_limit) & (np.abs(departure) >= MIN_EXCESS))
    relative = departure / np.maximum(np.abs(expected), 1e-9)
    z = (relative - np.median(relative)) / max(0.02, _robust_sd(relative))
    return np.flatnonzero(np.abs(z) > z_limit)


def detect(folder: Path, counts: Iterable[str], **variant: object) -> list[dict[str, str]]:
    """Detections for every series of an export (`counts`: the streams that count events);
    `variant` as `flagged_hours` takes it."""
    counting = set(counts)
    found = []
    for path in sorted((folder / "data").glob("*.csv")):
        stream = path.stem
        times, values = read_series(path)
        for index in flagged_hours(times, values, stream in counting, **variant):
            found.append({"stream": stream, "timestamp": times[index].isoformat()})
    return found


def _trailing_median(values: np.ndarray, hours: int) -> np.ndarray:
    padded = np.concatenate([np.full(hours, np.nan), values])
    windows = sliding_window_view(padded, hours)[:-1]
    found = np.full(values.size, values[0])
    known = ~np.all(np.isnan(windows), axis=1)
    found[known] = np.nanmedian(windows[known], axis=1)
    return found


def _centred_median(values: np.ndarray, hours: int) -> np.ndarray:
    half = hours // 2
    padded = np.concatenate([np.full(half, np.nan), values, np.full(hours - half, np.nan)])
    windows = sliding_window_view(padded, hours + 1)[: values.size]
    return np.nanmedian(windows, axis=1)


def _robust_sd(values: np.ndarray) -> float:
    return float(1.4826 * np.median(np.abs(values - np.median(values))))
