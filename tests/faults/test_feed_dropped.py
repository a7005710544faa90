"""The feed dropped while the generator writes at a fast clock: first its LISTEN connection
cut under it (`pg_terminate_backend`), then the whole web process killed (`kill -9`) and started
again. Generation never waits for the feed, and a client that comes back resumes from its last
position with nothing missing and nothing twice."""

from __future__ import annotations

import time

import pytest

from tests.faults.harness import (
    Processes,
    assert_contiguous,
    received_and_owed,
    start_following,
    start_generating,
    wait_for,
)

SPEED = 300.0
RECOVERY_BOUND = 20.0
"""Seconds within which the feed must flow again: after the LISTEN connection is cut (measured
under 1 s), and after the web is back (measured 1-8 s: the client's own backoff, which has
reached 4 or 8 s by then)."""


@pytest.mark.slow
def test_generation_goes_on_while_the_feed_is_down_and_the_client_resumes_with_no_gap(
    seeded_store, seeded_database, fresh_baseline, processes: Processes
):
    log, scheduler, web = start_generating(processes, seeded_database, fresh_baseline.end, SPEED)
    client, since = start_following(processes, log, web)

    # 1. The hub's LISTEN connection cut: the hub reconnects and reads on from where it was.
    wait_for(log.feed_backends, 10, "the hub listening")
    cut = log.head()
    [listener] = log.feed_backends()
    assert log.value("SELECT pg_terminate_backend(%s)", (listener,))
    relistened = wait_for(
        lambda: log.feed_backends() not in ([], [listener]), RECOVERY_BOUND, "a new LISTEN"
    )
    live_again = wait_for(lambda: client.last() > cut, RECOVERY_BOUND, "events after the cut")

    # 2. The web process killed: no feed at all for a while; generation goes on.
    web.process.kill()
    killed = time.monotonic()
    at_kill = log.head()
    wait_for(lambda: log.ticks_after(at_kill)["high"] >= 2, 30, "generation without a feed")
    grown = log.value(
        "SELECT count(*) FROM event_log WHERE kind = 'stream' AND position > %s", (at_kill,)
    )
    ticked = log.ticks_after(at_kill)
    restarted = processes.web(seeded_database, port=web.port)
    came_back = time.monotonic()
    resumed = wait_for(lambda: client.last() > at_kill, RECOVERY_BOUND, "the client resuming")
    print(
        f"LISTEN again {relistened:.1f} s after the cut, events flowing {live_again:.1f} s; "
        f"web down {came_back - killed:.1f} s; {grown} stream events and {ticked['high']} "
        f"high ticks appended meanwhile; client resumed {resumed:.1f} s after the web was back"
    )

    received, owed = received_and_owed(log, scheduler, client, since)

    assert grown > 0  # stream events, not only ticks
    assert received == owed
    assert restarted.process.running
    notes = client.notes()
    assert "connection lost" in notes, notes
    assert notes.count("resumed * after position") >= 2, notes  # its start, and its return
    assert_contiguous(log.ticks(), fresh_baseline.end)
