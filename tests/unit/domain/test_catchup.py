"""Whether live generation is catching up, read from how far each cadence group has got."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.domain.catchup import CatchUpReport, job_interval, progress

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
    frontiers = {group: NOW - timedelta(hours=3) for group in ("high", "medium", "low")}

    assert progress(frontiers, NOW, 1.0, catalog.cadences).catching_up
    assert not progress(frontiers, NOW, 3600.0, catalog.cadences).catching_up


def test_a_fast_clocks_job_may_take_as_long_as_its_interval_before_it_is_catching_up(catalog):
    # at 1,000x the high group's job runs every 1-2 wall seconds (up to 2.6 with jitter)
    waited_and_ran = timedelta(seconds=(2.6 + 2.0) * 1000)
    frontiers = {"high": NOW - waited_and_ran, "medium": NOW, "low": NOW}

    assert not progress(frontiers, NOW, 1000.0, catalog.cadences).catching_up
    frontiers["high"] = NOW - 2 * waited_and_ran
    assert progress(frontiers, NOW, 1000.0, catalog.cadences).catching_up


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


def test_a_groups_job_runs_at_its_cadence_in_simulated_time_but_never_above_the_fastests(
    catalog,
):
    cadences = catalog.cadences

    assert job_interval(cadences["high"], cadences, 1.0) == (1.0, 10.0)
    assert job_interval(cadences["medium"], cadences, 1.0) == (60.0, 300.0)
    assert job_interval(cadences["low"], cadences, 1.0) == (1800.0, 3600.0)
    assert job_interval(cadences["low"], cadences, 60.0) == (30.0, 60.0)
    assert job_interval(cadences["medium"], cadences, 60.0) == (1.0, 5.0)
    assert job_interval(cadences["low"], cadences, 1000.0) == (1.8, 3.6)


def test_at_a_fast_clock_jobs_run_every_one_to_two_seconds_so_commits_stay_small(catalog):
    cadences = catalog.cadences

    assert job_interval(cadences["high"], cadences, 60.0) == (1.0, 2.0)
    assert job_interval(cadences["high"], cadences, 1000.0) == (1.0, 2.0)
    assert job_interval(cadences["medium"], cadences, 3600.0) == (1.0, 2.0)


def test_the_low_group_two_simulated_hours_behind_at_1000x_is_on_time(catalog):
    frontiers = {"high": NOW, "medium": NOW, "low": NOW - timedelta(hours=2)}

    assert not progress(frontiers, NOW, 1000.0, catalog.cadences).catching_up
    frontiers["low"] = NOW - timedelta(days=2)
    assert progress(frontiers, NOW, 1000.0, catalog.cadences).catching_up
