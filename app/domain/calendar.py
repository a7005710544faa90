"""Time helpers shared by the generator and the statistics: slots, weekends, hour grids.

All times are UTC. A slot is (weekday or weekend, hour of day): the unit the baseline is
compared in, so that a Sunday 3am is compared with other weekend nights.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from app.domain.timerange import utc

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
WEEKDAY, WEEKEND = 0, 1


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
