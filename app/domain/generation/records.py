"""What live generation hands around: causes, decided effects, drafts, the log's snapshot."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from app.domain.catalog import LOAD_HOURS_MAX

GROUPS = ("high", "medium", "low")
TICK_TYPE = "control.tick"
"""A cadence group's generation reached `until` (data: group, from, until): written in the
same transaction as the group's events, it is the generator's position in simulated time."""
RECENT = timedelta(hours=LOAD_HOURS_MAX + 2)
"""How much of each stream's recent events the generator keeps, before its slowest group's
frontier: the longest span a gauge's load is read over (`LOAD_HOURS_MAX` hours; an hour for
the trailing-hour values), plus the most a caused event can be emitted late (a slow group's
chunk, two hours at most, after the faster group passed its time)."""


class CausingEvent(NamedTuple):
    """What a caused event needs of its cause. (Causes and pending effects are made by the
    hundred thousand an hour: named tuples, immutable, are several times cheaper to make than
    frozen dataclasses.)"""

    position: int
    stream: int
    occurred_at: datetime
    data: Mapping[str, Any]
    correlation_id: int | None


class Pending(NamedTuple):
    """A caused event decided and not yet emitted: due when its delay says, or, when a
    backlog holds it, at the moment it is `released`."""

    due: datetime
    rule: int
    cause: CausingEvent
    released: datetime | None = None
    release_source: int | None = None

    @property
    def at(self) -> datetime:
        return self.released or self.due


@dataclass(slots=True)
class Draft:
    """An event to append; its cause, if any, is already in the log."""

    stream: int
    occurred_at: datetime
    data: dict[str, Any]
    cause: CausingEvent | None = None
    rule: int | None = None
    value: float | None = None
    normalized: float | None = None
    flag: str | None = None
    correlation_id: int | None = None
    expected: float | None = None
    expected_flag: str | None = None
    delivery: dict[str, Any] | None = None
    """How a fault of delivery treated it (`app.domain.generation.delivery`), or None."""
    copy: Draft | None = None
    """The duplicate that will arrive after it: told its original's position on commit."""

    @property
    def arrives_apart(self) -> bool:
        """Delivered apart from when it was generated: held back (late, out of order), or a
        duplicate's copy. The generator recorded it when it was made (a copy records
        nothing: it did not happen), so its commit records nothing."""
        return self.delivery is not None and self.delivery["fault"] != "clock-skew"


CauseRow = tuple[int, str, datetime, Mapping[str, Any], int | None]
"""A logged event that may still have effects pending: position, stream, occurred_at, data,
correlation id."""

EffectRow = tuple[int, str]
"""An effect already logged: its cause's position and its own stream."""


@dataclass
class LogSnapshot:
    """What the log says about generation in the current epoch (read by the store):
    the groups' frontiers, the stream events of the last hour, the hourly rollup, the events
    that may still have effects pending, the effects already logged, and each gauge's latest
    sample.

    A restore after weeks reads back millions of causes and effects, so those two come in
    chunks, read while the restore consumes them (effects first, then causes): a restart
    holds one chunk of rows at a time, not the fortnight."""

    epoch: int
    frontiers: dict[str, datetime]
    recent: list[tuple[str, datetime]]
    hourly: list[tuple[str, datetime, int, float, int]]
    causes: Iterable[Sequence[CauseRow]]
    emitted: Iterable[Sequence[EffectRow]]
    latest_samples: dict[str, float] = field(default_factory=dict)


def seconds(moment: datetime) -> float:
    """A moment as POSIX seconds (how the generator's arrays hold time)."""
    return moment.timestamp()


def moment(second: float) -> datetime:
    """POSIX seconds back as an aware UTC moment."""
    return datetime.fromtimestamp(float(second), UTC)
