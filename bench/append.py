"""Append throughput of the event log, next to a raw COPY of the same rows in the same run.

    python -m bench.append            # embedded Postgres, or BENCH_DATABASE_URL's server

Prints events/s for appends in batches of 1, 100 and 1000 (each batch its own transaction:
the append lock, positions after the log's last one, binary COPY, the position sequence moved
past them and a notification, commit), and for a plain binary COPY of the same rows in batches
of 100 and 1000, with no lock and no positions taken.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta

from psycopg.types.json import Jsonb

from app.domain.events import NewEvent
from app.store import Store
from app.store.database import connect
from bench.scratch import scratch_database

T0 = datetime(2026, 11, 1, tzinfo=UTC)
STREAMS = [
    "customer.tutor.search",
    "customer.booking.requested",
    "session.started",
    "session.completed",
    "system.api.latency",
]


def stream_events(count: int, rng: random.Random) -> list[NewEvent]:
    """Events shaped like the generator's: ids in the body, a value, normalized and flag."""
    events = []
    for i in range(count):
        stream = rng.choice(STREAMS)
        events.append(
            NewEvent(
                kind="stream",
                type=stream,
                stream=stream,
                occurred_at=T0 + timedelta(milliseconds=37 * i),
                data={
                    "bookingId": f"bk_{rng.randrange(10**9):09d}",
                    "studentId": f"st_{rng.randrange(30_000):05d}",
                    "tutorId": f"tu_{rng.randrange(6_000):04d}",
                    "subject": rng.choice(["math", "physics", "english", "chemistry"]),
                    "priceUsd": round(rng.uniform(25, 90), 2),
                },
                value=round(rng.uniform(80, 140), 1),
                normalized=round(rng.uniform(20, 80), 1),
                flag="normal",
                causation_id=rng.randrange(1, 10**6) if i % 3 else None,
            )
        )
    return events


def time_appends(store: Store, events: list[NewEvent], batch: int) -> float:
    started = time.perf_counter()
    for i in range(0, len(events), batch):
        store.log.append(events[i : i + batch])
    return len(events) / (time.perf_counter() - started)


RAW_TYPES = (
    "int4",
    "text",
    "text",
    "text",
    "timestamptz",
    "jsonb",
    "float8",
    "float8",
    "text",
    "int8",
    "int8",
)


def time_raw_copy(url: str, events: list[NewEvent], batch: int) -> float:
    columns = (
        "epoch, kind, type, stream, occurred_at, data, value, normalized, flag, "
        "causation_id, correlation_id"
    )
    with connect(url) as conn:
        started = time.perf_counter()
        for i in range(0, len(events), batch):
            with (
                conn.cursor() as cur,
                cur.copy(f"COPY event_log ({columns}) FROM STDIN (FORMAT BINARY)") as copy,
            ):
                copy.set_types(RAW_TYPES)
                for e in events[i : i + batch]:
                    copy.write_row(
                        (
                            1,
                            e.kind,
                            e.type,
                            e.stream,
                            e.occurred_at,
                            Jsonb(e.data),
                            e.value,
                            e.normalized,
                            e.flag,
                            e.causation_id,
                            e.correlation_id,
                        )
                    )
            conn.commit()
        return len(events) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.append")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="share of the events to append (CI: 0.02)"
    )
    scale = parser.parse_args().scale
    rng = random.Random(7)
    with scratch_database() as url:
        store = Store.connect(url)
        try:
            plan = [
                (batch, max(batch * 10, round(count * scale)))
                for batch, count in [(1, 2_000), (100, 50_000), (1000, 100_000)]
            ]
            results = {}
            for batch, count in plan:
                events = stream_events(count, rng)
                time_appends(store, events[: batch * 5], batch)  # warm up
                results[("append", batch)] = time_appends(store, events, batch)
                if batch > 1:
                    results[("raw COPY", batch)] = time_raw_copy(url, events, batch)
        finally:
            store.close()

    print(f"{'method':<10} {'batch':>6} {'events/s':>12}")
    for (method, batch), rate in results.items():
        print(f"{method:<10} {batch:>6} {rate:>12,.0f}")
    for batch in (100, 1000):
        share = results[("append", batch)] / results[("raw COPY", batch)]
        print(f"append / raw COPY at batch {batch}: {share:.0%}")


if __name__ == "__main__":
    main()
