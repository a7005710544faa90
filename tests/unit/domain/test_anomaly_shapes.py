"""Shaped anomalies as manual modifiers: a spike, a trend and a missing stream change the
generated series the way their kind says, and their ground-truth windows carry that kind."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from app.domain.calendar import HOUR
from app.domain.causes import modifier_cause
from app.domain.effects import hour_average
from app.domain.ground_truth import label
from app.domain.hourly import Conditions, simulate
from app.domain.labels import Noise, spread_windows
from app.domain.model import MarketModel
from app.domain.simulation_state import ManualModifier, SimulationState
from app.domain.state_effects import StateEffects
from tests.unit.domain.test_generator import STEP, MemoryLog, fresh, hourly_counts, run

APP_OPENS = "customer.app.opened"


def modifier(
    kind: str, value: float, start, duration: timedelta, number: int = 7
) -> ManualModifier:
    end = start + duration
    return ManualModifier(number, APP_OPENS, kind, value, start, end, planned_end=end)


@pytest.fixture(scope="module")
def model(catalog, quiet_view) -> MarketModel:
    return MarketModel(catalog, anchor=quiet_view.end)


def test_a_trend_drifts_in_a_straight_line_from_x1_to_its_value(quiet_view):
    start = quiet_view.end
    trend = modifier("trend", 3.0, start, 4 * HOUR)

    factors = [trend.factor_at(start + h * HOUR) for h in range(5)]

    assert factors == [1.0, 1.5, 2.0, 2.5, 3.0]
    ended_early = ManualModifier(7, APP_OPENS, "trend", 3.0, start, start + HOUR,
                                 planned_end=start + 4 * HOUR)  # fmt: skip
    assert ended_early.factor_at(start + HOUR / 2) == 1.25  # its slope is its planned one


def test_an_hour_of_a_trend_is_taken_at_its_middle_by_the_hourly_model(model, quiet_view):
    start = quiet_view.end
    trend = modifier("trend", 3.0, start, 4 * HOUR)
    effects = StateEffects(SimulationState(modifiers=(trend,)), model)
    stream = model.index[APP_OPENS]

    hourly = [hour_average(effects, start + h * HOUR).stream(stream).factor for h in range(4)]

    assert hourly == pytest.approx([1.25, 1.75, 2.25, 2.75])


def test_a_missing_stream_multiplies_by_nothing_and_a_spike_by_its_value(quiet_view):
    start = quiet_view.end
    assert modifier("missing", 0.0, start, HOUR).factor_at(start) == 0.0
    assert modifier("spike", 6.0, start, HOUR / 6).factor_at(start) == 6.0
    assert [modifier(t, 2.0, start, HOUR).kind for t in ("multiplier", "additive", "override")] == [
        "level-shift"
    ] * 3


def test_a_seasonality_change_flattens_the_days_profile_and_keeps_its_total(model, quiet_view):
    start = quiet_view.end
    flat = modifier("seasonality", 1.0, start, 24 * HOUR)
    effects = StateEffects(SimulationState(modifiers=(flat,)), model)
    stream = model.index[APP_OPENS]
    day = model.day_of(model.own_profile(stream), start)

    hours = [start + h * HOUR for h in range(24)]
    factors = np.array([hour_average(effects, hour).stream(stream).factor for hour in hours])
    reshaped = factors * day[[hour.hour for hour in hours]]

    assert reshaped == pytest.approx(np.full(24, day.mean()))
    assert flat.kind == "seasonality" and modifier_cause(flat).shape == "seasonality"
    assert hour_average(effects, start + 24 * HOUR).stream(stream).factor == 1.0


def generated(model, view, *modifiers: ManualModifier, hours: int) -> MemoryLog:
    generator = fresh(model, view)
    generator.set_effects(StateEffects(SimulationState(modifiers=modifiers), model))
    log = MemoryLog()
    run(generator, log, steps=int(hours * HOUR / STEP))
    return log


@pytest.mark.slow
def test_the_generated_series_has_each_kinds_property(model, quiet_view):
    """Over four hours: app opens stop in the first hour, burst to x6 for ten minutes in the
    second, and drift from x1 to x3 over the third and fourth, against the same hours without
    them."""
    start = quiet_view.end
    missing = modifier("missing", 0.0, start + timedelta(minutes=15), timedelta(minutes=30))
    spike = modifier("spike", 6.0, start + timedelta(minutes=80), HOUR / 6, number=8)
    trend = modifier("trend", 3.0, start + 2 * HOUR, 2 * HOUR, number=9)

    shaped = generated(model, quiet_view, missing, spike, trend, hours=4)
    plain = generated(model, quiet_view, hours=4)

    opens = [e for e in shaped.events if e.stream == APP_OPENS]
    assert opens and not [e for e in opens if missing.start <= e.occurred_at < missing.end]
    in_spike = minute_counts(shaped, spike.start, 10)
    before = minute_counts(plain, spike.start, 10)
    assert 4.5 < in_spike.sum() / before.sum() < 7.5
    ratios = hourly_counts(shaped, APP_OPENS, trend.start, 2) / hourly_counts(
        plain, APP_OPENS, trend.start, 2
    )
    assert ratios == pytest.approx([1.5, 2.5], rel=0.1)  # x1 to x3: 1.5 and 2.5 at the middles


def minute_counts(log: MemoryLog, start, minutes: int) -> np.ndarray:
    counts = np.zeros(minutes)
    end = start + timedelta(minutes=minutes)
    for event in log.events:
        if event.stream == APP_OPENS and start <= event.occurred_at < end:
            counts[int((event.occurred_at - start).total_seconds() // 60)] += 1
    return counts


def test_a_shaped_modifiers_cause_carries_its_kind_and_parameters(quiet_view):
    trend = modifier("trend", 3.0, quiet_view.end, 4 * HOUR)
    missing = modifier("missing", 0.0, quiet_view.end, HOUR)

    cause = modifier_cause(trend)

    assert cause.shape == "trend"
    assert cause.source["type"] == "trend"
    assert (cause.source["value"], cause.source["durationSeconds"]) == (3.0, 4 * 3600.0)
    assert modifier_cause(missing).source["value"] is None
    assert modifier_cause(missing).source["title"] == f"missing on {APP_OPENS}"


LATENCY = "system.api.latency"
DEPTH = "system.queue.depth"
GATEWAY = "system.payment.gateway.latency"


def gauge_modifier(stream: str, kind: str, value: float, start, duration, number: int):
    end = start + duration
    return ManualModifier(number, stream, kind, value, start, end, planned_end=end)


@pytest.mark.slow
def test_a_gauges_variance_widens_its_noise_a_flatline_holds_its_last_sample_and_a_gap_drops_them(
    model, quiet_view
):
    start = quiet_view.end + HOUR
    wider = gauge_modifier(LATENCY, "variance", 3.0, start, HOUR, number=11)
    stuck = gauge_modifier(DEPTH, "flatline", 0.0, start, HOUR, number=12)
    gap = gauge_modifier(GATEWAY, "missing", 0.0, start, HOUR, number=13)

    shaped = generated(model, quiet_view, wider, stuck, gap, hours=3)
    plain = generated(model, quiet_view, hours=3)

    def samples(log, stream, lo, hi):
        return [e for e in log.events if e.stream == stream and lo <= e.occurred_at < hi]

    def spread(log) -> float:
        values = np.array([e.value for e in samples(log, LATENCY, start, start + HOUR)])
        return float(np.std(np.diff(values)))  # the level barely moves between samples

    assert 2.5 < spread(shaped) / spread(plain) < 3.5
    before = samples(shaped, DEPTH, quiet_view.end, start)[-1].value
    held = samples(shaped, DEPTH, start, start + HOUR)
    assert len(held) > 10 and {e.value for e in held} == {before}
    after = samples(shaped, DEPTH, start + HOUR, start + 2 * HOUR)
    assert len({e.value for e in after}) > 10  # it moves again
    assert [e.value for e in samples(shaped, DEPTH, start + HOUR, start + 2 * HOUR)] == [
        e.value for e in samples(plain, DEPTH, start + HOUR, start + 2 * HOUR)
    ]
    assert samples(shaped, GATEWAY, start, start + HOUR) == []
    assert len(samples(plain, GATEWAY, start, start + HOUR)) > 100  # a sample every 5.5 s
    after_gap = samples(shaped, GATEWAY, start + HOUR, start + 2 * HOUR)
    assert [e.occurred_at for e in after_gap] == [
        e.occurred_at for e in samples(plain, GATEWAY, start + HOUR, start + 2 * HOUR)
    ]  # on its grid again (its values move with what the other modifiers do downstream)


def test_a_change_of_spread_is_labelled_on_its_gauge_though_its_expectation_stays(
    model, quiet_view
):
    start = quiet_view.end
    expected = np.ones((model.stream_count, 6))
    wider = gauge_modifier(LATENCY, "variance", 2.0, start + HOUR / 2, 2 * HOUR, number=11)
    stuck = gauge_modifier(DEPTH, "flatline", 0.0, start, HOUR, number=12)

    (window,) = spread_windows(model, modifier_cause(wider), start, expected)
    (flat,) = spread_windows(model, modifier_cause(stuck), start, expected)

    assert (window.stream, window.start, window.end) == (LATENCY, start, start + 3 * HOUR)
    assert window.expected["ratio"] == 1.0 and window.expected["spreadRatio"] == 2.0
    assert window.to_json()["kind"] == "variance"
    assert window.detectability == "visible"  # plain in the samples, never in an hour's mean
    assert flat.expected["spreadRatio"] == 0.0 and flat.sigma == 1e6


SEARCHES = "customer.tutor.search"


def searches_modifier(kind: str, value: float, start, duration, number: int) -> ManualModifier:
    end = start + duration
    return ManualModifier(number, SEARCHES, kind, value, start, end, planned_end=end)


@pytest.mark.slow
def test_a_correlation_break_stops_a_stream_following_its_cause_and_it_follows_again_after(
    model, quiet_view
):
    """App opens x4 for three hours; searches (which app opens start within 15 minutes)
    follow them, except in the second hour, decoupled: there they arrive at the plain
    expectation of the hour (the calendar's, without the surge or the baseline's events
    still acting), none of them caused."""
    start = quiet_view.end
    surge = modifier("multiplier", 4.0, start, 3 * HOUR, number=21)
    decoupled = searches_modifier("correlation-break", 0.0, start + HOUR, HOUR, number=22)

    broken = generated(model, quiet_view, surge, decoupled, hours=3)
    followed = generated(model, quiet_view, surge, hours=3)
    plain = generated(model, quiet_view, hours=3)
    timeline = fresh(model, quiet_view).timeline
    timeline.cover(start + 3 * HOUR)
    h = timeline.index(start + HOUR)
    calendar = timeline.expected[model.index[SEARCHES], h]

    def searches(log) -> np.ndarray:
        return hourly_counts(log, SEARCHES, start, 3)

    assert searches(followed)[1] / searches(plain)[1] > 2.5  # searches follow the surge
    assert searches(broken)[1] == pytest.approx(calendar, rel=0.1)  # not while decoupled
    assert searches(broken)[2] / searches(plain)[2] > 2.0  # and follow it again after
    in_break = [
        e for e in broken.events
        if e.stream == SEARCHES and decoupled.start <= e.occurred_at < decoupled.end
    ]  # fmt: skip
    assert in_break and all(e.causation_id is None for e in in_break)
    assert {e.correlation_id for e in in_break} == {22}


def test_the_hourly_model_takes_a_decoupled_streams_plain_expectation(model, quiet_view):
    start = quiet_view.end
    surge = modifier("multiplier", 4.0, start, 3 * HOUR, number=21)
    decoupled = searches_modifier("correlation-break", 0.0, start + HOUR, HOUR, number=22)
    effects = StateEffects(SimulationState(modifiers=(surge, decoupled)), model)
    plain = simulate(model, start, 3)
    conditions = Conditions(effects=[hour_average(effects, start + h * HOUR) for h in range(3)])

    bent = simulate(model, start, 3, expected=plain, conditions=conditions)

    row = model.index[SEARCHES]
    assert bent.values[row, 1] == pytest.approx(plain.values[row, 1])
    assert bent.values[row, 2] > 2 * plain.values[row, 2]


def test_a_correlation_break_is_labelled_on_its_stream_with_what_it_stopped_following(
    model, quiet_view
):
    start = quiet_view.end
    decoupled = searches_modifier("correlation-break", 0.0, start + HOUR, 2 * HOUR, number=22)
    noise = Noise.of(model, np.zeros((model.stream_count, 2, 24)))

    truth = label(model, [modifier_cause(decoupled)], start, 6, noise)

    (window,) = [w for w in truth.windows if w.stream == SEARCHES]
    shown = window.to_json()
    assert (window.start, window.end) == (start + HOUR, start + 3 * HOUR)
    assert shown["kind"] == "correlation-break" and shown["detectability"] == "subtle"
    assert APP_OPENS in shown["decoupledFrom"]
    assert decoupled.given_value is None and decoupled.factor_at(start + HOUR) == 1.0
