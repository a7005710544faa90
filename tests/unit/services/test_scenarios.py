"""The scenario commands as a service: each reads the state under the log's lock, decides
with the domain and appends; time passing brings settling, expiry and scheduled events. Run
on an in-memory store and a wall clock the test moves."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.domain.errors import NotNow, Unknown
from app.domain.simulation_state import (
    ACTIVATED,
    EXTERNAL,
    MODIFIER,
    MODIFIER_ENDED,
    MODIFIER_EXPIRED,
    SCHEDULED,
    SETTLED,
    SETTLING,
    STOPPED,
)
from app.services import Simulation, set_speed
from app.services.scenarios import (
    activate_scenario,
    advance_lifecycle,
    apply_modifier,
    end_modifier,
    inject,
    reset,
    stop_scenario,
)
from tests.conftest import MovableWall
from tests.unit.services.fakes import MemoryStore

H = timedelta(hours=1)


@pytest.fixture
def wall() -> MovableWall:
    return MovableWall()


@pytest.fixture
def store(wall) -> MemoryStore:
    return MemoryStore.on(wall)


@pytest.fixture
def simulation(store, catalog, quiet_view, wall) -> Simulation:
    return Simulation(store, catalog, baseline=quiet_view, wall=wall)


def test_an_activation_records_the_run_and_the_events_it_injects(simulation, store, catalog):
    activation = activate_scenario(simulation, "payment-outage")

    (activated,) = store.log.of_type(ACTIVATED)
    assert activation.run.run_id == activated.position
    assert activation.run.scenario_id == "payment-outage"
    injected = catalog.scenario("payment-outage").events
    assert len(activation.events) == len(injected)
    assert activation.settled_by > activation.run.ends_at


def test_a_second_activation_is_refused_and_appends_nothing(simulation, store):
    activate_scenario(simulation, "payment-outage")
    written = len(store.log.events)

    with pytest.raises(NotNow) as refused:
        activate_scenario(simulation, "supply-crisis")

    assert refused.value.code == "scenario_active"
    assert len(store.log.events) == written


def test_an_unknown_scenario_is_refused_with_the_ones_there_are(simulation, catalog):
    with pytest.raises(Unknown) as refused:
        activate_scenario(simulation, "alien-invasion")

    assert set(refused.value.options) == set(catalog.scenarios)


def test_a_stopped_run_settles_once_its_settling_time_has_passed(simulation, store, wall):
    activate_scenario(simulation, "supply-crisis")
    wall.advance(H)

    run, settled_at = stop_scenario(simulation)

    assert [e.type for e in store.log.events[-2:]] == [STOPPED, SETTLING]
    assert run.phase(simulation.now()) == "settling"
    advance_lifecycle(simulation)
    assert store.log.of_type(SETTLED) == []
    wall.advance(settled_at - simulation.now() + timedelta(seconds=1))
    advance_lifecycle(simulation)
    advance_lifecycle(simulation)
    (settled,) = store.log.of_type(SETTLED)
    assert settled.correlation_id == run.run_id


def test_a_run_left_to_its_end_settles_on_its_own(simulation, store, wall, catalog):
    activation = activate_scenario(simulation, "support-overload")

    wall.advance(catalog.scenario("support-overload").duration + timedelta(seconds=1))
    advance_lifecycle(simulation)
    wall.advance(activation.settled_by - simulation.now() + timedelta(seconds=1))
    advance_lifecycle(simulation)

    assert [e.type for e in store.log.events if e.type in (SETTLING, SETTLED)] == [
        SETTLING, SETTLED
    ]  # fmt: skip


def test_a_reset_opens_an_epoch_with_no_scenario_and_no_modifier(simulation, store):
    activate_scenario(simulation, "supply-crisis")
    apply_modifier(simulation, "customer.app.opened", "multiplier", 3.0, H)

    epoch = reset(simulation)

    state = simulation.state()
    assert epoch == state.epoch == 2
    assert state.active_run(simulation.now()) is None
    assert state.modifiers == ()


def test_a_modifier_ended_early_is_on_record_and_cannot_be_ended_again(simulation, store, wall):
    modifier = apply_modifier(simulation, "customer.app.opened", "multiplier", 3.0, 2 * H)
    wall.advance(H / 2)

    ended = end_modifier(simulation, modifier.modifier_id)

    assert modifier.start + H / 2 <= ended.end <= simulation.now() < modifier.start + 2 * H
    assert store.log.events[-1].type == MODIFIER_ENDED
    with pytest.raises(NotNow):
        end_modifier(simulation, modifier.modifier_id)
    with pytest.raises(Unknown):
        end_modifier(simulation, modifier.modifier_id + 100)


def test_a_modifier_that_runs_its_course_expires_on_record_once(simulation, store, wall):
    apply_modifier(simulation, "customer.app.opened", "additive", 50.0, H)

    wall.advance(H + timedelta(seconds=1))

    assert advance_lifecycle(simulation) == 1
    assert advance_lifecycle(simulation) == 0
    assert [e.type for e in store.log.events] == [MODIFIER, MODIFIER_EXPIRED]


def test_an_event_injected_ahead_is_recorded_when_due_and_keeps_its_id(simulation, store, wall):
    now = simulation.now()
    record = {"title": "Campus outage", "type": "infrastructure"}

    answer = inject(simulation, record, now + 2 * H, now)

    assert answer["scheduled"] and store.log.events[-1].type == SCHEDULED
    assert advance_lifecycle(simulation) == 0
    wall.advance(2 * H + timedelta(seconds=1))
    assert advance_lifecycle(simulation) == 1
    (external,) = store.log.of_type(EXTERNAL)
    assert external.occurred_at == now + 2 * H
    assert [e.id for e in simulation.state().externals] == [answer["id"]]


def test_a_faster_clock_moves_simulated_time_on_by_its_speed(simulation, store, wall):
    before = simulation.now()

    set_speed(store, 60, wall)
    wall.advance(timedelta(minutes=1))

    assert simulation.now() - before == pytest.approx(H, abs=timedelta(seconds=1))
