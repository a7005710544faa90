"""Where a subscribe's first events come from: a snapshot, memory, or the log.

Pure: the decision only, from the client's resume token and where the process stands.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum


class Source(Enum):
    SNAPSHOT = "snapshot"
    """The latest events of each subscribed stream in the current epoch."""
    MEMORY = "memory"
    """Every matching event after the client's position, from the rolling buffer."""
    LOG = "log"
    """Every matching event after the client's position, read from the log."""
    TIME = "time"
    """Every matching event of the current epoch that occurred after the client's time."""


class Reason:
    """Why a resume is not whole (`recovered: false`)."""

    EPOCH_CHANGED = "epoch_changed"
    UNKNOWN_POSITION = "unknown_position"
    RETENTION = "retention"


REASON_MESSAGES = {
    Reason.EPOCH_CHANGED: "the position belongs to an earlier epoch: a reset opened a new one "
    "since; here is the snapshot of the current epoch",
    Reason.UNKNOWN_POSITION: "the position is beyond the newest in the log; here is the "
    "snapshot of the current epoch",
    Reason.RETENTION: "stream events after that point have been dropped from the log by "
    "retention (LOG_RETENTION); here is the snapshot of the current epoch",
}


@dataclass(frozen=True)
class Retained:
    """The oldest stream event the log still holds, once retention has dropped older ones."""

    position: int
    occurred_at: datetime


@dataclass(frozen=True)
class ResumePlan:
    source: Source
    recovered: bool | None
    """None without a resume token; else whether every event after the token will be sent."""
    reason: str | None = None


def plan_resume(
    *,
    last_event_id: int | None,
    last_timestamp: datetime | None,
    head: int,
    epoch_start: int,
    buffer_floor: int,
    retained: Retained | None = None,
) -> ResumePlan:
    """Decide how to answer a subscribe.

    `head` is the highest position the process has read (live events follow it), `epoch_start`
    the position of the reset that opened the current epoch (0 for the first), `buffer_floor`
    the position above which the rolling buffer holds every event, `retained` where the
    log's stream events start when retention has dropped older ones.
    """
    if last_timestamp is not None:
        if retained is not None and last_timestamp < retained.occurred_at:
            return ResumePlan(Source.SNAPSHOT, recovered=False, reason=Reason.RETENTION)
        return ResumePlan(Source.TIME, recovered=True)
    if last_event_id is None:
        return ResumePlan(Source.SNAPSHOT, recovered=None)
    if last_event_id > head:
        return ResumePlan(Source.SNAPSHOT, recovered=False, reason=Reason.UNKNOWN_POSITION)
    if last_event_id < epoch_start:
        return ResumePlan(Source.SNAPSHOT, recovered=False, reason=Reason.EPOCH_CHANGED)
    if last_event_id >= buffer_floor:
        return ResumePlan(Source.MEMORY, recovered=True)
    if retained is not None and last_event_id + 1 < retained.position:
        return ResumePlan(Source.SNAPSHOT, recovered=False, reason=Reason.RETENTION)
    return ResumePlan(Source.LOG, recovered=True)
