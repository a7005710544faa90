"""Scenarios, modifiers and injected events as pure decisions over folded state: the lifecycle
(`simulation_state`, `commands`), settling curves (`settling`) and effects (`state_effects`)."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import count

import numpy as np
import pytest

from app.domain.commands import activate, due, end_early, injected_events, stop
from app.domain.effects import hour_average
from app.domain.errors import NotNow, Unknown
from app.domain.events import NewEvent, RecordedEvent
from app.domain.hourly import Conditions, simulate
from app.domain.model import MarketModel
from app.domain.settling import SETTLED_WITHIN, deviation, settle_time, weight
from app.domain.simulation_state import (
    ACTIVATED,
    EXTERNAL,
    SCHEDULED,
    SETTLED,
    SimulationState,
    fold,
)
from app.domain.state_effects import StateEffects
from app.domain.timerange import iso

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
H = timedelta(hours=1)
SCENARIOS = (
    "exam-season-surge", "supply-crisis", "payment-outage", "quality-crisis", "support-overload",
    "churn-pattern", "recruiting-crisis", "competitor-disruption", "normal-operations",
)  # fmt: skip


class Log:
    """Recorded events for the fold, positions from 1 (scaffolding for the pure domain)."""

    def __init__(self) -> None:
        self.events: list[RecordedEvent] = []
        self.positions = count(1)

    def add(self, *events: NewEvent, epoch: int = 1) -> list[RecordedEvent]:
        recorded = [
            RecordedEvent(next(self.positions), epoch, e.kind, e.type, e.stream, e.occurred_at,
                          e.occurred_at, e.data, e.value, e.normalized, e.flag, e.causation_id,
                          e.correlation_id)
            for e in events
        ]  # fmt: skip
        self.events.extend(recorded)
        return recorded

    @property
    def state(self) -> SimulationState:
        return fold(self.events)


@pytest.fixture(scope="module")
def model(catalog) -> MarketModel:
    return MarketModel(catalog, anchor=NOW - 10 * H)


def activated(log: Log, catalog, scenario_id: str, at: datetime = NOW) -> int:
    scenario = catalog.scenario(scenario_id)
    run_id = log.add(activate(log.state, scenario, at))[0].position
    log.add(*injected_events(scenario, catalog, at, run_id))
    return run_id


def test_all_nine_scenarios_are_defined(catalog):
    assert tuple(catalog.scenarios) == SCENARIOS


def test_an_activation_opens_an_active_run_until_its_duration_ends(catalog):
    log = Log()
    run_id = activated(log, catalog, "supply-crisis")

    run = log.state.run(run_id)
    assert run.phase(NOW + 23 * H) == "active"
    assert run.ends_at == NOW + timedelta(days=1)
    assert run.phase(NOW + 25 * H) == "settling"


def test_a_second_activation_is_refused_naming_the_active_one(catalog):
    log = Log()
    activated(log, catalog, "supply-crisis")

    with pytest.raises(NotNow) as refused:
        activate(log.state, catalog.scenario("payment-outage"), NOW + H)

    assert refused.value.code == "scenario_active"
    assert "supply-crisis" in refused.value.message


def test_a_settling_run_does_not_block_the_next_activation(catalog, model):
    log = Log()
    activated(log, catalog, "supply-crisis")
    run, events = stop(log.state, catalog.scenario("supply-crisis"), model, NOW + H)
    log.add(*events)

    second = activate(log.state, catalog.scenario("payment-outage"), NOW + 2 * H)

    assert second.type == ACTIVATED
    assert log.state.run(run.run_id).phase(NOW + 2 * H) == "settling"


def test_stop_without_an_active_scenario_is_refused(catalog, model):
    with pytest.raises(NotNow) as refused:
        stop(SimulationState(), None, model, NOW)
    assert refused.value.code == "no_active_scenario"


def test_events_at_negative_offsets_are_recorded_in_the_past_and_later_ones_scheduled(catalog):
    scenario = catalog.scenario("exam-season-surge")  # finals-week -P1D, sat-exams PT4H
    events = injected_events(scenario, catalog, NOW, run_id=7)

    past = [e for e in events if e.type == EXTERNAL]
    future = [e for e in events if e.type == SCHEDULED]
    assert [e.occurred_at for e in past] == [NOW - timedelta(days=1)]
    assert [e.data["dueAt"] for e in future] == ["2026-11-20T16:00:00Z"]
    assert all(e.correlation_id == 7 for e in events)
    assert past[0].data["actualImpact"] is False  # the scenario's modifiers carry the effect


def test_time_brings_settling_at_the_end_settled_later_and_scheduled_events(catalog, model):
    log = Log()
    run_id = activated(log, catalog, "exam-season-surge")

    at_4h = due(log.state, catalog, model, NOW + 5 * H)
    assert [e.type for e in at_4h] == [EXTERNAL]
    log.add(*at_4h)
    ends = NOW + timedelta(days=2)
    log.add(*due(log.state, catalog, model, ends + H))
    run = log.state.run(run_id)
    assert (run.settling_from, run.settling_reason) == (ends, "duration")
    log.add(*due(log.state, catalog, model, run.settled_at + H))
    assert log.events[-1].type == SETTLED
    assert due(log.state, catalog, model, run.settled_at + 2 * H) == []


@pytest.mark.parametrize(
    ("scenario_id", "curve"),
    [("exam-season-surge", "linear"), ("payment-outage", "immediate"),
     ("quality-crisis", "exponential")],
)  # fmt: skip
def test_each_curve_brings_every_change_within_5_percent_by_the_settled_time(
    catalog, model, scenario_id, curve
):
    scenario = catalog.scenario(scenario_id)
    log = Log()
    run_id = activated(log, catalog, scenario_id)
    log.add(*stop(log.state, scenario, model, NOW + H)[1])
    run = log.state.run(run_id)
    worst = max(deviation(m, model) for m in (*scenario.modifiers, *scenario.cascade_rules))

    assert scenario.settling.curve == curve
    assert run.settled_at == settle_time(scenario, model, NOW + H)
    assert worst * weight(scenario, run, run.settled_at) <= SETTLED_WITHIN + 1e-9
    if curve != "immediate":
        assert worst * weight(scenario, run, run.settled_at - H) > SETTLED_WITHIN


def test_settling_curves_have_their_shapes(catalog, model):
    for scenario_id, at_half, expected in (
        ("exam-season-surge", timedelta(hours=6), 0.5),  # linear over 12 h
        ("quality-crisis", timedelta(days=1), 0.5),  # exponential, half-life 1 day
        ("payment-outage", timedelta(minutes=1), 0.0),  # immediate
    ):
        scenario = catalog.scenario(scenario_id)
        log = Log()
        run_id = activated(log, catalog, scenario_id)
        log.add(*stop(log.state, scenario, model, NOW + H)[1])
        run = log.state.run(run_id)
        assert weight(scenario, run, NOW + H + at_half) == pytest.approx(expected), scenario_id


def test_modifiers_become_adjustments_of_their_targets(catalog, model):
    log = Log()
    activated(log, catalog, "payment-outage")
    effects = StateEffects(log.state, model).at(NOW + 10 * 60 * timedelta(seconds=1))

    failure = effects.rate("payment_failure")
    assert (failure.override, failure.weight) == (0.95, 1.0)
    assert effects.stream(model.index["system.payment.gateway.latency"]).factor == 6
    assert effects.rate_sources["payment_failure"] == log.events[0].position


def test_cascade_rules_start_after_their_delay(catalog, model):
    log = Log()
    activated(log, catalog, "payment-outage")  # queue depth x4 after 30 minutes
    queue = model.index["system.queue.depth"]
    state = log.state

    assert StateEffects(state, model).at(NOW + timedelta(minutes=10)).stream(queue).factor == 1
    assert StateEffects(state, model).at(NOW + timedelta(minutes=40)).stream(queue).factor == 4


def test_a_ramped_modifier_grows_in_a_straight_line_and_stops_growing_when_settling(catalog):
    overload = catalog.scenario("support-overload")  # chats x2.2, settling linear over 6 h
    ramped = tuple(
        m.model_copy(update={"ramp": 2 * H}) if m.target.stream == "support.chat.started" else m
        for m in overload.modifiers
    )
    scenarios = {
        **catalog.scenarios,
        overload.id: overload.model_copy(update={"modifiers": ramped}),
    }
    model = MarketModel(dataclasses.replace(catalog, scenarios=scenarios), anchor=NOW - 10 * H)
    chats = model.index["support.chat.started"]
    log = Log()
    activated(log, catalog, "support-overload")
    effects = StateEffects(log.state, model)

    factors = [effects.at(NOW + k * H / 2).stream(chats).factor for k in range(5)]

    assert factors == pytest.approx([1.0, 1.3, 1.6, 1.9, 2.2])
    assert NOW + 2 * H in effects.changes()
    assert hour_average(effects, NOW).stream(chats).factor == pytest.approx(1.3)
    log.add(*stop(log.state, overload, model, NOW + H)[1])
    settling = StateEffects(log.state, model)
    halfway = settling.at(NOW + 4 * H).stream(chats).factor  # half settled, half ramped
    assert halfway == pytest.approx(1 + 1.2 * 0.5 * 0.5)


def test_an_immediate_stop_leaves_only_the_backlog_spike(catalog, model):
    scenario = catalog.scenario("payment-outage")
    log = Log()
    activated(log, catalog, "payment-outage")
    log.add(*stop(log.state, scenario, model, NOW + H)[1])
    effects = StateEffects(log.state, model)
    queue = model.index["system.queue.depth"]

    during = effects.at(NOW + 2 * H)
    assert during.rate("payment_failure").is_identity
    assert during.stream(queue).factor == pytest.approx(scenario.settling.backlog.multiplier)
    assert effects.at(NOW + 4 * H).stream(queue).factor == 1


@pytest.mark.parametrize("scenario_id", SCENARIOS)
def test_each_scenario_shows_its_modifiers_in_the_generated_flow(catalog, model, scenario_id):
    """Every scenario but normal operations moves the streams it targets in the hourly flow;
    once it has settled, the roots and gauges it changed are back within a few percent (the
    streams a coupling ties to a week-long window take that long to follow)."""
    scenario = catalog.scenario(scenario_id)
    log = Log()
    start = NOW - 5 * 24 * H
    activated(log, catalog, scenario_id, at=start + 24 * H)
    effects = StateEffects(log.state, model)
    hours = 12 * 24
    plain = simulate(model, start, hours)
    bent = simulate(
        model, start, hours, expected=plain,
        conditions=Conditions(effects=[effects.at(start + (h + 0.5) * H) for h in range(hours)],
                              releases=effects.releases()),
    )  # fmt: skip
    same_path = simulate(model, start, hours, expected=plain)
    busy = same_path.values > 0.5
    moved = np.where(busy, np.abs(bent.values / np.where(busy, same_path.values, 1) - 1), 0)
    during = moved[:, 24 + 1 : 24 + 12].max()
    if scenario_id == "normal-operations":
        assert during < 1e-6
        return
    assert during > 0.1
    coupled = {c.target_stream for c in model.couplings}
    direct = {model.index[m.target.stream] for m in scenario.modifiers if m.target.stream} - coupled
    settled_at = settle_time(scenario, model, log.state.runs[0].ends_at)
    after = int((settled_at - start) / H) + 1
    if direct and after < hours:
        assert moved[sorted(direct), after:].max() < 0.06


def test_a_log_that_wrote_its_times_with_plus_zero_folds_as_one_that_wrote_z(catalog, model):
    """Rows on record before times went out with Z hold `+00:00`: they fold the same."""
    log = Log()
    activated(log, catalog, "exam-season-surge")  # its sat-exams event is scheduled: dueAt
    log.add(*stop(log.state, catalog.scenario("exam-season-surge"), model, NOW + H)[1])
    log.add(NewEvent(kind="scenario", type="modifier.applied", occurred_at=NOW,
                     data={"stream": "customer.app.opened", "type": "multiplier", "value": 10,
                           "until": iso(NOW + 2 * H)}))  # fmt: skip
    times = ("endsAt", "dueAt", "settledAt", "until")
    written = {k: v for e in log.events for k, v in e.data.items() if k in times}
    older = [
        replace(e, data={k: v.replace("Z", "+00:00") if k in times else v
                         for k, v in e.data.items()})
        for e in log.events
    ]  # fmt: skip

    assert set(written) == set(times)
    assert all(v.endswith("Z") for v in written.values())
    assert fold(older) == log.state


def test_a_manual_modifier_acts_only_in_its_window(catalog, model):
    log = Log()
    log.add(NewEvent(kind="scenario", type="modifier.applied", occurred_at=NOW,
                     data={"stream": "customer.app.opened", "type": "multiplier", "value": 10,
                           "until": (NOW + 2 * H).isoformat()}))  # fmt: skip
    effects = StateEffects(log.state, model)
    stream = model.index["customer.app.opened"]

    assert effects.at(NOW + H).stream(stream).factor == 10
    assert effects.at(NOW + 3 * H).stream(stream).factor == 1


def tenfold_app_opens(log: Log) -> int:
    """A modifier from NOW for two hours: app opens x10. Its id (position)."""
    applied = NewEvent(kind="scenario", type="modifier.applied", occurred_at=NOW,
                       data={"stream": "customer.app.opened", "type": "multiplier", "value": 10,
                             "until": (NOW + 2 * H).isoformat()})  # fmt: skip
    return log.add(applied)[0].position


def test_a_modifier_ended_early_acts_until_the_moment_it_was_ended(catalog, model):
    log = Log()
    modifier_id = tenfold_app_opens(log)
    log.add(end_early(log.state, modifier_id, NOW + H / 2))
    effects = StateEffects(log.state, model)
    stream = model.index["customer.app.opened"]

    (modifier,) = log.state.modifiers
    assert modifier.end == NOW + H / 2
    assert effects.at(NOW + H / 4).stream(stream).factor == 10
    assert effects.at(NOW + H / 2).stream(stream).factor == 1
    assert effects.at(NOW + H).stream(stream).factor == 1


def test_ending_a_modifier_records_which_one_and_its_planned_end(catalog):
    log = Log()
    modifier_id = tenfold_app_opens(log)

    event = end_early(log.state, modifier_id, NOW + H)

    assert (event.kind, event.type, event.correlation_id) == (
        "scenario", "modifier.ended", modifier_id
    )  # fmt: skip
    assert event.data == {
        "modifierId": f"mod-{modifier_id}",
        "stream": "customer.app.opened",
        "plannedEnd": "2026-11-20T14:00:00Z",
    }


def test_ending_leaves_the_other_modifiers_in_force(catalog, model):
    log = Log()
    first, second = tenfold_app_opens(log), tenfold_app_opens(log)
    log.add(end_early(log.state, first, NOW + H / 2))

    in_force = [m.modifier_id for m in log.state.modifiers if m.in_force(NOW + H)]
    assert in_force == [second]


@pytest.mark.parametrize("later", [2 * H, 3 * H], ids=["at-its-end", "after-its-end"])
def test_a_modifier_at_or_past_its_end_cannot_be_ended(catalog, later):
    log = Log()
    modifier_id = tenfold_app_opens(log)

    with pytest.raises(NotNow) as refused:
        end_early(log.state, modifier_id, NOW + later)
    assert refused.value.code == "modifier_over"


def test_a_modifier_ended_once_cannot_be_ended_again(catalog):
    log = Log()
    modifier_id = tenfold_app_opens(log)
    log.add(end_early(log.state, modifier_id, NOW + H / 2))

    with pytest.raises(NotNow) as refused:
        end_early(log.state, modifier_id, NOW + H)
    assert refused.value.code == "modifier_over"


def test_a_modifier_expires_on_record_at_its_planned_end_once(catalog, model):
    log = Log()
    modifier_id = tenfold_app_opens(log)

    assert due(log.state, catalog, model, NOW + H) == []
    (expired,) = due(log.state, catalog, model, NOW + 3 * H)
    assert (expired.kind, expired.type, expired.correlation_id) == (
        "scenario", "modifier.expired", modifier_id
    )  # fmt: skip
    assert expired.occurred_at == NOW + 2 * H
    assert expired.data == {"modifierId": f"mod-{modifier_id}", "stream": "customer.app.opened"}
    log.add(expired)
    assert due(log.state, catalog, model, NOW + 4 * H) == []
    assert log.state.modifiers[0].end == NOW + 2 * H


def test_a_modifier_ended_early_does_not_expire_later(catalog, model):
    log = Log()
    modifier_id = tenfold_app_opens(log)
    log.add(end_early(log.state, modifier_id, NOW + H / 2))

    assert due(log.state, catalog, model, NOW + 3 * H) == []


def test_a_modifier_of_an_earlier_epoch_is_unknown(catalog):
    log = Log()
    modifier_id = tenfold_app_opens(log)
    log.add(NewEvent(kind="control", type="control.reset", occurred_at=NOW + H / 2), epoch=2)

    with pytest.raises(Unknown) as refused:
        end_early(log.state, modifier_id, NOW + H)
    assert refused.value.code == "unknown_modifier"


def test_a_reset_clears_runs_modifiers_and_events(catalog):
    log = Log()
    activated(log, catalog, "exam-season-surge")
    log.add(NewEvent(kind="control", type="control.reset", occurred_at=NOW + H), epoch=2)

    state = log.state
    assert (state.epoch, state.runs, state.externals, dict(state.scheduled)) == (2, (), (), {})
    assert state.epoch_start == NOW + H


def test_a_red_herring_injected_by_hand_has_no_effect(catalog, model):
    from app.domain.commands import external_record

    log = Log()
    record = external_record(catalog, "tiktok-mention", NOW, actual=False)
    log.add(NewEvent(kind="external", type=EXTERNAL, occurred_at=NOW, data=record))
    effects = StateEffects(log.state, model).at(NOW + H)

    assert effects.streams == {}
