"""Which partitions of stream events retention drops: oldest first, never what is still
needed, never past the first that must stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.domain.retention import (
    AGE,
    SIZE,
    Drop,
    Partition,
    RetentionPolicy,
    partitions_to_drop,
    plan_retention,
)

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)
GB = 10**9


def partition(number: int, days_old: float, size: int = GB) -> Partition:
    first = 1 + number * 1000
    written = NOW - timedelta(days=days_old)
    return Partition(f"p{number}", first, first + 1000, size, written, written)


LOG = [partition(0, 20), partition(1, 15), partition(2, 10), partition(3, 0)]
HEAD = 3500
"""Appends land in p3."""


def drop(policy: RetentionPolicy, partitions=LOG, *, log_bytes=4 * GB, folded=HEAD, head=HEAD):
    return partitions_to_drop(
        partitions, policy, now=NOW, log_bytes=log_bytes, head=head, folded_through=folded
    )


def test_partitions_older_than_the_retention_go_oldest_first():
    assert drop(RetentionPolicy(timedelta(days=14), None)) == [
        Drop(LOG[0], AGE),
        Drop(LOG[1], AGE),
    ]


def test_over_the_size_budget_the_oldest_go_until_the_log_fits():
    assert drop(RetentionPolicy(None, int(2.5 * GB))) == [Drop(LOG[0], SIZE), Drop(LOG[1], SIZE)]


def test_the_partition_appends_land_in_stays_whatever_its_age_or_size():
    everything_old = [partition(n, 30) for n in range(3)]

    dropped = drop(RetentionPolicy(timedelta(days=1), GB // 10), everything_old, head=2500)

    assert [d.partition.name for d in dropped] == ["p0", "p1"]


def test_nothing_goes_before_the_rollup_has_folded_it():
    dropped = drop(RetentionPolicy(timedelta(days=14), None), folded=1500)

    assert [d.partition.name for d in dropped] == ["p0"]


def test_drops_stop_at_the_first_partition_that_must_stay():
    young_first = [partition(0, 1), partition(1, 30), partition(2, 0)]

    assert drop(RetentionPolicy(timedelta(days=14), None), young_first, head=2500) == []


def test_no_policy_drops_nothing():
    assert drop(RetentionPolicy(None, None)) == []
    assert not RetentionPolicy(None, None).active


def test_what_the_generator_reads_back_is_held_back_and_said_so():
    plan = plan_retention(
        LOG,
        RetentionPolicy(timedelta(days=14), None),
        now=NOW,
        log_bytes=4 * GB,
        head=HEAD,
        folded_through=HEAD,
        read_back_from=NOW - timedelta(days=16),
    )

    assert plan.drops == [Drop(LOG[0], AGE)]
    assert plan.held_back == [Drop(LOG[1], AGE)]
