"""The baseline tables: written once per seeding, read back whole at start."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import sqlalchemy as sa
from psycopg.types.json import Jsonb
from sqlalchemy import Engine

from app.domain.baseline import BUCKET_HOURS, Baseline
from app.domain.calendar import HOUR


@dataclass(frozen=True)
class BaselineRun:
    id: int
    seed: int
    generator_version: str
    start: datetime
    end: datetime
    config_checksum: str
    checksums: dict[str, str]
    metadata: dict[str, Any]


@dataclass(frozen=True)
class StoredBaseline:
    """A baseline as read back: enough to check it and to serve history from memory."""

    run: BaselineRun
    streams: tuple[str, ...]
    values: np.ndarray
    buckets: np.ndarray
    statistics: dict[str, dict[str, Any]]
    events: list[dict[str, Any]]


_LATEST_RUN = sa.text(
    "SELECT id, seed, generator_version, start_at, end_at, config_checksum, checksums, metadata "
    "FROM baseline_run ORDER BY id DESC LIMIT 1"
)
_COPY_SAMPLES = "COPY baseline_sample (run_id, stream, hour, value) FROM STDIN (FORMAT BINARY)"
_COPY_BUCKETS = (
    "COPY baseline_bucket (run_id, stream, bucket_start, value) FROM STDIN (FORMAT BINARY)"
)
_READ_SAMPLES = sa.text(
    "SELECT stream, array_agg(value ORDER BY hour) FROM baseline_sample "
    "WHERE run_id = :id GROUP BY stream"
)
_READ_BUCKETS = sa.text(
    "SELECT stream, array_agg(value ORDER BY bucket_start) FROM baseline_bucket "
    "WHERE run_id = :id GROUP BY stream"
)
_READ_STATISTICS = sa.text("SELECT stream, statistics FROM baseline_statistics WHERE run_id = :id")
_READ_EVENTS = sa.text("SELECT event FROM baseline_event WHERE run_id = :id ORDER BY id")


class BaselineStore:
    """The seeded baselines: written on the primary (`engine`), read from `reads` (a replica,
    or the primary itself)."""

    def __init__(self, engine: Engine, reads: Engine | None = None) -> None:
        self.engine = engine
        self.reads = reads or engine

    def latest_run(self) -> BaselineRun | None:
        """The newest seeded baseline (the one the service uses), or None before seeding."""
        with self.reads.connect() as conn:
            row = conn.execute(_LATEST_RUN).first()
        return BaselineRun(*row) if row else None

    def write(self, baseline: Baseline) -> int:
        """Write a generated baseline in one transaction; returns the run id."""
        documents = baseline.documents()
        full = documents["baseline-full-30day.json"]
        metadata = {
            "streams": list(baseline.streams),
            "anomalies": full["anomalies"],
            "pendingAtEnd": full["pendingAtEnd"],
            "carryOver": full["carryOver"],
        }
        with self.engine.begin() as conn:
            raw = conn.connection.driver_connection
            run_id = raw.execute(
                "INSERT INTO baseline_run (seed, generator_version, start_at, end_at, "
                "config_checksum, checksums, metadata) VALUES (%s, %s, %s, %s, %s, %s, %s) "
                "RETURNING id",
                (
                    baseline.seed,
                    full["metadata"]["generatorVersion"],
                    baseline.start,
                    baseline.end,
                    baseline.config_checksum,
                    Jsonb(baseline.checksums),
                    Jsonb(metadata),
                ),
            ).fetchone()[0]
            _copy_series(raw, _COPY_SAMPLES, run_id, baseline, baseline.values, 1)
            _copy_series(raw, _COPY_BUCKETS, run_id, baseline, baseline.buckets, BUCKET_HOURS)
            with raw.cursor() as cur:
                cur.executemany(
                    "INSERT INTO baseline_statistics (run_id, stream, statistics) "
                    "VALUES (%s, %s, %s)",
                    [
                        (run_id, name, Jsonb(stats))
                        for name, stats in baseline.statistics_json().items()
                    ],
                )
                cur.executemany(
                    "INSERT INTO baseline_event (run_id, id, occurred_at, template, category, "
                    "actual_impact, event) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    [
                        (
                            run_id,
                            event["id"],
                            event["timestamp"],
                            event["template"],
                            event["type"],
                            event["actualImpact"],
                            Jsonb(event),
                        )
                        for event in baseline.events_json()
                    ],
                )
        return run_id

    def load(self, run: BaselineRun) -> StoredBaseline:
        """Everything of one run, as arrays (rows in the run's stream order) and documents."""
        streams = tuple(run.metadata["streams"])
        with self.reads.connect() as conn:
            values = _series(conn, _READ_SAMPLES, run.id, streams)
            buckets = _series(conn, _READ_BUCKETS, run.id, streams)
            statistics = dict(conn.execute(_READ_STATISTICS, {"id": run.id}).all())
            events = [row[0] for row in conn.execute(_READ_EVENTS, {"id": run.id})]
        return StoredBaseline(run, streams, values, buckets, statistics, events)


def _copy_series(raw, copy_sql: str, run_id: int, baseline: Baseline, values, step: int) -> None:
    """COPY one value per stream and time step (`step` hours apart from the start)."""
    with raw.cursor() as cur, cur.copy(copy_sql) as copy:
        copy.set_types(["int4", "text", "timestamptz", "float8"])
        for row, name in zip(values, baseline.streams, strict=True):
            for i, value in enumerate(row):
                copy.write_row((run_id, name, baseline.start + i * step * HOUR, float(value)))


def _series(conn, query: sa.TextClause, run_id: int, streams: tuple[str, ...]) -> np.ndarray:
    rows = dict(conn.execute(query, {"id": run_id}).all())
    return np.array([rows[name] for name in streams], dtype=float)
