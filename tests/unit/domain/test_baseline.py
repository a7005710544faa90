"""The 30-day baseline looks real: the task list's 7.2 properties, checked on generated data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from app.domain.baseline import BASELINE_HOURS, generate_baseline
from app.domain.calendar import hour_grid, hour_of_day
from app.domain.documents import render_document
from app.domain.history import BaselineView
from app.domain.hourly import simulate
from app.domain.model import MarketModel
from app.domain.statistics import stream_statistics


def total(baseline, stream: str) -> float:
    return baseline.values[baseline.streams.index(stream)].sum()


def series(baseline, stream: str) -> np.ndarray:
    return baseline.values[baseline.streams.index(stream)]


def test_it_covers_thirty_days_of_hours_and_sixty_twelve_hour_buckets(quiet_baseline):
    assert quiet_baseline.values.shape == (len(quiet_baseline.streams), BASELINE_HOURS)
    assert quiet_baseline.buckets.shape == (len(quiet_baseline.streams), 60)
    assert quiet_baseline.end - quiet_baseline.start == timedelta(days=30)


def test_buckets_are_the_hours_folded_by_sum_or_mean(quiet_baseline, catalog):
    for name in ("customer.booking.requested", "system.api.latency"):
        hours = series(quiet_baseline, name)[:12]
        bucket = quiet_baseline.buckets[quiet_baseline.streams.index(name), 0]
        fold = hours.sum() if catalog.stream(name).aggregation == "sum" else hours.mean()
        assert bucket == pytest.approx(fold, abs=1e-3)


def test_booking_outcomes_sum_to_the_requests(quiet_baseline):
    """Each request is answered in the month or still pending at its end (an expiry takes a
    day); the warm-up's requests answered in the month's first day balance those."""
    outcomes = sum(
        total(quiet_baseline, s)
        for s in ("customer.booking.confirmed", "customer.booking.declined",
                  "customer.booking.expired")
    )  # fmt: skip
    pending = sum(
        count for rule, count in quiet_baseline.pending.items()
        if rule.startswith("booking-response:")
    )  # fmt: skip

    assert (outcomes + pending) / total(
        quiet_baseline, "customer.booking.requested"
    ) == pytest.approx(1.0, abs=0.02)


def test_confirmation_rate_is_between_70_and_80_percent(quiet_baseline):
    rate = total(quiet_baseline, "customer.booking.confirmed") / total(
        quiet_baseline, "customer.booking.requested"
    )
    assert 0.70 <= rate <= 0.80


def test_ratings_follow_40_to_60_percent_of_completed_sessions(quiet_baseline):
    ratio = total(quiet_baseline, "session.rating.submitted") / total(
        quiet_baseline, "session.completed"
    )
    assert 0.40 <= ratio <= 0.60


def test_no_show_rates_are_2_to_5_percent_for_students_and_1_to_2_for_tutors(quiet_baseline):
    scheduled = total(quiet_baseline, "session.scheduled")

    assert 0.02 <= total(quiet_baseline, "session.noshow.student") / scheduled <= 0.05
    assert 0.01 <= total(quiet_baseline, "session.noshow.tutor") / scheduled <= 0.02


def test_volumes_give_about_three_sessions_per_active_tutor_a_day(quiet_baseline, catalog):
    population = catalog.population
    active_tutors = population.tutors * population.active_tutor_share
    per_tutor = total(quiet_baseline, "session.scheduled") / 30 / active_tutors

    assert 10_000 <= population.students <= 99_999
    assert 1 <= population.students / population.tutors <= 8
    assert 2.5 <= per_tutor <= 3.5


def test_supply_bounds_sessions_no_hour_starts_more_sessions_than_active_tutors(
    quiet_baseline, catalog
):
    population = catalog.population
    active_tutors = population.tutors * population.active_tutor_share

    assert series(quiet_baseline, "session.started").max() < active_tutors


def test_weekends_bring_30_to_50_percent_more_sessions(quiet_baseline):
    uplift = quiet_baseline.statistics["session.started"].to_json()["patterns"]["weekendUplift"]

    assert 0.30 <= uplift <= 0.50


def test_sessions_peak_from_8am_to_10pm_and_are_minimal_from_11pm_to_7am(quiet_baseline):
    values = series(quiet_baseline, "session.started")
    hours = hour_of_day(hour_grid(quiet_baseline.start, BASELINE_HOURS))
    profile = np.array([values[hours == h].mean() for h in range(24)])

    day, night = profile[8:22], np.concatenate([profile[23:], profile[:7]])
    assert day.min() > night.max()
    assert day.mean() > 3 * night.mean()
    assert int(np.argmin(profile)) in (23, 0, 1, 2, 3, 4, 5, 6)


def test_the_generator_grows_2_to_5_percent_a_month(catalog):
    """Growth is measured on the generator's undisturbed draws (no events, no anomalies): in
    the baseline itself it is mixed with the external events of the month."""
    end = datetime(2026, 11, 1, tzinfo=UTC)
    model = MarketModel(catalog, anchor=end)
    start = end - timedelta(days=30)
    expected = simulate(model, start, BASELINE_HOURS)
    drawn = simulate(model, start, BASELINE_HOURS, rng=np.random.default_rng(11), expected=expected)
    for stream in ("customer.app.opened", "customer.tutor.search"):
        values = drawn.values[model.index[stream]]
        trend = stream_statistics(stream, start, values).to_json()["patterns"]["trend"]
        assert 2.0 <= trend["percentPerMonth"] <= 5.0, stream


def test_most_normalized_values_lie_between_30_and_70(quiet_baseline, catalog):
    view = BaselineView(
        quiet_baseline.streams,
        quiet_baseline.start,
        quiet_baseline.values,
        quiet_baseline.buckets,
        quiet_baseline.statistics_json(),
        quiet_baseline.events_json(),
        {name: catalog.stream(name).aggregation for name in quiet_baseline.streams},
    )
    scores = np.array([
        point["normalized"]
        for name in quiet_baseline.streams
        for point in view.baseline_points(name, view.start, view.end, 1)
    ])  # fmt: skip

    assert ((scores > 30) & (scores < 70)).mean() > 0.6


def test_minor_anomalies_touch_5_to_10_percent_of_intervals(quiet_baseline, catalog):
    intervals = (len(catalog.roots) + len(catalog.gauges)) * 60

    assert 0.05 <= len(quiet_baseline.anomalies) / intervals <= 0.10
    assert all(1.05 <= max(a.factor, 1 / a.factor) <= 1.4 for a in quiet_baseline.anomalies)


def test_there_are_2_to_5_external_events_a_day_and_60_to_70_percent_are_causal(quiet_baseline):
    events = quiet_baseline.events
    causal = sum(e.causal for e in events)

    assert 60 <= len(events) <= 150
    assert 0.60 <= causal / len(events) <= 0.70


def test_academic_events_keep_to_their_months_and_marketing_ones_cluster(quiet_baseline):
    for event in quiet_baseline.events:
        months = event.template.timing.months
        if event.template.timing.pattern == "calendar" and months:
            assert event.occurred_at.month in months
    clustered = sorted(
        e.occurred_at for e in quiet_baseline.events if e.template.timing.pattern == "clustered"
    )
    gaps = np.diff([t.timestamp() for t in clustered]) / 3600
    assert (gaps < 36).mean() > 0.5


def test_causal_events_are_visible_in_the_data_and_red_herrings_are_not(quiet_baseline):
    def z_scores(causal: bool) -> np.ndarray:
        return np.array([
            abs(effect["zScore"])
            for event in quiet_baseline.events
            if event.causal is causal
            for effect in event.measured.values()
            if effect["hours"] > 0
        ])  # fmt: skip

    causal, herrings = z_scores(True), z_scores(False)
    assert np.median(causal) > 5
    assert np.median(herrings) < 1.5
    assert np.percentile(herrings, 90) < 3


def test_events_carry_expected_impact_and_ground_truth_in_the_exported_shape(quiet_baseline):
    event = quiet_baseline.events_json()[0]

    assert set(event) >= {
        "id", "timestamp", "type", "title", "description", "severity", "icon",
        "expectedImpact", "actualImpact", "measuredEffect", "impactWindow",
    }  # fmt: skip
    assert set(event["expectedImpact"]) >= {"streams", "direction", "magnitude", "duration"}
    assert event["expectedImpact"]["direction"] in ("increase", "decrease", "mixed")


def test_statistics_describe_every_stream(quiet_baseline):
    stats = quiet_baseline.statistics_json()

    assert set(stats) == set(quiet_baseline.streams)
    sample = stats["customer.tutor.search"]
    assert set(sample["percentiles"]) == {"p25", "p50", "p75", "p90", "p95"}
    assert len(sample["patterns"]["hourOfDay"]) == 24
    assert sample["patterns"]["seasonality"]["found"].startswith("daily")


def test_the_same_seed_and_end_give_byte_identical_documents(catalog, quiet_baseline):
    again = generate_baseline(catalog, seed=7, end=quiet_baseline.end, config_checksum="test")
    other = generate_baseline(catalog, seed=8, end=quiet_baseline.end, config_checksum="test")

    def rendered(baseline):
        return {name: render_document(doc) for name, doc in baseline.documents().items()}

    assert rendered(again) == rendered(quiet_baseline)
    assert rendered(other) != rendered(quiet_baseline)


def test_a_baseline_must_end_on_a_twelve_hour_boundary(catalog):
    with pytest.raises(ValueError, match="12-hour boundary"):
        generate_baseline(
            catalog, seed=1, end=datetime(2026, 11, 1, 5, tzinfo=UTC), config_checksum="x"
        )


@pytest.mark.parametrize("seed", [7, 8, 20261125])
def test_the_trend_recovers_the_configured_growth_within_a_point(catalog, seed):
    """A month's straight line is its calendar and its events (exam season, a fortnight's
    campaign); measured against the expectation of everything labelled but growth, the
    configured growth comes back."""
    baseline = generate_baseline(
        catalog, seed=seed, end=datetime(2026, 11, 25, tzinfo=UTC), config_checksum="test"
    )
    configured = 100 * catalog.growth.monthly_rate
    for stream in ("customer.app.opened", "customer.tutor.search", "session.started"):
        patterns = baseline.statistics[stream].to_json()["patterns"]
        assert patterns["trend"]["percentPerMonth"] == pytest.approx(configured, abs=1.0), stream
        assert patterns["trend"]["direction"] == "growing"
    raw = [baseline.statistics[s].to_json()["patterns"]["rawTrend"] for s in baseline.streams]
    assert max(abs(r["percentPerMonth"] - configured) for r in raw) > 5, "the raw line is not it"
