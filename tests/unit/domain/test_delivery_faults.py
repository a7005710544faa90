"""Faults of delivery as manual modifiers: late, out-of-order, duplicate and clock-skew
deliveries of a stream's events, each recorded with the row, while what happened (when each
event occurred, that it occurred once) stays in the log as it was."""

from __future__ import annotations

import itertools
from datetime import timedelta

import numpy as np
import pytest

from app.domain.calendar import HOUR
from app.domain.causes import modifier_cause, run_cause
from app.domain.effects import hour_average
from app.domain.events import NewEvent, reported_at
from app.domain.generator import TICK_TYPE, StreamGenerator
from app.domain.ground_truth import delivery_json, label
from app.domain.labels import Noise
from app.domain.model import MarketModel
from app.domain.simulation_state import ManualModifier, Run, SimulationState
from app.domain.state_effects import StateEffects
from app.domain.timerange import iso
from tests.unit.domain.test_generator import STEP, MemoryLog, fresh, snapshot_of
from tests.unit.domain.test_generator import run as run_generator
from tests.unit.services.fakes import recorded

LATE = "session.cancelled"
SHUFFLED = "tutor.earnings.credited"
DOUBLED = "customer.app.opened"
SKEWED = "support.chat.started"


@pytest.fixture(scope="module")
def model(catalog, quiet_view) -> MarketModel:
    return MarketModel(catalog, anchor=quiet_view.end)


@pytest.fixture(scope="module")
def noise(model) -> Noise:
    """No slot spread: a window's detectability rests on its own measures."""
    return Noise.of(model, np.zeros((model.stream_count, 2, 24)))


def fault(number: int, stream: str, kind: str, value: float, start, hours: float):
    end = start + hours * HOUR
    return ManualModifier(number, stream, kind, value, start, end, planned_end=end)


@pytest.fixture(scope="module")
def faulty(model, quiet_view):
    """Three hours with each fault acting from the first hour's end to the second's."""
    start = quiet_view.end + HOUR
    faults = {
        "late": fault(11, LATE, "late", 30.0, start, 1),
        "out-of-order": fault(12, SHUFFLED, "out-of-order", 20.0, start, 1),
        "duplicate": fault(13, DOUBLED, "duplicate", 0.25, start, 1),
        "clock-skew": fault(14, SKEWED, "clock-skew", -7.5, start, 1),
    }
    generator = fresh(model, quiet_view)
    generator.set_effects(StateEffects(SimulationState(modifiers=tuple(faults.values())), model))
    log = MemoryLog()
    run_generator(generator, log, steps=int(3 * HOUR / STEP))
    return faults, log, generator


def rows(log: MemoryLog, stream: str) -> list[tuple[int, NewEvent]]:
    return [(p, e) for p, e in enumerate(log.events, start=1) if e.stream == stream]


def chunk_written_in(log: MemoryLog, position: int, group: str):
    """The `until` of the chunk an event was appended in: its group's next tick."""
    for event in log.events[position:]:
        if event.type == TICK_TYPE and event.data["group"] == group:
            return event.occurred_at
    raise AssertionError("no tick after the event")


def test_late_events_arrive_their_delay_after_they_occurred_dated_when_they_did(faulty):
    faults, log, _ = faulty
    late = faults["late"]
    in_span = [(p, e) for p, e in rows(log, LATE) if late.in_force(e.occurred_at)]

    assert len(in_span) > 5
    for position, event in in_span:
        assert event.delivery == {"fault": "late", "modifier": 11, "delaySeconds": 1800.0}
        written = chunk_written_in(log, position, "high")
        assert written - STEP <= event.occurred_at + timedelta(minutes=30) < written
    assert all(e.delivery is None for _, e in rows(log, LATE) if not late.in_force(e.occurred_at))


def test_out_of_order_events_arrive_shuffled_within_their_horizon(faulty):
    faults, log, _ = faulty
    shuffled = faults["out-of-order"]
    in_span = [(p, e) for p, e in rows(log, SHUFFLED) if shuffled.in_force(e.occurred_at)]
    times = [e.occurred_at for _, e in in_span]

    delays = [e.delivery["delaySeconds"] for _, e in in_span]
    assert len(in_span) > 5 and all(0 <= d <= 1200 for d in delays)
    assert max(delays) - min(delays) > 600
    inversions = sum(1 for a, b in itertools.pairwise(times) if b < a)
    assert inversions > len(in_span) / 10
    for position, event in in_span:
        written = chunk_written_in(log, position, "medium")
        assert event.occurred_at + timedelta(seconds=event.delivery["delaySeconds"]) < written


def test_a_duplicate_is_its_originals_copy_delivered_after_it_and_causes_nothing(faulty):
    faults, log, _ = faulty
    doubled = faults["duplicate"]
    events = rows(log, DOUBLED)
    copies = [(p, e) for p, e in events if e.delivery and e.delivery["fault"] == "duplicate"]
    originals = [e for _, e in events if e.delivery is None and doubled.in_force(e.occurred_at)]

    assert 0.18 < len(copies) / len(originals) < 0.32
    for position, copy in copies:
        original = log.at(copy.delivery["of"])
        assert copy.delivery["of"] < position and doubled.in_force(original.occurred_at)
        assert (copy.occurred_at, copy.data, copy.value) == (
            original.occurred_at, original.data, original.value
        )  # fmt: skip
        assert original.delivery is None
    copy_positions = {p for p, _ in copies}
    assert not [e for e in log.events if e.causation_id in copy_positions]


def test_a_skewed_clock_stamps_its_offset_and_the_log_keeps_the_real_moment(faulty):
    faults, log, _ = faulty
    skewed = faults["clock-skew"]
    in_span = [e for _, e in rows(log, SKEWED) if skewed.in_force(e.occurred_at)]

    assert in_span
    for event in in_span:
        assert event.delivery == {"fault": "clock-skew", "modifier": 14, "skewSeconds": -450.0}
        assert reported_at(event.occurred_at, event.delivery) == (
            event.occurred_at - timedelta(minutes=7.5)
        )


def test_nothing_is_held_once_every_faults_events_arrived(faulty):
    _, log, generator = faulty
    assert generator.held_count() == 0
    assert all(e.delivery is None for e in log.events if e.kind != "stream")


def test_each_faults_window_is_labelled_with_its_kind_and_what_the_feed_shows(
    model, quiet_view, noise
):
    start = quiet_view.end + HOUR
    faults = [
        fault(21, LATE, "late", 30.0, start, 2),
        fault(22, SHUFFLED, "out-of-order", 20.0, start, 2),
        fault(23, DOUBLED, "duplicate", 0.25, start, 2),
        fault(24, SKEWED, "clock-skew", -7.5, start, 2),
    ]

    truth = label(model, [modifier_cause(f) for f in faults], quiet_view.end, 6, noise)

    shown = {w.stream: w.to_json() for w in truth.windows}
    assert {w["kind"] for w in shown.values()} == {
        "late",
        "out-of-order",
        "duplicate",
        "clock-skew",
    }
    assert shown[LATE]["end"] == iso(start + 3 * HOUR)  # the span, then its delay's hour
    assert shown[SHUFFLED]["expected"]["maxDelaySeconds"] == 1200
    assert shown[DOUBLED]["expected"]["duplicateShare"] == 0.25
    assert shown[SKEWED]["expected"]["skewSeconds"] == -450
    assert all(w["expected"]["ratio"] == 1.0 for w in shown.values())  # nothing happened
    state = SimulationState(modifiers=tuple(faults))
    acting = hour_average(StateEffects(state, model), start)
    assert all(acting.stream(model.index[f.stream]).is_identity for f in faults)
    assert shown[DOUBLED]["sigma"] > 3 and shown[DOUBLED]["detectability"] == "visible"
    assert shown[SKEWED]["detectability"] == shown[SHUFFLED]["detectability"] == "subtle"


def test_a_late_faults_window_asked_for_before_its_delay_has_run_goes_on(model, quiet_view, noise):
    start = quiet_view.end + 45 * timedelta(minutes=1)
    late = fault(31, LATE, "late", 30.0, start, 2)

    truth = label(model, [modifier_cause(late)], quiet_view.end, 1, noise)

    (window,) = truth.windows
    assert window.ongoing and window.end == quiet_view.end + HOUR


def test_a_restart_holds_again_the_late_caused_events_it_had_not_delivered(model, quiet_view):
    """From the fourth hour, when the cancellations come from sessions scheduled on the log
    (before, some come from the baseline's sessions, which a restore does not decide again)."""
    late = fault(41, LATE, "late", 45.0, quiet_view.end + 3 * HOUR, 6)
    effects = StateEffects(SimulationState(modifiers=(late,)), model)
    unbroken = fresh(model, quiet_view)
    unbroken.set_effects(effects)
    log = MemoryLog()
    run_generator(unbroken, log, steps=int(5 * HOUR / STEP))
    assert unbroken.held_count() > 0  # cancellations of the last 45 minutes, not yet arrived
    restarted = StreamGenerator(model, quiet_view, seed=5)
    restarted.restore(snapshot_of(log, restarted), start=quiet_view.end)
    restarted.set_effects(effects)
    after_restart = MemoryLog(list(log.events))

    run_generator(unbroken, log, steps=int(2 * HOUR / STEP))
    run_generator(restarted, after_restart, steps=int(2 * HOUR / STEP))

    assert late_arrivals(after_restart) == late_arrivals(log)


def late_arrivals(log: MemoryLog) -> list:
    return sorted(e.occurred_at for e in log.events if e.stream == LATE)


def test_a_scenarios_fault_acts_while_it_is_active_and_is_labelled_with_its_kind(
    model, quiet_view, noise
):
    """support-overload holds satisfaction answers back half an hour while it is active."""
    start = quiet_view.end + HOUR
    run = Run(51, "support-overload", start, start + 2 * HOUR)
    state = SimulationState(runs=(run,))

    (acting,) = StateEffects(state, model).deliveries()
    truth = label(model, [run_cause(model, run, start + 5 * HOUR)], quiet_view.end, 6, noise)

    assert (acting.fault, acting.value, acting.start, acting.end) == (
        "late", 30.0, start, start + 2 * HOUR
    )  # fmt: skip
    assert acting.stream == model.index["support.csat.submitted"] and acting.source == 51
    assert acting.by_run
    (window,) = [w.to_json() for w in truth.windows if w.kind == "late"]
    assert window["stream"] == "support.csat.submitted" and window["kind"] == "late"
    assert window["end"] == iso(start + 3 * HOUR)  # active two hours, then the delay's hour
    assert window["expected"]["delaySeconds"] == 1800 and window["source"]["id"] == "run-51"


def test_a_runs_faulted_rows_name_the_run_and_the_truth_of_them_its_id(model, quiet_view):
    start = quiet_view.end + 3 * HOUR
    run = Run(52, "support-overload", start, start + 3 * HOUR)
    generator = fresh(model, quiet_view)
    generator.set_effects(StateEffects(SimulationState(runs=(run,)), model))
    log = MemoryLog()

    run_generator(generator, log, steps=int(7 * HOUR / STEP))

    answers = [(p, e) for p, e in rows(log, "support.csat.submitted") if e.delivery]
    assert answers and all(e.delivery["run"] == 52 for _, e in answers)
    position, event = answers[0]
    recorded_row = recorded(event, position, epoch=1, recorded_at=event.occurred_at)
    assert delivery_json(recorded_row)["sourceId"] == "run-52"
