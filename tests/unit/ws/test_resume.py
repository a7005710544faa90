"""Where a subscribe's first events come from, and when the resume is not whole."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.ws.resume import Reason, ResumePlan, Retained, Source, plan_resume


def plan(last_event_id=None, last_timestamp=None, retained=None) -> ResumePlan:
    return plan_resume(
        last_event_id=last_event_id,
        last_timestamp=last_timestamp,
        head=100,
        epoch_start=40,
        buffer_floor=80,
        retained=retained,
    )


@pytest.mark.parametrize(
    ("last_event_id", "expected"),
    [
        (None, ResumePlan(Source.SNAPSHOT, None)),
        (100, ResumePlan(Source.MEMORY, True)),
        (80, ResumePlan(Source.MEMORY, True)),
        (79, ResumePlan(Source.LOG, True)),
        (40, ResumePlan(Source.LOG, True)),  # the reset itself belongs to the current epoch
        (39, ResumePlan(Source.SNAPSHOT, False, Reason.EPOCH_CHANGED)),
        (0, ResumePlan(Source.SNAPSHOT, False, Reason.EPOCH_CHANGED)),
        (101, ResumePlan(Source.SNAPSHOT, False, Reason.UNKNOWN_POSITION)),
    ],
)
def test_a_position_resumes_from_memory_the_log_or_not_at_all(last_event_id, expected):
    assert plan(last_event_id) == expected


def test_a_time_resumes_from_the_log():
    assert plan(last_timestamp=datetime(2026, 11, 25, tzinfo=UTC)) == ResumePlan(Source.TIME, True)


def test_position_zero_in_the_first_epoch_replays_the_whole_log():
    first_epoch = plan_resume(
        last_event_id=0, last_timestamp=None, head=10, epoch_start=0, buffer_floor=10
    )
    assert first_epoch == ResumePlan(Source.LOG, True)


RETAINED = Retained(61, datetime(2026, 11, 20, tzinfo=UTC))
"""Retention dropped the stream events of positions 1 to 60."""


@pytest.mark.parametrize(
    ("last_event_id", "expected"),
    [
        (60, ResumePlan(Source.LOG, True)),
        (59, ResumePlan(Source.SNAPSHOT, False, Reason.RETENTION)),
        (41, ResumePlan(Source.SNAPSHOT, False, Reason.RETENTION)),
        (39, ResumePlan(Source.SNAPSHOT, False, Reason.EPOCH_CHANGED)),
    ],
)
def test_a_position_whose_followers_retention_dropped_gets_a_snapshot(last_event_id, expected):
    assert plan(last_event_id, retained=RETAINED) == expected


def test_a_time_before_the_oldest_retained_event_gets_a_snapshot():
    before = datetime(2026, 11, 19, tzinfo=UTC)
    after = datetime(2026, 11, 21, tzinfo=UTC)

    assert plan(last_timestamp=before, retained=RETAINED).reason == Reason.RETENTION
    assert plan(last_timestamp=after, retained=RETAINED) == ResumePlan(Source.TIME, True)
