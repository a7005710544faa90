"""Time helpers shared by the generator and the statistics: slots, weekends, hour grids.

All times are UTC. A slot is (weekday or weekend, hour of day): the unit the baseline is
compared in, so that a Sunday 3am is compared with other weekend nights.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
WEEKDAY, WEEKEND = 0, 1


def utc(value: datetime) -> datetime:
    """`value` in UTC; a naive datetime is taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso(moment: datetime) -> str:
    """How every time goes out: UTC, ISO-8601 to the second, with Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_iso(text: str) -> datetime:
    """A time the log or the API wrote as ISO-8601 (`Z` or an offset)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def floor_hours(value: datetime, hours: int = 1) -> datetime:
    """The start of the `hours`-long UTC block that holds `value` (blocks start at midnight)."""
    value = utc(value)
    midnight = value.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight + timedelta(hours=(value.hour // hours) * hours)


def hour_grid(start: datetime, hours: int) -> np.ndarray:
    """`hours` consecutive hour starts from `start`, as numpy datetime64[h] (UTC)."""
    first = np.datetime64(utc(start).replace(tzinfo=None), "h")
    return first + np.arange(hours)


def hour_of_day(grid: np.ndarray) -> np.ndarray:
    return (grid.astype("datetime64[h]").astype(np.int64) % 24).astype(np.int64)


def day_type(grid: np.ndarray) -> np.ndarray:
    """WEEKEND (1) on Saturdays and Sundays, WEEKDAY (0) otherwise."""
    days = grid.astype("datetime64[D]").astype(np.int64)
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    return (weekday >= 5).astype(np.int64)


def slot_of(moment: datetime) -> tuple[int, int]:
    """(day type, hour of day) of one moment."""
    moment = utc(moment)
    return (WEEKEND if moment.weekday() >= 5 else WEEKDAY), moment.hour
