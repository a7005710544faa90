"""The event log: append-only, ordered visibility, epochs, notifications."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import psycopg
import pytest

from app.domain.events import NewEvent, StreamEvent
from app.store.database import connect
from app.store.eventlog import EpochChanged, LogListener

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def booking(i: int = 0, **overrides) -> NewEvent:
    fields = {
        "kind": "stream",
        "type": "customer.booking.requested",
        "stream": "customer.booking.requested",
        "occurred_at": T0 + timedelta(seconds=i),
        "data": {"bookingId": f"bk_{i}", "studentId": "st_1", "tutorId": "tu_1"},
        "value": 112.0,
        "normalized": 51.5,
        "flag": "normal",
        "expected": 108.25,
        "expected_flag": "normal",
    }
    return NewEvent(**(fields | overrides))


def test_append_gives_consecutive_positions_and_reads_back_what_was_written(store):
    appended = store.log.append([booking(i) for i in range(3)])

    assert list(appended.positions) == [1, 2, 3]
    read = store.log.read_after(0)
    assert [e.position for e in read] == [1, 2, 3]
    assert [e.type for e in read] == ["customer.booking.requested"] * 3
    assert (read[0].value, read[0].normalized, read[0].flag) == (112.0, 51.5, "normal")
    assert (read[0].expected, read[0].expected_flag) == (108.25, "normal")
    assert read[0].recorded_at == appended.recorded_at
    assert read[1].data == {"bookingId": "bk_1", "studentId": "st_1", "tutorId": "tu_1"}
    assert read[1].occurred_at == T0 + timedelta(seconds=1)
    assert read[0].epoch == 1


def test_every_body_json_accepts_lands_as_written(store):
    bodies = [
        {"note": "naïve café", "nested": {"list": [1, 2.5, None, True]}},
        {"width": 2**80, "small": -(2**63)},
        {"numpy": np.float64(0.25), "count": np.int64(7)},
    ]
    store.log.append([booking(i, data=body) for i, body in enumerate(bodies)])

    assert [event.data for event in store.log.read_after(0)] == [
        bodies[0],
        {"width": 2**80, "small": -(2**63)},
        {"numpy": 0.25, "count": 7},
    ]


def test_causal_metadata_is_kept(store):
    parent = store.log.append([booking(0)]).first_position
    child = booking(
        1,
        type="customer.booking.confirmed",
        stream="customer.booking.confirmed",
        causation_id=parent,
        correlation_id=parent,
    )
    store.log.append([child])

    stored = store.log.read_after(parent)[0]
    assert (stored.causation_id, stored.correlation_id) == (parent, parent)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE event_log SET value = 0",
        "DELETE FROM event_log",
        "DELETE FROM event_log WHERE position = -1",
        "TRUNCATE event_log",
        "DELETE FROM event_log_stream",
        "DELETE FROM event_log_stream_1",
        "TRUNCATE event_log_stream_1",
        "UPDATE event_log_other SET value = 0",
        "TRUNCATE event_log_other",
    ],
)
def test_the_database_refuses_to_change_or_remove_log_rows(store, database_url, statement):
    store.log.append([booking(0)])

    with connect(database_url) as conn, pytest.raises(psycopg.errors.RestrictViolation) as err:
        conn.execute(statement)

    assert "is append-only" in str(err.value)
    assert [e.value for e in store.log.read_after(0)] == [112.0]


def test_a_reset_opens_a_new_epoch_for_itself_and_what_follows(store):
    store.log.append([booking(0)])
    reset = NewEvent(kind="control", type="control.reset", occurred_at=T0)

    appended = store.log.append([booking(1), reset, booking(2)])

    assert appended.epoch == 2
    assert [e.epoch for e in store.log.read_after(0)] == [1, 1, 2, 2]
    assert store.log.current_epoch() == 2
    assert [e.position for e in store.log.read_after(0, epoch=1)] == [1, 2]


def test_a_writer_that_expects_an_old_epoch_is_refused_and_writes_nothing(store):
    store.log.append([NewEvent(kind="control", type="control.reset", occurred_at=T0)])

    with pytest.raises(EpochChanged):
        store.log.append([booking(0)], expected_epoch=1)

    assert store.log.last_position() == 1
    store.log.append([booking(0)], expected_epoch=2)
    assert store.log.last_position() > 1


def test_readers_filter_by_kind_stream_type_and_time(store):
    store.log.append(
        [
            booking(0),
            booking(1, type="session.completed", stream="session.completed"),
            NewEvent(kind="scenario", type="scenario.activated", occurred_at=T0),
        ]
    )

    assert [e.type for e in store.log.read_after(0, kinds=["scenario"])] == ["scenario.activated"]
    assert [e.position for e in store.log.read_after(0, streams=["session.completed"])] == [2]
    assert [e.position for e in store.log.read_after(0, types=["customer.booking.requested"])] == [
        1
    ]
    window = store.log.read_stream("customer.booking.requested", T0, T0 + timedelta(seconds=1))
    assert [e.position for e in window] == [1]
    assert len(store.log.read_after(0, limit=2)) == 2


def _reader(store, stop: threading.Event, seen: list[int]) -> None:
    """Tail the log the way a subscriber does: always ask for what is after the last seen."""
    last = 0
    while True:
        finished = stop.is_set()
        for event in store.log.read_after(last, limit=500):
            seen.append(event.position)
            last = event.position
        if finished:
            return


def test_concurrent_writers_never_make_a_tailing_reader_skip_or_repeat(store):
    writers, batches, batch_size = 6, 25, 20
    stop = threading.Event()
    seen: list[int] = []
    reader = threading.Thread(target=_reader, args=(store, stop, seen))
    reader.start()

    def write(writer: int) -> None:
        for b in range(batches):
            store.log.append([booking(writer * 10_000 + b * 100 + i) for i in range(batch_size)])

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stop.set()
    reader.join()

    committed = [e.position for e in store.log.read_after(0, limit=100_000)]
    assert len(committed) == writers * batches * batch_size
    assert seen == committed


def test_a_lower_position_in_an_open_transaction_holds_back_later_writers(store):
    held_open = threading.Event()
    release = threading.Event()
    second_done = threading.Event()

    def slow_writer() -> None:
        with store.log.transaction() as writer:
            writer.append([booking(0)])
            held_open.set()
            release.wait(10)

    def fast_writer() -> None:
        store.log.append([booking(1)])
        second_done.set()

    slow = threading.Thread(target=slow_writer)
    slow.start()
    assert held_open.wait(10)
    fast = threading.Thread(target=fast_writer)
    fast.start()

    assert not second_done.wait(0.5), "a higher position committed while a lower one was open"
    assert store.log.read_after(0) == []
    release.set()
    slow.join()
    fast.join()
    assert [e.data["bookingId"] for e in store.log.read_after(0)] == ["bk_0", "bk_1"]


def test_without_the_append_lock_a_tailing_reader_would_skip_a_row(store, database_url):
    """The race the append lock exists for, shown with plain INSERTs that bypass it."""
    insert = (
        "INSERT INTO event_log (epoch, kind, type, occurred_at) "
        "VALUES (1, 'control', 'control.test', now()) RETURNING position"
    )
    with connect(database_url) as lower, connect(database_url) as higher:
        lower_position = lower.execute(insert).fetchone()[0]
        higher_position = higher.execute(insert).fetchone()[0]
        higher.commit()
        first_read = [e.position for e in store.log.read_after(0)]
        lower.commit()

    assert lower_position < higher_position
    assert first_read == [higher_position]
    assert store.log.read_after(higher_position) == []  # the lower row is never seen


def test_an_append_wakes_a_listener_with_the_highest_position(store, database_url):
    listener = LogListener(connect(database_url, autocommit=True))
    try:
        woke: list[int | None] = []
        waiting = threading.Thread(target=lambda: woke.append(listener.wait(timeout=5)))
        waiting.start()
        time.sleep(0.1)
        started = time.monotonic()
        appended = store.log.append([booking(i) for i in range(3)])
        waiting.join()
        assert woke == [appended.last_position]
        assert time.monotonic() - started < 1
    finally:
        listener.close()


def test_a_listener_times_out_when_nothing_is_appended(database_url):
    listener = LogListener(connect(database_url, autocommit=True))
    try:
        assert listener.wait(timeout=0.2) is None
    finally:
        listener.close()


def test_recorded_at_is_when_each_append_wrote_its_rows_not_when_its_transaction_began(store):
    with store.log.transaction() as writer:
        first = writer.append([booking(0)])
        time.sleep(0.2)
        second = writer.append([booking(1)])

    assert second.recorded_at - first.recorded_at >= timedelta(seconds=0.2)
    assert [e.recorded_at for e in store.log.read_after(0)] == [
        first.recorded_at,
        second.recorded_at,
    ]


def generated(i: int, **overrides) -> StreamEvent:
    event = booking(i, causation_id=i or None, correlation_id=7, **overrides)
    return StreamEvent(
        event.stream, event.occurred_at, event.data, event.value, event.normalized, event.flag,
        event.causation_id, event.correlation_id, event.expected, event.expected_flag,
        event.delivery,
    )  # fmt: skip


def test_generated_events_appended_behind_the_caller_land_as_appended_events_do(store):
    with store.log.transaction() as writer:
        behind = writer.append_stream([generated(i) for i in range(3)], expected_epoch=1)
        after = writer.append([booking(3)])

    assert list(behind.positions) == [1, 2, 3]
    assert after.first_position == 4
    read = store.log.read_after(0)
    assert [(e.kind, e.type, e.stream) for e in read[:3]] == [
        ("stream", "customer.booking.requested", "customer.booking.requested")
    ] * 3
    assert [(e.causation_id, e.correlation_id) for e in read[:3]] == [(None, 7), (1, 7), (2, 7)]
    assert (read[1].value, read[1].normalized, read[1].flag) == (112.0, 51.5, "normal")
    assert (read[1].expected, read[1].expected_flag) == (108.25, "normal")
    assert read[1].data == {"bookingId": "bk_1", "studentId": "st_1", "tutorId": "tu_1"}
    assert read[1].recorded_at == behind.recorded_at
    assert read[1].delivery is None


def test_a_fault_of_delivery_on_generated_events_is_recorded_on_their_rows(store):
    late = {"fault": "late", "delaySeconds": 600}
    with store.log.transaction() as writer:
        writer.append_stream([generated(0), generated(1, delivery=late)], expected_epoch=1)

    assert [e.delivery for e in store.log.read_after(0)] == [None, late]


def test_a_generated_append_that_fails_fails_its_transaction_and_records_nothing(store):
    store.log.append([booking(0)])
    unwritable = {"when": object()}

    with pytest.raises(TypeError), store.log.transaction() as writer:
        writer.append_stream([generated(1), generated(2, data=unwritable)], expected_epoch=1)

    assert [e.position for e in store.log.read_after(0)] == [1]
    assert store.log.append([booking(3)]).first_position > 1


def test_a_transaction_that_fails_while_its_rows_are_copied_records_nothing(store):
    with pytest.raises(RuntimeError, match="the caller failed"), store.log.transaction() as w:
        w.append_stream([generated(i) for i in range(1000)], expected_epoch=1)
        raise RuntimeError("the caller failed")

    assert store.log.read_after(0) == []


def test_rounds_of_generated_events_take_consecutive_positions_and_later_appends_follow(store):
    with store.log.transaction() as writer:
        rounds = [
            writer.append_stream([generated(i) for i in range(start, start + 4)], expected_epoch=1)
            for start in (0, 4, 8)
        ]
    after = store.log.append([booking(12)])

    assert [(r.first_position, r.last_position) for r in rounds] == [(1, 4), (5, 8), (9, 12)]
    assert after.first_position == 13
    assert [e.position for e in store.log.read_after(0)] == list(range(1, 14))


def test_rounds_recorded_at_say_when_each_was_written(store):
    with store.log.transaction() as writer:
        first = writer.append_stream([generated(0)], expected_epoch=1)
        time.sleep(0.2)
        second = writer.append_stream([generated(1)], expected_epoch=1)

    assert second.recorded_at - first.recorded_at >= timedelta(seconds=0.2)
    assert [e.recorded_at for e in store.log.read_after(0)] == [
        first.recorded_at,
        second.recorded_at,
    ]


def test_a_listener_is_woken_with_the_last_position_of_generated_rounds(store, database_url):
    listener = LogListener(connect(database_url, autocommit=True))
    try:
        with store.log.transaction() as writer:
            writer.append_stream([generated(i) for i in range(3)], expected_epoch=1)
            appended = writer.append_stream([generated(3)], expected_epoch=1)

        assert listener.wait(timeout=5) == appended.last_position == 4
    finally:
        listener.close()


def test_appends_after_a_reset_in_the_same_transaction_belong_to_its_epoch(store):
    with store.log.transaction() as writer:
        writer.append([booking(0)])
        reset = writer.append([NewEvent(kind="control", type="control.reset", occurred_at=T0)])
        after = writer.append([booking(1)], expected_epoch=2)

    assert (reset.epoch, after.epoch) == (2, 2)
    assert [e.epoch for e in store.log.read_after(0)] == [1, 2, 2]


def test_generated_events_are_refused_after_a_reset_in_the_same_transaction(store):
    with pytest.raises(EpochChanged), store.log.transaction() as writer:
        writer.append([NewEvent(kind="control", type="control.reset", occurred_at=T0)])
        writer.append_stream([generated(0)], expected_epoch=1)

    assert store.log.read_after(0) == []


def test_generated_events_are_refused_for_an_epoch_their_generator_has_not_seen(store):
    store.log.append([NewEvent(kind="control", type="control.reset", occurred_at=T0)])

    with pytest.raises(EpochChanged), store.log.transaction() as writer:
        writer.append_stream([generated(0)], expected_epoch=1)

    assert [e.type for e in store.log.read_after(0)] == ["control.reset"]


def test_a_transaction_committed_behind_its_caller_is_in_the_log_when_its_future_is_done(store):
    transaction = store.log.begin()
    transaction.writer.append_stream([generated(i) for i in range(100)], expected_epoch=1)
    transaction.writer.append([booking(100)])

    transaction.commit_behind().result(timeout=10)

    assert [e.position for e in store.log.read_after(0)] == list(range(1, 102))


def test_a_commit_behind_whose_rows_the_server_refused_says_why_and_records_nothing(store):
    transaction = store.log.begin()
    refused = generated(0)._replace(flag="unheard-of")  # the log's check refuses it
    transaction.writer.append_stream([refused], expected_epoch=1)

    with pytest.raises(psycopg.errors.CheckViolation):
        transaction.commit_behind().result(timeout=10)

    assert store.log.read_after(0) == []
    assert store.log.append([booking(1)]).first_position >= 1


def test_a_transaction_rolled_back_records_nothing(store):
    transaction = store.log.begin()
    transaction.writer.append_stream([generated(i) for i in range(100)], expected_epoch=1)

    transaction.rollback(RuntimeError("the chunk failed"))

    assert store.log.read_after(0) == []
