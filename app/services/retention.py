"""Retention: the log's old stream events dropped a partition at a time, each drop recorded.

Run by the scheduler's leader (`jobs/scheduler.py`). What goes is decided in
`app/domain/retention.py`; each drop and the `control.retention` event that names what it
removed commit together, so the log always says what it no longer holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.domain.events import NewEvent
from app.domain.retention import Drop, RetentionPolicy, plan_retention
from app.domain.timerange import iso
from app.services.clock import WallClock, clock_of, system_wall
from app.store import Store
from app.store.eventlog import LogSize

RETENTION_TYPE = "control.retention"


def enforce_retention(
    store: Store,
    policy: RetentionPolicy,
    *,
    read_back_from: datetime | None = None,
    wall: WallClock = system_wall,
) -> RetentionRun:
    """Make the next partition, then drop what the policy says, each drop recorded.
    Partitions holding stream events that occurred after `read_back_from` (simulated time
    the generator may still read back) stay, whatever the policy."""
    store.log.prepare()
    if not policy.active:
        return RetentionRun([], 0)
    plan = plan_retention(
        store.log.partitions(),
        policy,
        now=wall(),
        log_bytes=store.log.size().bytes,
        head=store.log.last_position(),
        folded_through=store.rollup.position(),
        read_back_from=read_back_from,
    )
    dropped = [_drop(store, drop, policy, wall) for drop in plan.drops]
    return RetentionRun(dropped, len(plan.held_back))


@dataclass(frozen=True)
class RetentionRun:
    dropped: list[dict[str, Any]]
    """The `control.retention` events' data, one per partition dropped."""
    held_back: int
    """Partitions the policy would have dropped but the generator may still read back."""


def _drop(store: Store, drop: Drop, policy: RetentionPolicy, wall: WallClock) -> dict[str, Any]:
    partition = drop.partition
    with store.log.transaction() as writer:
        epoch = writer.lock()
        rows = writer.drop_partition(partition.name)
        data = {
            "partition": partition.name,
            "firstPosition": partition.first_position,
            "lastPosition": partition.end_position - 1,
            "rows": rows,
            "bytes": partition.bytes,
            "newestRecordedAt": iso(partition.newest_recorded_at),
            "reason": drop.reason,
            "policy": policy_json(policy),
        }
        occurred_at = clock_of(store, epoch, wall).now(wall())
        writer.append([NewEvent("control", RETENTION_TYPE, occurred_at, data=data)])
    return data


def policy_json(policy: RetentionPolicy) -> dict[str, Any]:
    return {
        "maxAgeSeconds": _seconds(policy.max_age),
        "maxBytes": policy.max_bytes,
    }


def size_json(size: LogSize, policy: RetentionPolicy) -> dict[str, Any]:
    """The log's size and retention as the state reports them."""
    return {
        "bytes": size.bytes,
        "rows": size.rows,
        "retainedFrom": size.retained_from,
        "oldestStreamEvent": None
        if size.oldest_position is None
        else {
            "position": size.oldest_position,
            "occurredAt": iso(size.oldest_occurred_at),
            "recordedAt": iso(size.oldest_recorded_at),
        },
        "retention": policy_json(policy),
    }


def _seconds(span: timedelta | None) -> float | None:
    return None if span is None else span.total_seconds()
