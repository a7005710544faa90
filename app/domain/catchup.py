"""How often each cadence group generates, whether live generation is catching up, and how far
it has to go.

A group's cadence is in simulated time (the low group's events come every 30-60 simulated
minutes), so its job runs that often in wall time divided by the clock's speed, but never more
often than every second (`job_interval`): at 1x every group at its own cadence, at 60x the
high group every 1-2 wall seconds and the low group every 30-60, from 3,600x every group every
1-2 seconds. In the normal run of things a group is then behind simulated now by up to that
interval (with jitter) and its job's own run, times the speed. Further behind than that, with
some slack, it is catching up: after a first start, a downtime or a leader change, the groups
are brought up to now together, step by step.

At 60x the high group's job ran every 1-10 wall seconds (the floor was the fastest group's
whole cadence), so it wrote up to 10 simulated minutes, ~7,000 events, in one commit: the feed
delivered such a commit a page at a time, and its last page reached clients 90-250 ms after it
became visible. Every 1-2 seconds, a commit is one or two pages.

Wall-clock intervals that ignored the speed left the low group up to 42 simulated days behind
at 1,000x: its data arrived that late, retention (which keeps what the slowest group may still
read) could drop nothing, and a restart read weeks of log back into memory.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain.catalog.cadences import CadenceGroup

SLACK = timedelta(minutes=10)
"""Beyond the interval: a catch-up step, and a job that took its time."""


@dataclass(frozen=True)
class Progress:
    """How far generation has got: behind now by `behind` (the group furthest behind), and
    whether that is more than the cadence explains."""

    catching_up: bool
    behind: timedelta

    def to_json(self) -> dict[str, object]:
        return {
            "catchingUp": self.catching_up,
            "behindSeconds": round(self.behind.total_seconds(), 1),
        }


def job_interval(
    cadence: CadenceGroup, cadences: Mapping[str, CadenceGroup], speed: float
) -> tuple[float, float]:
    """Wall seconds between two runs of a group's job, least and most: its cadence at this
    speed, never under the fastest group's shortest interval, and where the speed brings it
    under that, between it and twice it (`JOB_SPREAD`): a fast clock's data arrives in small,
    frequent commits rather than minutes of simulated time at once."""
    floor = min(c.interval.min.total_seconds() for c in cadences.values())
    return (
        max(cadence.interval.min.total_seconds() / speed, floor),
        max(cadence.interval.max.total_seconds() / speed, floor * JOB_SPREAD),
    )


JOB_SPREAD = 2.0
"""The longest over the shortest wall interval of a job that runs at the floor: jitter, so
that the groups' jobs do not all fall on the same instants."""


def progress(
    frontiers: Mapping[str, datetime],
    now: datetime,
    speed: float,
    cadences: Mapping[str, CadenceGroup],
) -> Progress:
    """Generation's progress from how far each group has got (`frontiers`: its last tick)."""
    if not frontiers:
        return Progress(catching_up=False, behind=timedelta(0))
    behind = {group: max(now - reached, timedelta(0)) for group, reached in frontiers.items()}
    catching_up = any(
        lag > normal_lag(cadences[group], cadences, speed)
        for group, lag in behind.items()
        if group in cadences
    )
    return Progress(catching_up, max(behind.values()))


def normal_lag(
    cadence: CadenceGroup, cadences: Mapping[str, CadenceGroup], speed: float
) -> timedelta:
    """The most a group falls behind between two runs of its job, at this clock speed: its
    longest interval with jitter, then as long again for the job's own run (at a fast clock a
    job writes a few seconds of simulated data and can take about an interval to do it)."""
    longest = job_interval(cadence, cadences, speed)[1]
    return timedelta(seconds=longest * (2 + cadence.jitter) * speed) + SLACK


@dataclass(frozen=True)
class CatchUpReport:
    """A catch-up under way, for a person to read: simulated hours done of the whole, the
    pace, and the time left at that pace."""

    start: datetime
    reached: datetime
    target: datetime
    events: int
    elapsed: float

    def line(self) -> str:
        total = (self.target - self.start).total_seconds() / 3600
        done = (self.reached - self.start).total_seconds() / 3600
        rate = self.events / self.elapsed if self.elapsed > 0 else 0.0
        left = self.elapsed * (total - done) / done if done > 0 else None
        eta = f", about {left:.0f} s left" if left is not None else ""
        return (
            f"catching up: {done:.1f} of {total:.1f} simulated hours, "
            f"{self.events:,} events ({rate:,.0f}/s){eta}"
        )
