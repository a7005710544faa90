"""The ids users see for the simulation's things: one place formats them and parses them back.

Logged things are named by their log position: an external event `evt-<position>`, a manual
modifier `mod-<position>`, a scenario run `run-<position>`. The seeded baseline's are numbered
from 1 in time order, three digits at least: `bevt-001`, `banom-001`. A calendar period in a
year is `cal-<period>-<year>`.
"""

from __future__ import annotations

import re

_MODIFIER = re.compile(r"mod-(\d{1,18})")


def event_id(position: int) -> str:
    """A logged external event's id: `evt-<position>`."""
    return f"evt-{position}"


def modifier_id(position: int) -> str:
    """A manual modifier's id: `mod-<position>` (of its `modifier.applied`)."""
    return f"mod-{position}"


def run_id(position: int) -> str:
    """A scenario run's id: `run-<position>` (of its `scenario.activated`)."""
    return f"run-{position}"


def baseline_event_id(number: int) -> str:
    """The id of the baseline's `number`-th external event (from 0, in time order)."""
    return f"bevt-{number + 1:03d}"


def anomaly_id(number: int) -> str:
    """The id of the baseline's `number`-th anomaly (from 0, in time order)."""
    return f"banom-{number + 1:03d}"


def calendar_id(period: str, year: int) -> str:
    """A calendar period's id in one year: `cal-<period>-<year>`."""
    return f"cal-{period}-{year}"


def modifier_position(text: str) -> int | None:
    """The log position a modifier id names (`mod-12` is 12); None when `text` is not one."""
    match = _MODIFIER.fullmatch(text)
    return int(match.group(1)) if match else None
