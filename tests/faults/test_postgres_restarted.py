"""Postgres restarted (`pg_ctl stop -m fast`, down for a few seconds, then started again on
the same socket) while the generator writes at a fast clock and a client follows the feed:
the web process and the scheduler reconnect by themselves, and the client ends up with exactly
the log's events."""

from __future__ import annotations

import time

import pytest

from tests.faults.harness import (
    Processes,
    assert_contiguous,
    http_status,
    received_and_owed,
    start_following,
    start_generating,
    wait_for,
)

SPEED = 300.0
"""About 1,200 events a second into the log and to the client: load, on two cores shared with
gunicorn, the scheduler and the client."""
DOWNTIME = 3.0
"""Seconds Postgres stays down: longer than the scheduler's lock check and retry intervals and
the feed listener's first backoffs, so that every process sees the failure."""
RECOVERY_BOUND = 20.0
"""Seconds after Postgres is back within which each process must be working again; measured
at 0.1-0.2 s (web), 3-4 s (scheduler), under 1 s (feed)."""


@pytest.mark.slow
def test_web_and_scheduler_reconnect_after_a_postgres_restart_and_the_client_misses_nothing(
    restartable_postgres, fresh_baseline, processes: Processes
):
    log, scheduler, web = start_generating(
        processes, restartable_postgres.url, fresh_baseline.end, SPEED
    )
    client, since = start_following(processes, log, web)
    loaded = log.head()
    wait_for(lambda: log.ticks_after(loaded)["high"] >= 2, 30, "generation under way")

    before = log.head()
    answers: list[int | None] = []
    down = time.monotonic()
    restartable_postgres.stop()
    while time.monotonic() - down < DOWNTIME:  # the outage: the web says so, and answers
        answers.append(http_status(f"{web.url}/readyz", timeout=5))
        time.sleep(0.2)
    restartable_postgres.start()
    up = time.monotonic()

    def web_answers() -> bool:
        return (
            http_status(f"{web.url}/readyz") == 200
            and http_status(f"{web.url}/api/simulation/state") == 200
        )

    web_back = wait_for(web_answers, RECOVERY_BOUND, "web answering again")
    scheduler_back = wait_for(
        lambda: log.ticks_after(before)["high"] > 0, RECOVERY_BOUND, "generation resumed"
    )
    feed_back = wait_for(lambda: client.last() > before, RECOVERY_BOUND, "the feed flowing")
    resumed = log.head()
    wait_for(lambda: log.ticks_after(resumed)["high"] >= 2, 30, "generation going on")
    print(
        f"postgres down {up - down:.1f} s; once back: web {web_back:.1f} s, "
        f"scheduler {scheduler_back:.1f} s, feed {feed_back:.1f} s"
    )

    received, owed = received_and_owed(log, scheduler, client, since)

    assert answers and set(answers) == {503}
    assert web.process.running
    assert len(owed) > 5_000
    assert received == owed
    assert_contiguous(log.ticks(), fresh_baseline.end)
    assert log.dangling_causes() == []
