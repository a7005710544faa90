"""Whether live generation is catching up, read from how far each cadence group has got."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.domain.catchup import CatchUpReport, progress

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)


def test_groups_as_far_behind_as_their_cadence_are_not_catching_up(catalog):
    frontiers = {
        "high": NOW - timedelta(seconds=8),
        "medium": NOW - timedelta(minutes=5),
        "low": NOW - timedelta(minutes=70),
    }

    found = progress(frontiers, NOW, 1.0, catalog.cadences)

    assert not found.catching_up
    assert found.behind == timedelta(minutes=70)


def test_hours_behind_at_1x_is_catching_up_but_not_at_3600x(catalog):
    frontiers = {group: NOW - timedelta(hours=6) for group in ("high", "medium", "low")}

    assert progress(frontiers, NOW, 1.0, catalog.cadences).catching_up
    assert not progress(frontiers, NOW, 3600.0, catalog.cadences).catching_up


def test_a_catch_up_says_the_hours_done_the_pace_and_the_time_left():
    report = CatchUpReport(
        start=NOW - timedelta(hours=10),
        reached=NOW - timedelta(hours=6),
        target=NOW,
        events=120_000,
        elapsed=8.0,
    )

    assert report.line() == (
        "catching up: 4.0 of 10.0 simulated hours, 120,000 events (15,000/s), about 12 s left"
    )
