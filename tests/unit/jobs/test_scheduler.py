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


class Clocked:
    """What `_follow_speed` reads of the live generation: the clock's speed and the catalog."""

    def __init__(self, catalog, speed: float) -> None:
        self.simulation = self
        self.catalog = catalog
        self.speed = speed

    def clock(self):
        return self


def test_the_groups_jobs_are_rescheduled_when_the_clock_changes_speed(catalog):
    from apscheduler.schedulers.background import BackgroundScheduler

    from app.settings import Settings
    from jobs.scheduler import Scheduler

    scheduler = Scheduler(Settings(), "postgresql://unused")
    jobs = BackgroundScheduler(timezone=UTC)
    for group in ("high", "medium", "low"):
        jobs.add_job(
            print, "interval", **scheduler._interval(catalog, group), id=f"generate-{group}"
        )
    scheduler._jobs = jobs

    scheduler._follow_speed(Clocked(catalog, 60.0))

    low = jobs.get_job("generate-low").trigger
    assert (low.interval.total_seconds(), low.jitter) == (45.0, 15.0)  # 30-60 wall seconds
    medium = jobs.get_job("generate-medium").trigger
    assert (medium.interval.total_seconds(), medium.jitter) == (3.0, 2.0)  # 1-5 wall seconds
