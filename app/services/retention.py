"""Retention: the log's old stream events dropped a partition at a time, each drop recorded.

Run by the scheduler's leader (`jobs/scheduler.py`). What goes is decided in
`app/domain/retention.py`; each drop and the `control.retention` event that names what it
removed commit together, so the log always says what it no longer holds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app.domain.calendar import iso
from app.domain.events import NewEvent
from app.domain.retention import Drop, Partition, RetentionPolicy, partitions_to_drop
from app.services.clock import clock_of
from app.store import Store
from app.store.eventlog import LogSize

RETENTION_TYPE = "control.retention"


def enforce_retention(
    store: Store,
    policy: RetentionPolicy,
    *,
    keep_occurred_after: datetime | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Make the next partition, then drop what the policy says; the `control.retention`
    events' data, one per partition dropped. Partitions holding stream events that occurred
    after `keep_occurred_after` (simulated time the generator may still read back) stay."""
    store.log.prepare()
    if not policy.active:
        return []
    now = now or datetime.now(UTC)
    stored = store.log.partitions()
    kept_back = [
        p
        for p in stored
        if keep_occurred_after is not None
        and p.newest_occurred_at is not None
        and p.newest_occurred_at > keep_occurred_after
    ]
    movable = stored[: stored.index(kept_back[0])] if kept_back else stored
    drops = partitions_to_drop(
        [
            Partition(p.name, p.first_position, p.end_position, p.bytes, p.newest_recorded_at)
            for p in movable
        ],
        policy,
        now=now,
        log_bytes=store.log.size().bytes,
        head=store.log.last_position(),
        folded_through=store.rollup.position(),
    )
    return [_drop(store, drop, policy) for drop in drops]


def _drop(store: Store, drop: Drop, policy: RetentionPolicy) -> dict[str, Any]:
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
        occurred_at = clock_of(store, epoch).now(datetime.now(UTC))
        writer.append([NewEvent("control", RETENTION_TYPE, occurred_at, data=data)])
    return data


def policy_json(policy: RetentionPolicy) -> dict[str, Any]:
    return {
        "maxAgeSeconds": _seconds(policy.max_age),
        "maxBytes": policy.max_bytes,
    }


def size_json(size: LogSize, policy: RetentionPolicy) -> dict[str, Any]:
    """The log's size and retention as the state and /metrics report them."""
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
