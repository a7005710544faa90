"""Migrations carry an existing database forward without losing a row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.domain.events import NewEvent
from app.store import Store
from app.store.database import connect
from app.store.migrations import upgrade

T0 = datetime(2026, 11, 1, tzinfo=UTC)
COLUMNS = (
    "position, epoch, kind, type, stream, occurred_at, recorded_at, data, value, normalized, "
    "flag, causation_id, correlation_id, expected, expected_flag"
)
"""The log's columns at 0006 (later migrations add more, null on these rows)."""


def test_partitioning_the_log_keeps_every_row_its_position_and_the_next_position(
    empty_database,
):
    upgrade(empty_database, "0006")
    with connect(empty_database) as conn:
        conn.execute(
            "INSERT INTO event_log (epoch, kind, type, stream, occurred_at, value) "
            "SELECT 1, CASE WHEN g %% 7 = 0 THEN 'control' ELSE 'stream' END, 'x', "
            "CASE WHEN g %% 7 = 0 THEN NULL ELSE 's' END, %s + g * interval '1 second', g "
            "FROM generate_series(1, 500) g",
            (T0,),
        )
        conn.execute("SELECT nextval('event_log_position_seq')")  # a rolled-back append's
        before = conn.execute(f"SELECT {COLUMNS} FROM event_log ORDER BY position").fetchall()
        conn.commit()

    upgrade(empty_database)

    with connect(empty_database) as conn:
        after = conn.execute(f"SELECT {COLUMNS} FROM event_log ORDER BY position").fetchall()
        kinds = conn.execute(
            "SELECT tableoid::regclass::text, count(*) FROM event_log GROUP BY 1 ORDER BY 1"
        ).fetchall()
    assert after == before
    assert kinds == [("event_log_other", 71), ("event_log_stream_1", 429)]
    store = Store.connect(empty_database)
    try:
        appended = store.log.append(
            [NewEvent("stream", "s", T0 + timedelta(hours=1), "s", value=1.0)]
        )
        assert appended.first_position == 502
    finally:
        store.close()
