"""Faults of delivery through the real log: the rows record what was done to each delivery,
the feed shows what a pipeline receives, and the hourly rollup counts what happened."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from app.api.schemas import Deliveries
from app.domain.catalog import load_catalog
from app.domain.generator import GROUPS
from app.domain.timerange import from_iso
from app.services import load_baseline
from app.services.scenarios import apply_modifier
from app.services.truth import deliveries
from app.settings import PROJECT_ROOT
from app.store.feed import LogTail
from app.ws.protocol import WireEvent
from jobs.generate import LiveGeneration

DOUBLED = "customer.app.opened"
SKEWED = "support.chat.started"
LATE = "session.cancelled"


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(PROJECT_ROOT / "config")


@pytest.fixture
def faulty(seeded_store, catalog):
    live = LiveGeneration(seeded_store, catalog, load_baseline(seeded_store, catalog), seed=5)
    start = live.simulation.now()
    for group in GROUPS:
        live.advance(group, start)
    hour = timedelta(hours=1)
    faults = [
        apply_modifier(live.simulation, DOUBLED, "duplicate", 0.5, hour),
        apply_modifier(live.simulation, SKEWED, "clock-skew", 10.0, hour),
        apply_modifier(live.simulation, LATE, "late", 20.0, hour),
    ]
    for group in GROUPS:
        live.advance(group, start + 2 * hour)
    return live, {f.stream: f for f in faults}


def test_a_duplicate_row_names_its_original_and_the_rollup_counts_the_event_once(faulty):
    live, faults = faulty
    start = faults[DOUBLED].start
    log = live.store.log
    rows = log.read_after(0, streams=[DOUBLED], limit=1_000_000)
    by_position = {e.position: e for e in rows}
    copies = [e for e in rows if e.delivery and e.delivery["fault"] == "duplicate"]
    happened = [e for e in rows if not (e.delivery and e.delivery["fault"] == "duplicate")]

    assert copies
    for copy in copies:
        original = by_position[copy.delivery["of"]]
        assert original.position < copy.position and original.delivery is None
        assert (copy.occurred_at, copy.data) == (original.occurred_at, original.data)
    live.store.rollup.catch_up()
    hour = start.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    hour_end = hour + timedelta(hours=1)
    (totals,) = live.store.rollup.read(1, [DOUBLED], hour, hour_end)
    assert any(hour <= copy.occurred_at < hour_end for copy in copies)
    assert totals.events == sum(1 for e in happened if hour <= e.occurred_at < hour_end)


def test_the_feed_shows_a_skewed_clocks_stamp_and_late_events_where_they_arrived(
    faulty, seeded_database
):
    _, faults = faulty
    ours = {f.modifier_id for f in faults.values()}
    tail = LogTail(seeded_database)
    try:
        rows = tail.read_after(0, 1_000_000)
    finally:
        tail.close()
    faulted = [r for r in rows if r.delivery and r.delivery["modifier"] in ours]
    skewed = [r for r in faulted if r.stream == SKEWED]
    late = [r for r in faulted if r.stream == LATE]

    assert skewed and late
    for row in skewed:
        shown = WireEvent.of(row).json
        stamped = row.occurred_at + timedelta(minutes=10)
        assert f'"occurredAt":"{stamped.strftime("%Y-%m-%dT%H:%M:%S")}' in shown
    for row in late:
        assert row.delivery["fault"] == "late" and row.delivery["delaySeconds"] == 1200
        arrived = row.occurred_at + timedelta(minutes=20)
        chunk = next(r for r in rows if r.position > row.position and r.type == "control.tick"
                     and '"high"' in r.data_json)  # fmt: skip
        assert from_iso(json.loads(chunk.data_json)["from"]) <= arrived < chunk.occurred_at
    assert all(faults[r.stream].in_force(r.occurred_at) for r in [*skewed, *late])


def test_the_ground_truth_lists_each_faulted_delivery_with_what_really_happened(faulty):
    live, faults = faulty
    start, end = faults[DOUBLED].start, faults[LATE].end
    streams = [DOUBLED, SKEWED, LATE]

    found = deliveries(live.simulation, start, end, streams, limit=1_000_000)

    Deliveries.model_validate(found)
    listed = found["deliveries"]
    assert {d["fault"] for d in listed} == {"duplicate", "clock-skew", "late"}
    originals = {e.position: e for e in live.store.log.read_after(0, streams=[DOUBLED],
                                                                  limit=1_000_000)}  # fmt: skip
    for delivery in listed:
        occurred, arrived = from_iso(delivery["occurredAt"]), from_iso(delivery["arrivedAt"])
        if delivery["fault"] == "duplicate":
            original = originals[delivery["duplicateOf"]]
            assert original.occurred_at == occurred and original.delivery is None
            assert timedelta(0) <= arrived - occurred <= timedelta(minutes=1)
        elif delivery["fault"] == "late":
            assert arrived - occurred == timedelta(minutes=20)
        else:
            assert from_iso(delivery["stampedAt"]) - occurred == timedelta(minutes=10)
    first = deliveries(live.simulation, start, end, streams, limit=5)
    rest = deliveries(live.simulation, start, end, streams, after=first["nextAfter"], limit=10**6)
    assert first["deliveries"] + rest["deliveries"] == listed and rest["nextAfter"] is None
