"""Batching, the message rate limit and the heartbeat, on plain numbers for time."""

from __future__ import annotations

import itertools

from app.ws.policy import Batcher, Heartbeat, MessageBucket


def test_events_go_at_once_when_nothing_was_sent_for_a_window():
    batcher = Batcher(0.1)
    assert batcher.ready(0.0)
    batcher.flushed(0.0)
    assert batcher.ready(0.5)


def test_events_soon_after_a_send_wait_for_the_window_to_end():
    batcher = Batcher(0.1, slack=0.1)
    batcher.flushed(10.0)
    assert not batcher.ready(10.03)
    assert batcher.due_at() == 10.09
    assert batcher.ready(10.09)


def test_full_frames_leave_the_window_open_for_a_bursts_last_partial_page():
    batcher = Batcher(0.1)
    for page in range(7):  # a burst read a page at a time, 11 ms a page: full frames
        now = 5.0 + page * 0.011
        assert batcher.ready(now)
        batcher.flushed(now, full=True)
    assert batcher.ready(5.08)  # its last, partial page goes as soon as it is read
    batcher.flushed(5.08)
    assert not batcher.ready(5.1)  # and a partial frame does open a window
    assert batcher.due_at() == 5.08 + 0.09


def test_a_source_at_the_window_rate_keeps_its_latency_instead_of_drifting():
    batcher = Batcher(0.1)
    wake_up = 0.001  # each delayed send happens a little after the window ends
    latencies = []
    for tick in range(200):
        arrived = tick * 0.1 + 0.0005 * (tick % 3 - 1)  # a steady 10/s source, with jitter
        sent = arrived if batcher.ready(arrived) else batcher.due_at() + wake_up
        batcher.flushed(sent)
        latencies.append(sent - arrived)
    assert max(latencies) < 0.005


def test_frames_stay_a_window_apart_under_a_constant_stream():
    batcher = Batcher(0.1)
    sends = []
    now = 0.0
    while now < 2.0:  # an event every 10 ms
        if batcher.ready(now):
            batcher.flushed(now)
            sends.append(now)
        now = round(now + 0.01, 3)
    gaps = [b - a for a, b in itertools.pairwise(sends)]
    assert all(0.09 - 1e-9 <= gap <= 0.1 + 1e-9 for gap in gaps)


def test_the_rate_limit_allows_a_burst_then_the_steady_rate():
    limiter = MessageBucket(rate=20, burst=20)
    assert all(limiter.allow(0.0) for _ in range(20))
    assert not limiter.allow(0.0)
    assert limiter.allow(0.05)  # one token back after 1/20 s
    assert not limiter.allow(0.05)
    assert sum(limiter.allow(10.0) for _ in range(30)) == 20  # never more than the burst


def heartbeat(now: float = 0.0, ping: float | None = 30.0) -> Heartbeat:
    return Heartbeat(now, ping_interval=ping, pong_timeout=10.0, stale_timeout=90.0)


def test_a_ping_is_due_every_interval():
    beat = heartbeat()
    assert not beat.ping_due(29.9)
    assert beat.ping_due(30.0)
    beat.pinged(30.0)
    assert not beat.ping_due(59.0)
    assert beat.ping_due(60.0)


def test_a_ping_without_a_pong_in_time_drops_the_connection():
    beat = heartbeat()
    beat.pinged(30.0)
    beat.received(35.0)  # a message is not a pong: it does not prove the client reads
    assert beat.verdict(39.9) is None
    assert beat.next_deadline() == 40.0
    assert beat.verdict(40.0) == Heartbeat.PONG_TIMEOUT


def test_a_pong_in_time_keeps_the_connection():
    beat = heartbeat()
    beat.pinged(30.0)
    beat.ponged(31.0)
    assert beat.verdict(45.0) is None
    beat.pinged(60.0)
    beat.ponged(61.0)
    assert beat.verdict(100.0) is None


def test_a_connection_silent_for_the_stale_timeout_is_dropped():
    beat = heartbeat(ping=None)
    assert beat.next_deadline() == 90.0
    beat.received(50.0)
    assert beat.verdict(139.0) is None
    assert beat.verdict(140.0) == Heartbeat.STALE


def test_time_spent_sending_a_catch_up_is_not_counted_as_the_clients_silence():
    beat = heartbeat()
    beat.pinged(30.0)
    beat.stood_still(120.0)  # a catch-up from 30 s to 150 s: no message read, no ping sent
    assert beat.verdict(150.0) is None
    assert beat.ping_due(150.0)  # the ping that came due meanwhile goes out now
    assert beat.verdict(160.0) == Heartbeat.PONG_TIMEOUT  # the pong owed is still owed
    beat.ponged(155.0)
    assert beat.verdict(209.9) is None
    assert beat.verdict(245.0) == Heartbeat.STALE  # silent since 155 s, 90 s on
