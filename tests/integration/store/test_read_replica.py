"""With DATABASE_READ_URL the web process reads history's live hours and the baseline from
that database, and writes (the log, the rollup's folding) stay on the primary. A second
database stands in for the replica here, so that what is read where can be told apart."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.domain.events import NewEvent
from app.domain.generator import GROUPS
from app.settings import Settings
from app.store import Store
from app.web import create_app
from jobs.generate import tick

STREAM = "support.ticket.escalated"


@pytest.fixture
def primary_and_replica(seeded_store, seeded_database, seeded_twin):
    store = Store.connect(seeded_database, read_url=seeded_twin)
    yield store
    store.close()


def escalations_after_the_baseline(store: Store, end, count: int) -> None:
    store.log.append(
        [
            NewEvent(
                kind="stream", type=STREAM, stream=STREAM, occurred_at=end + timedelta(minutes=m)
            )
            for m in range(1, count + 1)
        ]
        + [tick(group, end, end + timedelta(minutes=10)) for group in GROUPS]
    )


def live_values(client, end) -> list[float]:
    body = client.get(f"/api/simulation/history?streams={STREAM}").json
    return [p["value"] for p in body["streams"][STREAM] if p["timestamp"] >= end.isoformat()[:19]]


def test_history_reads_the_live_hours_from_the_replica_and_folds_on_the_primary(
    primary_and_replica, seeded_store, seeded_database, seeded_twin, fresh_baseline
):
    end = fresh_baseline.end
    escalations_after_the_baseline(seeded_store, end, 3)
    settings = Settings(database_url=seeded_database, database_read_url=seeded_twin)
    on_replica = create_app(settings, store=primary_and_replica).test_client()
    on_primary = create_app(Settings(database_url=seeded_database), store=seeded_store)

    from_replica = live_values(on_replica, end)

    assert from_replica == [], "the replica's rollup holds none of the primary's live hours"
    assert seeded_store.rollup.position() == seeded_store.log.last_position(), (
        "folded on the primary"
    )
    assert live_values(on_primary.test_client(), end) == [3]


def test_the_baseline_is_loaded_from_the_replica(primary_and_replica, fresh_baseline):
    run = primary_and_replica.baselines.latest_run()

    assert run is not None and run.start == fresh_baseline.start
    assert primary_and_replica.baselines.reads is primary_and_replica.read_engine


def test_readyz_names_the_replica_when_it_does_not_answer(seeded_store, seeded_database):
    unreachable = "postgresql://postgres@127.0.0.1:1/nowhere?connect_timeout=2"
    store = Store.connect(seeded_database, read_url=unreachable)
    try:
        settings = Settings(database_url=seeded_database, database_read_url=unreachable)
        response = create_app(settings, store=store).test_client().get("/readyz")
    finally:
        store.close()

    assert response.status_code == 503
    assert response.json["reason"].startswith("read replica unreachable")
