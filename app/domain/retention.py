"""How long the log keeps stream events: which of its partitions retention drops.

The log's stream events live in partitions of consecutive positions; scenario, external and
control events are kept for ever. A partition goes, oldest first, when its newest event was
recorded longer ago than the retention period, or while the log is over its size budget. It
never goes while it holds the newest position (appends land there) or before the hourly
rollup has folded every event in it (history reads whole hours from the rollup), nor while
it holds stream events the generator reads back when it restarts. Drops stop at the first
partition that must stay, so the log always holds every stream event from its oldest
retained position on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

AGE = "age"
SIZE = "size"


@dataclass(frozen=True)
class Partition:
    """One partition of stream events: positions `first_position` to `end_position - 1`."""

    name: str
    first_position: int
    end_position: int
    bytes: int
    newest_recorded_at: datetime | None
    """When its newest row was written (None while it is empty)."""
    newest_occurred_at: datetime | None = None
    """The simulated time of its newest row."""


@dataclass(frozen=True)
class RetentionPolicy:
    max_age: timedelta | None
    """Stream events recorded longer ago than this are dropped (None: kept whatever their age)."""
    max_bytes: int | None
    """The log's size budget, indexes included (None: no budget)."""

    @property
    def active(self) -> bool:
        return self.max_age is not None or self.max_bytes is not None


@dataclass(frozen=True)
class Drop:
    partition: Partition
    reason: str
    """`age` or `size`."""


@dataclass(frozen=True)
class RetentionPlan:
    drops: list[Drop]
    held_back: list[Drop]
    """What the policy would drop next but must keep: stream events the generator may still
    read back when it restarts (pending effects: a session booked for next week)."""


def plan_retention(
    partitions: Sequence[Partition],
    policy: RetentionPolicy,
    *,
    now: datetime,
    log_bytes: int,
    head: int,
    folded_through: int,
    read_back_from: datetime | None = None,
) -> RetentionPlan:
    """`partitions_to_drop`, stopping before the first partition holding stream events that
    occurred after `read_back_from` (simulated time)."""
    wanted = partitions_to_drop(
        partitions,
        policy,
        now=now,
        log_bytes=log_bytes,
        head=head,
        folded_through=folded_through,
    )
    drops = []
    for drop in wanted:
        newest = drop.partition.newest_occurred_at
        if read_back_from is not None and newest is not None and newest > read_back_from:
            break
        drops.append(drop)
    return RetentionPlan(drops, wanted[len(drops) :])


def partitions_to_drop(
    partitions: Sequence[Partition],
    policy: RetentionPolicy,
    *,
    now: datetime,
    log_bytes: int,
    head: int,
    folded_through: int,
) -> list[Drop]:
    """The partitions to drop now, oldest first. `log_bytes` is the whole log's size,
    `head` the newest position appended, `folded_through` the rollup's position."""
    drops: list[Drop] = []
    remaining = log_bytes
    for partition in sorted(partitions, key=lambda p: p.first_position):
        last = partition.end_position - 1
        if last >= head or last > folded_through or partition.newest_recorded_at is None:
            break
        reason = _reason(partition, policy, now, remaining)
        if reason is None:
            break
        drops.append(Drop(partition, reason))
        remaining -= partition.bytes
    return drops


def _reason(
    partition: Partition, policy: RetentionPolicy, now: datetime, log_bytes: int
) -> str | None:
    assert partition.newest_recorded_at is not None
    if policy.max_age is not None and partition.newest_recorded_at < now - policy.max_age:
        return AGE
    if policy.max_bytes is not None and log_bytes > policy.max_bytes:
        return SIZE
    return None
