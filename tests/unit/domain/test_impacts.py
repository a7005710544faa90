"""Known answers of external events' impacts: the window's ramp, its hourly average, the
multipliers in force at a moment and how a template's multipliers are netted down a funnel."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from app.domain.impacts import (
    Impact,
    ImpactEffects,
    MeasuredEffect,
    event_impact,
    hourly_shape,
    impact_factors,
    impact_window,
    logged_impacts,
    measured_effect,
    shape_at,
)
from app.domain.model import MarketModel

H = timedelta(hours=1)
START = datetime(2026, 11, 2, 6, tzinfo=UTC)
END = START + 20 * H
"""A 20-hour window: its ramps are round(20 x 15%) + 1 = 4 hours long."""
STREAM = 3


@pytest.fixture(scope="module")
def model(catalog) -> MarketModel:
    return MarketModel(catalog, anchor=datetime(2026, 11, 1, tzinfo=UTC))


def test_an_impact_weighs_nothing_before_its_window_and_from_its_end_on():
    assert shape_at(START, END, START - timedelta(seconds=1)) == 0.0
    assert shape_at(START, END, END) == 0.0
    assert shape_at(START, END, END + 5 * H) == 0.0


def test_a_20_hour_impact_ramps_in_over_4_hours_holds_then_ramps_out():
    weights = [shape_at(START, END, START + k * H) for k in (0, 1, 2, 3, 10, 16, 17, 19)]

    assert weights == pytest.approx([0.25, 0.5, 0.75, 1.0, 1.0, 1.0, 0.75, 0.25])
    assert shape_at(START, END, END - H / 2) == pytest.approx(0.125)


def test_a_two_hour_impact_never_reaches_full_strength():
    end = START + 2 * H

    assert shape_at(START, end, START) == 0.5
    assert shape_at(START, end, START + H) == 0.5


def test_the_hourly_shape_is_zero_outside_the_window_and_one_in_its_middle():
    grid = START - 2 * H

    shape = hourly_shape(START, END, grid, 30)

    assert shape[:2] == pytest.approx([0.0, 0.0])
    assert shape[22:] == pytest.approx(np.zeros(8))
    assert shape[5:18] == pytest.approx(np.ones(13))


def test_the_hourly_shape_averages_the_ramp_over_the_hours_five_minute_slices():
    # In the first hour the twelve slices start 0, 5, ..., 55 minutes in: (1 + since) / 4
    # averages to (1 + 27.5/60) / 4.
    shape = hourly_shape(START, END, START, 20)

    assert shape[0] == pytest.approx((1 + 27.5 / 60) / 4, abs=1e-12)
    five_minutes = timedelta(minutes=5)
    for hour in (0, 1, 17, 19):
        slices = [shape_at(START, END, START + hour * H + k * five_minutes) for k in range(12)]
        assert shape[hour] == pytest.approx(np.mean(slices), abs=1e-12)


def test_an_impact_multiplies_its_stream_in_its_window_and_leaves_it_alone_outside():
    effects = ImpactEffects([Impact("flash-sale", START, END, {STREAM: 2.0}, source=42)])

    middle = effects.at(START + 10 * H)
    adjust = middle.stream(STREAM)
    assert (adjust.factor, adjust.add, adjust.override) == (2.0, 0.0, None)
    assert middle.stream_sources == {STREAM: 42}

    before, after = effects.at(START - H), effects.at(END)
    assert before.stream(STREAM).factor == after.stream(STREAM).factor == 1.0
    assert before.stream_sources == after.stream_sources == {}


def test_on_the_ramp_an_impact_moves_its_stream_by_the_weighted_share_of_its_change():
    effects = ImpactEffects([Impact("flash-sale", START, END, {STREAM: 3.0})])

    # A quarter of the way in weight: 1 + (3 - 1) x 0.25.
    assert effects.at(START).stream(STREAM).factor == pytest.approx(1.5)


def test_a_baseline_event_acts_without_a_log_position_to_name():
    effects = ImpactEffects([Impact("flash-sale", START, END, {STREAM: 2.0})])

    middle = effects.at(START + 10 * H)

    assert middle.stream(STREAM).factor == 2.0
    assert middle.stream_sources == {}


def test_overlapping_events_of_one_template_do_not_compound_the_strongest_holds():
    effects = ImpactEffects([
        Impact("outage", START, END, {STREAM: 3.0}, source=1),
        Impact("outage", START, END, {STREAM: 0.25}, source=2),
    ])  # fmt: skip

    middle = effects.at(START + 10 * H)

    # |log 0.25| = 1.39 is stronger than log 3 = 1.10.
    assert middle.stream(STREAM).factor == 0.25
    assert middle.stream_sources == {STREAM: 2}


def test_overlapping_events_of_different_templates_multiply():
    effects = ImpactEffects([
        Impact("outage", START, END, {STREAM: 3.0}),
        Impact("promotion", START, END, {STREAM: 2.0}),
    ])  # fmt: skip

    assert effects.at(START + 10 * H).stream(STREAM).factor == pytest.approx(6.0)


def test_the_impact_window_starts_after_the_templates_delay_and_lasts_its_duration(catalog):
    template = catalog.template("weather-event")
    occurred = datetime(2026, 11, 3, 12, tzinfo=UTC)

    start, end = impact_window(template, occurred)

    assert start == occurred + template.expected_impact.delay
    assert end - start == template.expected_impact.duration


def test_a_stream_named_with_one_upstream_gets_only_the_rest_of_its_change(model):
    # weather-event: student no-shows up "medium" (x1.8), app opens up "low" (x1.3) upstream.
    factors = impact_factors(model, model.catalog.template("weather-event"))

    assert factors[model.index["customer.app.opened"]] == pytest.approx(1.3)
    assert factors[model.index["session.noshow.student"]] == pytest.approx(1.8 / 1.3)


def test_naming_a_whole_funnel_moves_only_its_top(model):
    # ib-exam-season names app opens, searches and booking requests "medium": searches and
    # bookings already rise x1.8 through the rules, so they get nothing more.
    factors = impact_factors(model, model.catalog.template("ib-exam-season"))

    assert factors[model.index["customer.app.opened"]] == pytest.approx(1.8)
    assert factors[model.index["customer.tutor.search"]] == 1.0
    assert factors[model.index["customer.booking.requested"]] == 1.0


def custom_event(actual_impact: bool) -> dict:
    return {
        "impactWindow": {"start": "2026-11-02T06:00:00Z", "end": "2026-11-03T02:00:00Z"},
        "expectedImpact": {
            "streams": ["customer.app.opened"],
            "details": [
                {"stream": "customer.app.opened", "direction": "decrease", "magnitude": "high"}
            ],
        },
        "actualImpact": actual_impact,
    }


def test_a_custom_event_multiplies_by_its_own_magnitudes_keyed_by_its_log_position(model):
    impact = event_impact(model, custom_event(True), source=17)

    assert impact.template == "custom-17"
    assert (impact.start, impact.end, impact.source) == (START, END, 17)
    assert impact.factors == {model.index["customer.app.opened"]: pytest.approx(1 / 3.0)}


def test_a_red_herring_has_no_impact(model):
    impacts = logged_impacts(model, [custom_event(False), custom_event(True)])

    assert len(impacts) == 1


def test_a_count_streams_effect_compares_sums_with_a_poisson_standard_error(model):
    # 440 observed against 400 expected: +10%, (440 - 400) / sqrt(400) = 2 standard errors.
    stream = model.index["customer.app.opened"]

    measured = measured_effect(model, stream, np.full(4, 110.0), np.full(4, 100.0))

    assert measured.effect == pytest.approx(0.1)
    assert measured.z_score == pytest.approx(2.0)
    assert measured.json() == {"effect": 0.1, "zScore": 2.0, "hours": 4}


def test_counts_where_nothing_was_expected_have_no_relative_effect_and_a_unit_error(model):
    stream = model.index["customer.app.opened"]

    measured = measured_effect(model, stream, np.array([2.0, 1.0]), np.zeros(2))

    assert (measured.effect, measured.z_score) == (0.0, 3.0)


def test_a_gauges_effect_compares_means_with_its_noise_over_the_root_of_the_hours(model):
    # system.api.latency has 8% noise: 2% up over 16 hours is 0.02 / (0.08 / 4) = 1 error.
    gauge = next(g for g in model.gauges if model.names[g.stream] == "system.api.latency")
    assert gauge.noise == 0.08
    expected = np.linspace(100.0, 300.0, 16)

    measured = measured_effect(model, gauge.stream, expected * 1.02, expected)

    assert measured.effect == pytest.approx(0.02)
    assert measured.z_score == pytest.approx(1.0)
    assert measured.hours == 16


def test_an_empty_window_has_no_effect(model):
    stream = model.index["customer.app.opened"]

    measured = measured_effect(model, stream, np.array([]), np.array([]))

    assert measured.json() == {"effect": 0.0, "zScore": 0.0, "hours": 0}


def test_an_effect_rounded_to_nothing_is_written_as_zero_not_minus_zero(model):
    stream = model.index["customer.app.opened"]

    figures = measured_effect(model, stream, np.array([99_999.0]), np.array([100_000.0])).json()

    assert figures["effect"] == 0.0 and math.copysign(1.0, figures["effect"]) == 1.0
    assert figures["zScore"] == 0.0 and math.copysign(1.0, figures["zScore"]) == 1.0


@pytest.mark.parametrize(
    "z, score", [(0.0, 0.0), (2.0, 0.0), (-6.0, 0.5), (10.0, 1.0), (40.0, 1.0)]
)
def test_a_movement_scores_zero_within_noise_and_one_from_ten_standard_errors(z, score):
    assert MeasuredEffect(0.1, z, 5).score == score
