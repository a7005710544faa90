"""The baseline tables: written once, read back whole, immutable, checked by checksum."""

from __future__ import annotations

import numpy as np
import psycopg
import pytest

from app.domain.catalog import load_catalog
from app.services import BaselineCorrupt, BaselineMissing, load_baseline, verify
from app.settings import PROJECT_ROOT
from app.store.database import connect


def test_no_run_is_there_before_seeding(store):
    assert store.baselines.latest_run() is None
    with pytest.raises(BaselineMissing):
        load_baseline(store, load_catalog(PROJECT_ROOT / "config"))


def test_a_written_baseline_reads_back_identical_and_passes_its_checksums(store, fresh_baseline):
    run_id = store.baselines.write(fresh_baseline)
    run = store.baselines.latest_run()
    stored = store.baselines.load(run)

    assert run.id == run_id
    assert (run.seed, run.start, run.end) == (
        fresh_baseline.seed, fresh_baseline.start, fresh_baseline.end
    )  # fmt: skip
    assert np.array_equal(stored.values, fresh_baseline.values)
    assert np.array_equal(stored.buckets, fresh_baseline.buckets)
    assert stored.events == fresh_baseline.events_json()
    verify(stored)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE baseline_sample SET value = 0",
        "DELETE FROM baseline_event",
        "TRUNCATE baseline_statistics",
    ],
)
def test_the_database_refuses_to_change_a_seeded_baseline(store, fresh_baseline, database_url,
                                                          statement):  # fmt: skip
    store.baselines.write(fresh_baseline)

    with connect(database_url) as conn, pytest.raises(psycopg.errors.RestrictViolation):
        conn.execute(statement)


def test_a_tampered_baseline_is_refused_at_load(store, fresh_baseline, database_url):
    store.baselines.write(fresh_baseline)
    with connect(database_url, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")  # bypass the guard, as an attacker
        conn.execute(
            "UPDATE baseline_sample SET value = value + 1 "
            "WHERE stream = 'customer.booking.requested' "
            "AND hour = (SELECT min(hour) FROM baseline_sample)"
        )

    with pytest.raises(BaselineCorrupt, match="samples"):
        load_baseline(store, load_catalog(PROJECT_ROOT / "config"))
