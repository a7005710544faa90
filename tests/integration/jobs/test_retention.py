"""Retention as the scheduler runs it: old stream events dropped a partition at a time, the
drop recorded in the log, and everything that reads older time answering as before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.clock import SimClock
from app.domain.events import NewEvent
from app.domain.generator import GROUPS
from app.domain.retention import RetentionPolicy
from app.services.clock import clock_event
from app.services.retention import RETENTION_TYPE, enforce_retention
from jobs.generate import tick
from tests.conftest import partition_log

STREAM = "support.ticket.escalated"
FORTNIGHT = RetentionPolicy(timedelta(days=14), None)


def fifteen_days_on() -> datetime:
    """A wall clock fifteen days ahead: everything written so far is past a fortnight."""
    return datetime.now(UTC) + timedelta(days=15)


def escalations(hour: datetime, count: int) -> list[NewEvent]:
    return [NewEvent("stream", STREAM, hour + timedelta(minutes=m), STREAM) for m in range(count)]


@pytest.fixture
def three_live_hours(seeded_store, seeded_database, fresh_baseline):
    """Three hours of live escalations (60, 40, 30) after the baseline, with a control event
    at position 61 among them, in partitions of 50 positions. The clock stands three hours
    past the baseline whatever the wall time (the baseline ends at the last 12-hour boundary,
    which may be minutes ago), so all three hours are history."""
    partition_log(seeded_database, 50)
    hour = fresh_baseline.end
    seeded_store.log.append(escalations(hour, 60))
    clock = SimClock(anchor_wall=datetime.now(UTC), anchor_simulated=hour + timedelta(hours=3))
    seeded_store.log.append([clock_event(clock)])
    seeded_store.log.append(escalations(hour + timedelta(hours=1), 40))
    seeded_store.log.append(escalations(hour + timedelta(hours=2), 30))
    seeded_store.log.append([tick(g, hour, hour + timedelta(hours=3)) for g in GROUPS])
    seeded_store.rollup.catch_up()
    return hour


def history(client, start: datetime) -> dict:
    end = start + timedelta(hours=3)
    return client.get(
        f"/api/simulation/history?streams={STREAM}&start={start:%Y-%m-%dT%H:%M:%SZ}"
        f"&end={end:%Y-%m-%dT%H:%M:%SZ}"
    ).json["streams"][STREAM]


def test_old_partitions_go_and_the_log_names_each_range_it_dropped(three_live_hours, seeded_store):
    dropped = enforce_retention(seeded_store, FORTNIGHT, wall=fifteen_days_on).dropped

    assert [(d["firstPosition"], d["lastPosition"], d["reason"]) for d in dropped] == [
        (1, 50, "age"),
        (51, 100, "age"),
    ]
    assert [d["rows"] for d in dropped] == [50, 49]  # position 61 is the control event
    recorded = seeded_store.log.read_after(0, types=[RETENTION_TYPE])
    assert [e.data["lastPosition"] for e in recorded] == [50, 100]
    assert seeded_store.log.size().retained_from == 101


def test_what_retention_drops_history_still_answers_the_same(
    three_live_hours, seeded_store, seeded_client
):
    before = history(seeded_client, three_live_hours)

    enforce_retention(seeded_store, FORTNIGHT, wall=fifteen_days_on)

    assert [p["value"] for p in before] == [60, 40, 30]
    assert history(seeded_client, three_live_hours) == before


def test_control_events_are_kept_whatever_their_age(three_live_hours, seeded_store):
    enforce_retention(seeded_store, FORTNIGHT, wall=fifteen_days_on)

    kept = seeded_store.log.read_after(0, kinds=["control"], types=["control.clock"])
    assert [e.position for e in kept] == [61]


def test_stream_events_the_generator_may_read_back_are_kept(three_live_hours, seeded_store):
    run = enforce_retention(
        seeded_store,
        FORTNIGHT,
        wall=fifteen_days_on,
        read_back_from=three_live_hours + timedelta(minutes=30),
    )

    assert run.dropped == []  # the first partition's newest escalation is at 00:49
    assert run.held_back == 2


def test_nothing_goes_before_retention_is_due_or_without_a_policy(three_live_hours, seeded_store):
    assert enforce_retention(seeded_store, FORTNIGHT).dropped == []
    assert (
        enforce_retention(seeded_store, RetentionPolicy(None, None), wall=fifteen_days_on).dropped
        == []
    )
    assert seeded_store.log.size().retained_from == 1


def test_the_state_and_metrics_report_the_log_and_its_retention(
    three_live_hours, seeded_store, seeded_client
):
    enforce_retention(seeded_store, FORTNIGHT, wall=fifteen_days_on)

    log = seeded_client.get("/api/simulation/state").json["log"]
    metrics = seeded_client.get("/metrics").get_data(as_text=True)

    assert log["retainedFrom"] == 101
    assert log["oldestStreamEvent"]["position"] == 101
    assert log["retention"] == {"maxAgeSeconds": 14 * 86400.0, "maxBytes": None}
    assert log["bytes"] > 0
    assert "marketsim_log_retained_from_position 101.0" in metrics
    assert "marketsim_log_retention_seconds 1.2096e+06" in metrics
