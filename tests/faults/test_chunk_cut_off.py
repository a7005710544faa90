"""Postgres going down in the middle of a generation chunk, after the generator has taken the
chunk's first events as written: the transaction rolls back, and so must the generator.

In the scheduler this happens on a Postgres restart: the chunk fails, the generator's restore
from the log fails too (the server is still down), and a job already queued (after a takeover
the medium and low groups are queued behind high) runs a moment later, when the server may be
back but before the leader's one-second lock check has noticed anything. That job must not
write from the generator's state of the rolled-back chunk: effects whose causes never
committed, and due effects the failed chunk took off the queue.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError

from app.domain.catalog import load_catalog
from app.services import load_baseline
from app.settings import PROJECT_ROOT
from app.store import Store
from jobs.generate import LiveGeneration
from tests.faults.harness import GROUPS, LogReader, assert_contiguous

SEED = 20261125


@pytest.mark.slow
def test_after_a_chunk_and_its_restore_failed_the_next_job_writes_nothing_of_that_chunk(
    restartable_postgres, fresh_baseline
):
    store = Store.connect(restartable_postgres.url)
    catalog = load_catalog(PROJECT_ROOT / "config")
    live = LiveGeneration(store, catalog, load_baseline(store, catalog), SEED)
    start = fresh_baseline.end
    try:
        for group in GROUPS:
            live.advance(group, start + timedelta(minutes=30))

        committed = live.generator.committed

        def committed_then_postgres_stops(drafts, first_position):
            committed(drafts, first_position)
            live.generator.committed = committed  # once
            restartable_postgres.stop()

        live.generator.committed = committed_then_postgres_stops
        with pytest.raises(OperationalError) as failed:
            live.advance("high", start + timedelta(minutes=40))
        assert failed.value.__context__ is not None  # the restore failed, handling the chunk's
        restartable_postgres.start()

        # The jobs that come next, Postgres back.
        for group in ("medium", "low", "high"):
            live.advance(group, start + timedelta(hours=3))
    finally:
        store.close()

    log = LogReader(restartable_postgres.url)
    assert log.dangling_causes() == []
    chains = assert_contiguous(log.ticks(), start)
    assert all(chain[-1]["until"] == start + timedelta(hours=3) for chain in chains.values())
    events = log.stream_events()
    effects = Counter((e["causation_id"], e["stream"]) for e in events if e["causation_id"])
    assert effects.most_common(1)[0][1] == 1
