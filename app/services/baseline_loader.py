"""The stored baseline: loaded once per process and checked against its checksums."""

from __future__ import annotations

from app.domain.catalog import Catalog
from app.domain.documents import array_checksum, json_checksum
from app.domain.history import BaselineView
from app.store import Store
from app.store.baseline_tables import StoredBaseline


class BaselineMissing(RuntimeError):
    """No baseline has been seeded into this database yet."""


class BaselineCorrupt(RuntimeError):
    """The stored baseline does not match its recorded checksums."""


def verify(stored: StoredBaseline) -> None:
    """Recompute the stored baseline's checksums and compare them with the recorded ones."""
    found = {
        "samples": array_checksum(stored.streams, stored.values),
        "buckets": array_checksum(stored.streams, stored.buckets),
        "statistics": json_checksum({s: stored.statistics[s] for s in stored.streams}),
        "events": json_checksum(stored.events),
    }
    wrong = sorted(
        part for part, checksum in found.items() if stored.run.checksums[part] != checksum
    )
    if wrong:
        raise BaselineCorrupt(
            f"baseline run {stored.run.id}: checksum mismatch in {', '.join(wrong)}; "
            "seed a new baseline with `marketsim seed`"
        )


def load_baseline(store: Store, catalog: Catalog) -> BaselineView:
    """The latest seeded baseline, checked against its checksums, ready to serve."""
    run = store.baselines.latest_run()
    if run is None:
        raise BaselineMissing("no baseline is seeded yet: run `marketsim seed`")
    stored = store.baselines.load(run)
    verify(stored)
    return BaselineView(
        streams=stored.streams,
        start=run.start,
        values=stored.values,
        buckets=stored.buckets,
        statistics=stored.statistics,
        events=stored.events,
        aggregation={name: catalog.stream(name).aggregation for name in stored.streams},
        carry_over=run.metadata.get("carryOver", {}),
        anomalies=run.metadata.get("anomalies", []),
    )
