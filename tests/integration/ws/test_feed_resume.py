"""Snapshots and resumes: by position (from memory and from the log) and by time, exactly the
missing events; across a reset, an explicit `recovered: false`."""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.ws.feedclient import (
    HIGH_CUSTOMER,
    HIGH_SESSION,
    MEDIUM_CUSTOMER,
    MEDIUM_TUTOR,
    T0,
    notice,
    positions,
    received_events,
    round_robin,
    stream_event,
)


def no_log_reads(*args, **kwargs):
    raise AssertionError("this should have been served from memory, without a query")


def test_a_subscribe_without_a_token_gets_the_last_ten_events_of_each_stream(feed_server, store):
    store.log.append(round_robin([HIGH_CUSTOMER, MEDIUM_CUSTOMER, MEDIUM_TUTOR], 60))
    server = feed_server()  # warms its buffer from the log at start
    store.log.append(round_robin([HIGH_CUSTOMER], 3, start=60))  # and keeps it current
    server.wait_for_position(63)

    client = server.connect()
    subscribed = client.subscribe("customer.*")
    snapshot = client.next("snapshot")

    assert subscribed["position"] == snapshot["position"] == 63
    assert subscribed["recovered"] is None
    by_stream: dict[str, list[int]] = {}
    for event in snapshot["events"]:
        by_stream.setdefault(event["stream"], []).append(event["position"])
    assert by_stream == {
        HIGH_CUSTOMER: [40, 43, 46, 49, 52, 55, 58, 61, 62, 63],
        MEDIUM_CUSTOMER: [32, 35, 38, 41, 44, 47, 50, 53, 56, 59],
    }


def test_snapshots_come_from_memory_even_when_no_client_was_connected(
    feed_server, store, monkeypatch
):
    server = feed_server()
    batch = store.log.append(round_robin([HIGH_SESSION], 12))
    server.wait_for_position(batch.last_position)
    monkeypatch.setattr(server.hub.reads, "read_range", no_log_reads)
    monkeypatch.setattr(server.hub.reads, "latest_per_stream", no_log_reads)

    client = server.connect()
    client.subscribe(HIGH_SESSION)
    snapshot = client.next("snapshot")

    assert positions(snapshot["events"]) == list(range(3, 13))


def test_resume_by_position_within_the_window_is_served_from_memory(
    feed_server, store, monkeypatch
):
    server = feed_server()
    first = store.log.append(round_robin([HIGH_CUSTOMER, MEDIUM_TUTOR], 20))
    server.wait_for_position(first.last_position)
    monkeypatch.setattr(server.hub.reads, "read_range", no_log_reads)

    client = server.connect()
    subscribed = client.subscribe("*", lastEventId=7)
    done = client.catchup()

    assert subscribed["recovered"] is True
    assert done["done"] is True and done["recovered"] is True
    assert positions(received_events(client.frames)) == list(range(8, 21))
    later = store.log.append(round_robin([HIGH_CUSTOMER], 3, start=20))
    assert positions(client.events_through(later.last_position)) == list(range(8, 24))


def test_resume_by_position_beyond_the_window_reads_exactly_the_missing_events_from_the_log(
    feed_server, store
):
    store.log.append(round_robin([HIGH_CUSTOMER, MEDIUM_TUTOR, HIGH_SESSION], 90))
    server = feed_server(page_size=25)  # the buffer starts at 90: 30 is before its floor
    store.log.append([notice("scenario", "scenario.activated", 90)])
    later = store.log.append(round_robin([HIGH_CUSTOMER, MEDIUM_TUTOR, HIGH_SESSION], 9, start=91))
    server.wait_for_position(later.last_position)

    client = server.connect()
    client.subscribe("customer.*", MEDIUM_TUTOR, lastEventId=30)
    done = client.catchup()

    # session.started was every third event: at p % 3 == 0 up to 90, p % 3 == 1 after the notice
    wanted = [p for p in range(31, 91) if p % 3] + [91] + [p for p in range(92, 101) if p % 3 != 1]
    assert positions(received_events(client.frames)) == wanted
    assert done["position"] == 100
    catchups = [f for f in client.frames if f["type"] == "catchup"]
    assert len(catchups) >= 3  # pages of 25 rows, then the closing frame
    assert all(len(f["events"]) <= 25 for f in catchups)


def test_resume_by_timestamp_delivers_the_events_that_occurred_after_it(feed_server, store):
    store.log.append(round_robin([HIGH_CUSTOMER, MEDIUM_TUTOR], 40))
    server = feed_server()
    client = server.connect()
    seen = client.subscribe("*", lastTimestamp="2026-11-25T12:00:29Z")
    client.catchup()

    assert seen["recovered"] is True
    assert positions(received_events(client.frames)) == list(range(31, 41))
    timestamps = [e["occurredAt"] for e in received_events(client.frames)]
    assert timestamps[0] == "2026-11-25T12:00:30Z"


def test_an_occurred_at_sent_back_as_last_timestamp_resumes_right_after_that_event(
    feed_server, store
):
    moments = [T0 + timedelta(seconds=i, microseconds=123457) for i in range(10)]
    store.log.append([stream_event(HIGH_SESSION, i, occurred_at=m) for i, m in enumerate(moments)])
    server = feed_server()
    first = server.connect()
    first.subscribe(HIGH_SESSION)
    last_seen = first.next("snapshot")["events"][4]

    again = server.connect()
    again.subscribe(HIGH_SESSION, lastTimestamp=last_seen["occurredAt"])
    again.catchup()

    assert positions(received_events(again.frames)) == list(range(last_seen["position"] + 1, 11))


def test_a_position_from_an_earlier_epoch_gets_the_snapshot_of_the_current_one(feed_server, store):
    store.log.append(round_robin([HIGH_CUSTOMER], 10))
    store.log.append([notice("control", "control.reset", 10)])  # position 11 opens epoch 2
    store.log.append(round_robin([HIGH_CUSTOMER], 3, start=11))
    server = feed_server()

    client = server.connect()
    subscribed = client.subscribe(HIGH_CUSTOMER, lastEventId=5)
    snapshot = client.next("snapshot")

    assert subscribed["recovered"] is False
    assert subscribed["reason"] == "epoch_changed"
    assert snapshot["recovered"] is False and snapshot["reason"] == "epoch_changed"
    assert snapshot["epoch"] == subscribed["epoch"] == 2
    assert positions(snapshot["events"]) == [12, 13, 14]

    from_reset = server.connect()
    assert from_reset.subscribe(HIGH_CUSTOMER, lastEventId=11)["recovered"] is True


def test_a_position_beyond_the_newest_is_unknown(feed_server, store):
    store.log.append(round_robin([HIGH_CUSTOMER], 5))
    server = feed_server()
    client = server.connect()
    subscribed = client.subscribe(HIGH_CUSTOMER, lastEventId=999)
    snapshot = client.next("snapshot")
    assert (subscribed["recovered"], subscribed["reason"]) == (False, "unknown_position")
    assert positions(snapshot["events"]) == [1, 2, 3, 4, 5]


def test_a_reset_reaches_live_clients_as_a_control_notice_with_the_new_epoch(feed_server, store):
    server = feed_server()
    client = server.connect()
    client.subscribe(HIGH_CUSTOMER)
    client.next("snapshot")
    store.log.append([stream_event(HIGH_CUSTOMER, 0)])
    reset = store.log.append(
        [notice("control", "control.reset", 1), stream_event(HIGH_CUSTOMER, 2)]
    )

    client.events_through(reset.last_position)
    control = next(f for f in client.frames if f["type"] == "control")
    assert (control["epoch"], control["event"]["type"]) == (2, "control.reset")
    last = [f for f in client.frames if f["type"] == "events"][-1]
    assert last["epoch"] == 2


def test_a_second_subscribe_adds_topics_with_their_snapshot_and_repeats_nothing(feed_server, store):
    store.log.append(round_robin([HIGH_CUSTOMER, MEDIUM_TUTOR], 8))
    server = feed_server()
    client = server.connect()
    client.subscribe(HIGH_CUSTOMER)
    assert positions(client.next("snapshot")["events"]) == [1, 3, 5, 7]
    store.log.append(round_robin([HIGH_CUSTOMER, MEDIUM_TUTOR], 2, start=8))
    client.events_through(9)

    added = client.subscribe(HIGH_CUSTOMER, MEDIUM_TUTOR)
    snapshot = client.next("snapshot")
    later = store.log.append(round_robin([HIGH_CUSTOMER, MEDIUM_TUTOR], 2, start=10))
    client.events_through(later.last_position)

    assert added["added"] == [MEDIUM_TUTOR]
    assert positions(snapshot["events"]) == [2, 4, 6, 8, 10]
    everything = positions(received_events(client.frames))
    assert sorted(everything) == list(range(1, 13))
    assert len(everything) == len(set(everything))


@pytest.mark.slow
def test_catchup_and_live_neither_skip_nor_repeat_while_events_keep_coming(feed_server, store):
    server = feed_server(buffer_seconds=0.3)  # resumes land both in memory and in the log
    store.log.append(round_robin([HIGH_CUSTOMER, HIGH_SESSION], 50))
    stop = threading.Event()
    written = []

    def write() -> None:
        index = 50
        while not stop.is_set():
            size = random.randint(1, 6)
            written.append(
                store.log.append(round_robin([HIGH_CUSTOMER, HIGH_SESSION], size, index))
            )
            index += size
            time.sleep(random.uniform(0, 0.01))

    writer = threading.Thread(target=write)
    writer.start()
    clients = []
    try:
        for _ in range(12):
            time.sleep(random.uniform(0.02, 0.15))
            resume_from = random.randint(0, server.hub.position)
            client = server.connect()
            client.subscribe("*", lastEventId=resume_from)
            clients.append((resume_from, client))
    finally:
        stop.set()
        writer.join()

    last = written[-1].last_position
    for resume_from, client in clients:
        got = positions(client.events_through(last, timeout=10))
        assert got == list(range(resume_from + 1, last + 1)), resume_from


def test_a_position_whose_followers_retention_dropped_gets_a_snapshot(
    feed_server, store, database_url
):
    from app.domain.retention import RetentionPolicy
    from app.services.retention import enforce_retention
    from tests.conftest import partition_log

    partition_log(database_url, 10)
    store.log.append(round_robin([HIGH_CUSTOMER], 25))
    store.rollup.catch_up()
    enforce_retention(
        store,
        RetentionPolicy(timedelta(days=14), None),
        wall=lambda: datetime.now(UTC) + timedelta(days=15),
    )
    server = feed_server()

    client = server.connect()
    subscribed = client.subscribe(HIGH_CUSTOMER, lastEventId=5)
    snapshot = client.next("snapshot")

    assert (subscribed["recovered"], subscribed["reason"]) == (False, "retention")
    assert snapshot["recovered"] is False and snapshot["reason"] == "retention"
    assert positions(snapshot["events"])[-1] == 25
    from_kept = server.connect()
    assert from_kept.subscribe(HIGH_CUSTOMER, lastEventId=20)["recovered"] is True
    from_kept.catchup()
    assert positions(received_events(from_kept.frames)) == [21, 22, 23, 24, 25]


def test_a_resume_from_far_back_while_the_log_grows_gets_every_event_and_goes_live(
    feed_server, store
):
    server = feed_server(queue_limit=2000, page_size=500, buffer_events=5000)
    backlog = store.log.append(round_robin([HIGH_CUSTOMER, HIGH_SESSION], 20_000)).last_position
    server.wait_for_position(backlog)
    stop = threading.Event()

    def keep_appending() -> None:
        index = backlog
        while not stop.is_set():
            store.log.append(round_robin([HIGH_CUSTOMER], 100, start=index))
            index += 100
            time.sleep(0.02)

    writer = threading.Thread(target=keep_appending)
    writer.start()
    try:
        client = server.connect()
        client.subscribe("*", lastEventId=1)
        client.catchup(timeout=60)
        deadline = time.monotonic() + 60
        while server.hub.stats()["readingLog"] and time.monotonic() < deadline:
            client.recv(timeout=10)  # reading on: the client paces its own catch-up
    finally:
        stop.set()
        writer.join()

    assert server.hub.stats()["readingLog"] == 0  # live again
    last = store.log.last_position()
    assert positions(client.events_through(last, timeout=30)) == list(range(2, last + 1))
    assert not [f for f in client.frames if f["type"] == "overflow"]
