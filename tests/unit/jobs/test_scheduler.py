"""The scheduler's log says what generation did once a minute, not once a job."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jobs.scheduler import GenerationSummary

T0 = datetime(2026, 12, 3, 12, tzinfo=UTC)


def test_the_jobs_of_a_minute_make_one_line():
    now = [0.0]
    summary = GenerationSummary(every=60.0, clock=lambda: now[0])

    lines = []
    for second in range(0, 65, 5):
        now[0] = float(second)
        lines.append(summary.add("high", 100, T0 + timedelta(minutes=second)))
    now[0] = 70.0
    lines.append(summary.add("medium", 40, T0 + timedelta(minutes=30)))

    said = [line for line in lines if line]
    assert said == [
        "generated 1300 events in the last 60 s (high 1300), up to 2026-12-03T13:00:00Z"
    ]
    assert summary.events == {"medium": 40}
