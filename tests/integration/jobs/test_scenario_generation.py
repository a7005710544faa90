"""Scenarios and modifiers reach the generated events, which carry their correlation ids."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from app.domain.catalog import load_catalog
from app.domain.commands import end_early
from app.domain.generator import GROUPS
from app.services import load_baseline
from app.services.scenarios import activate_scenario, apply_modifier, stop_scenario
from app.settings import PROJECT_ROOT
from app.store import Store
from jobs.generate import LiveGeneration


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(PROJECT_ROOT / "config")


def generation(store, catalog) -> LiveGeneration:
    return LiveGeneration(store, catalog, load_baseline(store, catalog), seed=5)


def advance_all(live: LiveGeneration, until) -> None:
    for group in GROUPS:
        live.advance(group, until)


def test_a_payment_outage_fails_charges_and_tags_them_with_its_run(seeded_store, catalog):
    live = generation(seeded_store, catalog)
    activation = activate_scenario(live.simulation, "payment-outage")
    start = activation.run.activated_at
    advance_all(live, start + timedelta(hours=2))

    events = seeded_store.log.read_after(0, limit=10_000_000)
    by_position = {e.position: e for e in events}
    after = [e for e in events if e.occurred_at >= start + timedelta(minutes=10)]
    charges = Counter(
        e.type
        for e in after
        if e.type in ("customer.payment.failed", "customer.payment.succeeded")
        and e.causation_id in by_position
        and by_position[e.causation_id].type == "session.completed"
    )  # the charge of a session, not the retry of a failed one
    failed = [e for e in after if e.type == "customer.payment.failed"]
    assert charges["customer.payment.failed"] > 0.8 * sum(charges.values())
    assert all(e.correlation_id == activation.run.run_id for e in failed)
    sources = seeded_store.state.sources_of_stream(1, "customer.payment.failed")
    assert [s["source_position"] for s in sources] == [activation.run.run_id]
    assert sources[0]["source_type"] == "scenario.activated"


@pytest.fixture
def twins(seeded_store, seeded_twin, catalog):
    """Two generations at the same moment, same baseline and seed, in two databases: the
    modifier tests change one and compare it with the other, so that what the baseline's own
    events do to the stream at that hour cancels out."""
    twin_store = Store.connect(seeded_twin)
    pair = (generation(seeded_store, catalog), generation(twin_store, catalog))
    now = pair[0].simulation.now()
    advance_both(pair, now)
    yield pair
    twin_store.close()


def advance_both(pair, until) -> None:
    for live in pair:
        advance_all(live, until)


def app_opens(live: LiveGeneration, start, end) -> list:
    events = live.store.log.read_after(0, streams=["customer.app.opened"], limit=1_000_000)
    return [e for e in events if start <= e.occurred_at < end]


def test_a_tenfold_modifier_multiplies_a_root_stream_while_it_lasts(twins):
    live = twins[0]
    now = live.simulation.now()
    modifier = apply_modifier(live.simulation, "customer.app.opened", "multiplier", 10.0,
                              timedelta(hours=2))  # fmt: skip
    advance_both(twins, now + timedelta(hours=3))

    first = modifier.start.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    during, plain = (app_opens(g, first, first + timedelta(hours=1)) for g in twins)
    ratio = len(during) / len(plain)
    assert 8 < ratio < 12, (len(during), len(plain))
    assert {e.correlation_id for e in during} == {modifier.modifier_id}


def test_a_modifier_ended_early_stops_multiplying_its_stream_from_that_moment(twins):
    live, twin = twins
    now = live.simulation.now()
    modifier = apply_modifier(live.simulation, "customer.app.opened", "multiplier", 10.0,
                              timedelta(hours=6))  # fmt: skip
    first = modifier.start.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    ended_at = first + timedelta(hours=1)
    live.store.log.append([end_early(live.simulation.state(), modifier.modifier_id, ended_at)])
    advance_both(twins, now + timedelta(hours=5))

    after_end = (ended_at, ended_at + timedelta(hours=2))
    during = len(app_opens(live, first, ended_at)) / len(app_opens(twin, first, ended_at))
    after = app_opens(live, *after_end)
    twin_after = app_opens(twin, *after_end)
    assert 8 < during < 12
    assert 0.8 < len(after) / len(twin_after) < 1.25, (len(after), len(twin_after))
    assert modifier.modifier_id not in {e.correlation_id for e in after}


def test_a_new_scenario_every_simulated_minute_keeps_the_log_consistent(seeded_store, catalog):
    live = generation(seeded_store, catalog)
    now = live.simulation.now()
    advance_all(live, now)
    scenarios = ["supply-crisis", "payment-outage", "support-overload", "churn-pattern"] * 3
    for scenario_id in scenarios:
        activate_scenario(live.simulation, scenario_id)
        stop_scenario(live.simulation)
        now += timedelta(minutes=1)
        advance_all(live, now)

    runs = live.simulation.state().runs
    assert [r.scenario_id for r in runs] == scenarios
    assert all(r.settling_reason == "stopped" for r in runs)
    effects = Counter((e.causation_id, e.stream) for e in seeded_store.log.read_after(
        0, limit=10_000_000) if e.causation_id)  # fmt: skip
    assert max(effects.values()) == 1
