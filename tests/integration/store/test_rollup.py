"""The hourly rollup follows the log by position: every stream event counted once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from app.domain.events import NewEvent

HOUR0 = datetime(2026, 11, 20, 10, tzinfo=UTC)


def stream_event(stream: str, at: datetime, value: float | None = None) -> NewEvent:
    return NewEvent(kind="stream", type=stream, stream=stream, occurred_at=at, value=value)


def totals(store, epoch: int = 1):
    rows = store.rollup.read(
        epoch, ["session.started", "system.api.latency"], HOUR0, HOUR0 + timedelta(hours=3)
    )
    return {(r.stream, r.hour.hour): (r.events, r.mean_value) for r in rows}


def test_stream_events_fold_into_counts_and_mean_values_per_hour(store):
    store.log.append(
        [
            stream_event("session.started", HOUR0 + timedelta(minutes=5)),
            stream_event("session.started", HOUR0 + timedelta(minutes=55)),
            stream_event("session.started", HOUR0 + timedelta(hours=1, minutes=1)),
            stream_event("system.api.latency", HOUR0 + timedelta(minutes=3), value=100.0),
            stream_event("system.api.latency", HOUR0 + timedelta(minutes=33), value=200.0),
            NewEvent(kind="scenario", type="scenario.activated", occurred_at=HOUR0),
        ]
    )

    assert store.rollup.catch_up() == 6
    assert totals(store) == {
        ("session.started", 10): (2, None),
        ("session.started", 11): (1, None),
        ("system.api.latency", 10): (2, 150.0),
    }


def test_catching_up_again_counts_only_what_is_new(store):
    store.log.append([stream_event("session.started", HOUR0)])
    store.rollup.catch_up()
    store.rollup.catch_up()
    store.log.append([stream_event("session.started", HOUR0)])
    store.rollup.catch_up()

    assert totals(store)[("session.started", 10)] == (2, None)


def test_concurrent_catch_ups_never_count_an_event_twice(store):
    for i in range(20):
        store.log.append([stream_event("session.started", HOUR0 + timedelta(seconds=i))] * 50)
    threads = [threading.Thread(target=store.rollup.catch_up) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert totals(store)[("session.started", 10)] == (1000, None)


def test_epochs_are_kept_apart(store):
    store.log.append(
        [
            stream_event("session.started", HOUR0),
            NewEvent(kind="control", type="control.reset", occurred_at=HOUR0),
            stream_event("session.started", HOUR0),
            stream_event("session.started", HOUR0),
        ]
    )
    store.rollup.catch_up()

    assert totals(store, epoch=1)[("session.started", 10)] == (1, None)
    assert totals(store, epoch=2)[("session.started", 10)] == (2, None)
    assert store.rollup.frontier(2) == HOUR0
