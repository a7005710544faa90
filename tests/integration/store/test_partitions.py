"""The log's stream events in partitions of positions, made before appends need them and
dropped whole by retention: every row appended is read back, nothing else removes one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from app.domain.events import NewEvent, StreamEvent
from app.store.database import connect
from tests.conftest import partition_log

T0 = datetime(2026, 11, 1, tzinfo=UTC)
SIZE = 10


def sample(i: int) -> NewEvent:
    return NewEvent(
        "stream", "system.api.latency", T0 + timedelta(seconds=i), "system.api.latency", value=i
    )


def generated(i: int) -> StreamEvent:
    event = sample(i)
    return StreamEvent(
        event.stream, event.occurred_at, {}, event.value, None, None, None, None, None, None, None
    )


def external(i: int) -> NewEvent:
    return NewEvent("external", "external.event", T0 + timedelta(seconds=i), data={"n": i})


@pytest.fixture
def small(store, database_url):
    partition_log(database_url, SIZE)
    return store


def test_appends_reach_new_partitions_with_every_position_in_order(small):
    small.log.append([sample(i) for i in range(25)])
    small.log.append([external(25), sample(26)])

    names = [p.name for p in small.log.partitions()]
    assert names == ["event_log_stream_1", "event_log_stream_11", "event_log_stream_21"]
    assert [e.position for e in small.log.read_after(0)] == list(range(1, 28))


def test_rounds_of_generated_events_reach_new_partitions_in_one_transaction(small):
    with small.log.transaction() as writer:
        for start in (0, 7, 14, 21):
            writer.append_stream([generated(i) for i in range(start, start + 7)], expected_epoch=1)
    small.log.append([external(28)])

    names = [p.name for p in small.log.partitions()]
    assert names == ["event_log_stream_1", "event_log_stream_11", "event_log_stream_21"]
    assert [e.position for e in small.log.read_after(0)] == list(range(1, 30))
    assert [e.value for e in small.log.read_after(0, kinds=["stream"])] == list(range(28))


def test_the_next_partition_is_made_before_appends_need_it(small):
    small.log.append([sample(i) for i in range(5)])

    small.log.prepare()

    assert [(p.first_position, p.end_position) for p in small.log.partitions()] == [
        (1, 11),
        (11, 21),
    ]


def test_a_dropped_partition_takes_only_its_stream_events_and_says_so(small):
    small.log.append([sample(0), external(1), *[sample(i) for i in range(2, 15)]])

    with small.log.transaction() as writer:
        writer.lock()
        dropped = writer.drop_partition("event_log_stream_1")

    assert dropped == 9  # positions 1-10 but the external event at 2
    kept = small.log.read_after(0)
    assert [e.position for e in kept] == [2, *range(11, 16)]
    size = small.log.size()
    assert (size.retained_from, size.oldest_position) == (11, 11)


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM event_log_stream_1 WHERE position = 1",
        "UPDATE event_log_stream SET value = 0",
        "TRUNCATE event_log_stream",
    ],
)
def test_partitions_refuse_to_change_or_remove_rows_like_the_log(small, database_url, statement):
    small.log.append([sample(i) for i in range(3)])

    with connect(database_url) as conn, pytest.raises(psycopg.errors.RestrictViolation):
        conn.execute(statement)

    assert len(small.log.read_after(0)) == 3


def test_the_log_reports_its_size_and_oldest_stream_event(small):
    appended = small.log.append([sample(i) for i in range(12)])

    size = small.log.size()

    assert size.bytes > 0
    assert size.retained_from == 1
    assert size.oldest_position == 1
    assert size.oldest_occurred_at == T0
    assert size.oldest_recorded_at == appended.recorded_at
