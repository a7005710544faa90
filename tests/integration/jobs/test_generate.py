"""The generation job against Postgres: chunks with ticks, exact restarts, one writer, epochs."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.catalog import load_catalog
from app.domain.clock import SimClock
from app.domain.events import NewEvent
from app.domain.generator import GROUPS, TICK_TYPE
from app.domain.timerange import from_iso, iso
from app.services import load_baseline
from app.services.clock import clock_event
from app.settings import PROJECT_ROOT
from app.store import Store
from jobs.generate import CATCH_UP_STEP, LiveGeneration

SEED = 11


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(PROJECT_ROOT / "config")


def generation(store: Store, catalog) -> LiveGeneration:
    return LiveGeneration(store, catalog, load_baseline(store, catalog), SEED)


def advance_all(live: LiveGeneration, until) -> None:
    for group in GROUPS:
        live.advance(group, until)


def log_of(store: Store) -> list:
    return store.log.read_after(0, limit=10_000_000)


def comparable(events) -> list[tuple]:
    return [
        (e.type, e.occurred_at, e.causation_id, e.data, e.value, e.normalized, e.epoch)
        for e in events
    ]


def test_each_chunk_ends_with_a_tick_and_ticks_follow_each_other(seeded_store, catalog):
    live = generation(seeded_store, catalog)
    start = live.generator.frontiers["high"]
    result = live.advance("high", start + timedelta(minutes=35))

    ticks = [e for e in log_of(seeded_store) if e.type == TICK_TYPE]
    assert result.chunks == len(ticks) == 4
    assert ticks[0].data["from"] == iso(start)
    for before, after in itertools.pairwise(ticks):
        assert after.data["from"] == before.data["until"]
    assert result.events > 1000


def test_a_generator_restarted_from_the_log_writes_what_an_unbroken_one_writes(
    seeded_store, seeded_twin, catalog
):
    first = generation(seeded_store, catalog)
    start = first.generator.frontiers["high"]
    advance_all(first, start + timedelta(hours=2))
    restarted = generation(seeded_store, catalog)  # as after kill -9: only the log survives
    advance_all(restarted, start + timedelta(hours=3))

    twin = Store.connect(seeded_twin)
    try:
        unbroken = generation(twin, catalog)
        advance_all(unbroken, start + timedelta(hours=2))
        advance_all(unbroken, start + timedelta(hours=3))
        assert comparable(log_of(seeded_store)) == comparable(log_of(twin))
    finally:
        twin.close()


def test_chunks_committed_behind_each_other_write_what_one_chunk_per_job_writes(
    seeded_store, seeded_twin, catalog
):
    """A job of several chunks draws each chunk's first round while the previous chunk
    commits; when it returns, all of it is in the log, as one job per chunk would leave it."""
    behind = generation(seeded_store, catalog)
    start = behind.generator.frontiers["high"]
    result = behind.advance("high", start + timedelta(hours=1))

    ticks = [e for e in log_of(seeded_store) if e.type == TICK_TYPE]
    assert (result.chunks, len(ticks)) == (6, 6)
    assert from_iso(ticks[-1].data["until"]) == start + timedelta(hours=1)
    twin = Store.connect(seeded_twin)
    try:
        one_at_a_time = generation(twin, catalog)
        for minutes in range(10, 70, 10):
            one_at_a_time.advance("high", start + timedelta(minutes=minutes))
        assert comparable(log_of(seeded_store)) == comparable(log_of(twin))
    finally:
        twin.close()


def test_a_groups_job_brings_every_group_up_in_step_when_generation_is_behind(
    seeded_store, catalog
):
    """At a fast clock the high group falls behind; the medium group left to its own job was
    days ahead of it at 3,600x, and its streams fed by high-cadence causes read as silence."""
    live = generation(seeded_store, catalog)
    start = live.generator.frontiers["high"]
    now = start + timedelta(hours=1)
    seeded_store.log.append([clock_event(SimClock(datetime.now(UTC), now, speed=1.0))])

    advances = live.run_job("medium")

    reached = [a.until for a in advances]
    assert {a.group for a in advances} == set(GROUPS)
    assert min(reached) > start and max(reached) - min(reached) <= CATCH_UP_STEP
    assert max(reached) < now + timedelta(minutes=1)  # as far as JOB_BUDGET went, not further
    assert max(lateness(log_of(seeded_store)), default=timedelta(0)) <= CATCH_UP_STEP


def test_a_catch_up_hands_back_when_its_budget_is_spent(seeded_store, catalog):
    live = generation(seeded_store, catalog)
    start = live.generator.frontiers["high"]

    advances = live.catch_up(start + timedelta(hours=1), budget=0.0)

    assert [a.until for a in advances] == [start] * len(GROUPS)


def test_a_groups_job_advances_its_group_alone_when_generation_keeps_up(seeded_store, catalog):
    live = generation(seeded_store, catalog)
    start = live.generator.frontiers["high"]
    now = start + timedelta(minutes=2)
    seeded_store.log.append([clock_event(SimClock(datetime.now(UTC), now, speed=1.0))])

    advances = live.run_job("medium")

    assert [a.group for a in advances] == ["medium"]
    assert advances[0].until >= now
    assert live.generator.frontiers["high"] == start


def test_no_effect_is_logged_twice_and_none_lacks_its_cause(seeded_store, catalog):
    live = generation(seeded_store, catalog)
    start = live.generator.frontiers["high"]
    advance_all(live, start + timedelta(hours=2))
    advance_all(generation(seeded_store, catalog), start + timedelta(hours=3))

    events = log_of(seeded_store)
    positions = {e.position: e for e in events}
    effects = Counter((e.causation_id, e.stream) for e in events if e.causation_id)
    assert max(effects.values()) == 1
    for event in events:
        if event.causation_id:
            cause = positions[event.causation_id]
            assert cause.occurred_at <= event.occurred_at


def test_a_generator_that_lost_the_lead_is_stopped_before_writing_twice(seeded_store, catalog):
    leader = generation(seeded_store, catalog)
    stale = generation(seeded_store, catalog)  # restored at the same frontier
    start = leader.generator.frontiers["high"]
    leader.advance("high", start + timedelta(minutes=20))
    written = len(log_of(seeded_store))

    result = stale.advance("high", start + timedelta(minutes=30))

    ticks = [e for e in log_of(seeded_store) if e.type == TICK_TYPE]
    assert [t.data["from"] for t in ticks] == [iso(start + timedelta(minutes=m)) for m in (0, 10)]
    assert (result.events, len(log_of(seeded_store))) == (0, written)
    assert stale.generator.frontiers["high"] == start + timedelta(minutes=20)  # adopted the log's


def test_after_a_reset_generation_goes_on_in_the_new_epoch_from_the_reset(seeded_store, catalog):
    live = generation(seeded_store, catalog)
    start = live.generator.frontiers["high"]
    live.advance("high", start + timedelta(minutes=10))
    reset_at = start + timedelta(hours=6)
    seeded_store.log.append([NewEvent(kind="control", type="control.reset", occurred_at=reset_at)])

    live.advance("high", reset_at + timedelta(minutes=10))  # notices the reset, restores
    live.advance("high", reset_at + timedelta(minutes=10))

    after = [e for e in log_of(seeded_store) if e.epoch == 2 and e.kind == "stream"]
    assert live.generator.epoch == 2
    assert after
    assert min(e.occurred_at for e in after) >= reset_at


def lateness(events) -> list[timedelta]:
    """How long before its chunk's start each stream event occurred (zero when in its
    chunk). A chunk is one transaction ended by its tick, and one writer appends at a time, so
    a chunk's events are the stream events between the previous tick and its own."""
    found, chunk = [], []
    for event in events:
        if event.type == TICK_TYPE:
            start = from_iso(event.data["from"])
            found.extend(max(start - e.occurred_at, timedelta(0)) for e in chunk)
            chunk = []
        elif event.kind == "stream":
            chunk.append(event)
    return found


@pytest.mark.slow
def test_a_catch_up_writes_no_effect_more_than_a_step_late(seeded_store, catalog):
    """Caused events cross cadence groups; groups advanced one after the other over hours
    wrote effects of the later groups' causes hours late into the earlier ones."""
    live = generation(seeded_store, catalog)
    start = live.generator.frontiers["high"]
    target = start + timedelta(hours=6)

    advances = live.catch_up(target)
    assert {a.group: a.until for a in advances} == dict.fromkeys(GROUPS, target)
    advance_all(live, target + timedelta(minutes=5))  # the effects still pending come out

    late = lateness(log_of(seeded_store))
    assert len(late) > 10_000
    assert max(late) <= CATCH_UP_STEP
    ticks = [e for e in log_of(seeded_store) if e.type == TICK_TYPE]
    for group in GROUPS:
        chain = [t.data for t in ticks if t.data["group"] == group]
        assert chain[0]["from"] == iso(start)
        assert all(a["until"] == b["from"] for a, b in itertools.pairwise(chain))
