"""Ground truth from the model's counterfactuals: what each cause did, on every stream it
reached, and how visible it is."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from app.domain.baseline import WARMUP_DAYS, Baseline
from app.domain.calendar import HOUR
from app.domain.causes import (
    CauseSet,
    anomaly_causes,
    calendar_causes,
    external_causes,
    run_cause,
)
from app.domain.counterfactual import cause_effects, expectation, reach_of
from app.domain.ground_truth import label
from app.domain.hourly import simulate
from app.domain.labels import CLEAR_HOURS, CLEAR_SIGMA, CLEAR_SLOT_SIGMA, WINDOW_THRESHOLD, Noise
from app.domain.model import MarketModel
from app.domain.settling import settle_time
from app.domain.simulation_state import Run


@pytest.fixture(scope="module")
def model(catalog, quiet_baseline: Baseline) -> MarketModel:
    return MarketModel(catalog, anchor=quiet_baseline.end)


@pytest.fixture(scope="module")
def grid(quiet_baseline: Baseline):
    start = quiet_baseline.start - timedelta(days=WARMUP_DAYS)
    return start, int((quiet_baseline.end - start) / HOUR)


@pytest.fixture(scope="module")
def causes(model, quiet_baseline: Baseline, grid):
    start, hours = grid
    return [
        *calendar_causes(model, start, start + hours * HOUR),
        *anomaly_causes(model, [a.to_json() for a in quiet_baseline.anomalies]),
        *external_causes(model, quiet_baseline.events_json(), "baseline"),
    ]


@pytest.fixture(scope="module")
def noise(model, quiet_baseline: Baseline) -> Noise:
    spreads = np.array([quiet_baseline.statistics[n].hourly_slots.spread for n in model.names])
    return Noise.of(model, spreads)


@pytest.fixture(scope="module")
def truth(model, causes, grid, noise):
    start, hours = grid
    return label(model, causes, start, hours, noise)


def by_cause(truth, cause_id: str):
    return [w for w in truth.windows if w.cause.id == cause_id]


def test_the_baseline_is_drawn_from_the_expectation_every_cause_gives(
    model, quiet_baseline, causes, grid
):
    """One set of causes makes the baseline and its truth: the baseline's drawn month sits on
    the expectation the labels start from (Poisson noise apart)."""
    start, hours = grid
    cause_set = CauseSet(model, start, hours, causes)
    full = expectation(cause_set, simulate(model, start, hours)).values[:, -720:]
    for name in ("customer.app.opened", "customer.booking.requested", "session.completed"):
        row = model.index[name]
        drawn, expected = quiet_baseline.values[row].sum(), full[row].sum()
        assert abs(drawn - expected) < 5 * np.sqrt(expected), name


def test_causes_sharing_a_run_each_get_their_own_counterfactual(model, causes, grid):
    """Causes whose reaches do not meet share one run; each one's difference is what a run
    without it alone gives, within 1% of the stream's value (the thin tail of an earlier
    cause's chains is all that can reach it)."""
    start, hours = grid
    cause_set = CauseSet(model, start, hours, causes)
    plain = simulate(model, start, hours)
    effects = {e.cause.id: e for e in cause_effects(cause_set, plain)}
    picked = [
        next(c for c in causes if c.kind == kind and c.acts and c.id in effects)
        for kind in ("external", "anomaly", "calendar")
    ]
    for cause in picked:
        shared = effects[cause.id]
        alone = simulate(
            model, start, hours, expected=plain, conditions=cause_set.conditions({cause.id})
        )
        span = slice(shared.first, shared.first + shared.hours)
        own = shared.with_all - alone.values[:, span]
        found = shared.with_all - shared.without
        scale = np.maximum(np.abs(shared.with_all), 1.0)
        assert np.max(np.abs(found - own) / scale) < 0.01, cause.id
        outside = sorted(set(range(model.stream_count)) - reach_of(cause_set, cause).streams)
        assert np.allclose(own[outside], 0.0, atol=1e-6), f"{cause.id} moved a stream out of reach"


def test_a_red_herring_changes_nothing_anywhere(model, causes, grid, truth):
    start, hours = grid
    cause_set = CauseSet(model, start, hours, causes)
    herring = next(c for c in causes if c.kind == "external" and not c.causal)
    plain = simulate(model, start, hours)
    with_it = simulate(model, start, hours, expected=plain, conditions=cause_set.conditions())
    without = simulate(
        model, start, hours, expected=plain, conditions=cause_set.conditions({herring.id})
    )

    assert np.array_equal(with_it.values, without.values)
    windows = by_cause(truth, herring.id)
    assert windows and {w.stream for w in windows} == set(herring.named)
    assert all(w.expected["ratio"] == 1.0 and w.detectability == "none" for w in windows)


def test_an_events_effect_is_what_a_twin_run_without_it_draws(model, causes, grid, truth):
    """The expected change of an event's strongest named window against two drawn runs of
    the same seed, one with the event and one without: the difference of their draws over
    the window is the expected change, within Poisson noise."""
    start, hours = grid
    cause_set = CauseSet(model, start, hours, causes)
    plain = simulate(model, start, hours)
    named = [
        w
        for w in truth.windows
        if w.cause.kind == "external" and w.named and w.causal
        and model.is_entity(model.index[w.stream])
    ]  # fmt: skip
    window = max(named, key=lambda w: abs(w.sigma))
    draws = []
    for conditions in (cause_set.conditions(), cause_set.conditions({window.cause.id})):
        expected_run = simulate(model, start, hours, expected=plain, conditions=conditions)
        drawn = simulate(
            model,
            start,
            hours,
            rng=np.random.default_rng(3),
            expected=plain,
            conditions=conditions,
            preliminary=expected_run,
        )
        first = int((window.start - start) / HOUR)
        row = model.index[window.stream]
        draws.append(drawn.values[row, first : first + window.without.size].sum())

    difference = draws[0] - draws[1]
    noise = np.sqrt(draws[0] + draws[1])
    assert abs(difference - window.expected["absolute"]) < 4 * noise
    assert abs(window.expected["absolute"]) > 4 * noise, "a change well above the noise"


def test_what_travels_down_the_chains_is_labelled_on_every_stream_it_reaches(truth):
    booking = [
        w
        for w in truth.windows
        if w.cause.kind == "external" and w.causal and w.stream == "customer.booking.requested"
    ]
    assert booking, "the quiet month has an event on booking requests"
    downstream = {w.stream for w in by_cause(truth, booking[0].cause.id) if not w.named}
    assert {"customer.booking.confirmed", "session.scheduled"} <= downstream


def test_every_window_moves_its_stream_by_more_than_the_threshold(truth):
    for window in truth.windows:
        if window.causal:
            assert abs(window.expected["peakRatio"] - 1) > WINDOW_THRESHOLD
            seen = abs(window.sigma) >= CLEAR_SIGMA
            stands_out = window.slot_hours >= CLEAR_HOURS
            expected = "subtle" if not seen else "clear" if stands_out else "visible"
            assert window.detectability == expected
            assert window.slot_hours <= (window.end - window.start) / HOUR
            assert (window.slot_hours > 0) == (window.slot_sigma >= CLEAR_SLOT_SIGMA)


def test_a_slot_that_never_varied_is_taken_to_vary_by_the_hours_own_noise(
    model, causes, grid, noise
):
    """A quiet night whose count was the same all month is no ground for a change of a few
    events to count as a hundred deviations."""
    start, hours = grid
    still = Noise(noise.entity, noise.relative, np.zeros_like(noise.slots))

    windows = label(model, causes, start, hours, still).windows

    counts = [w for w in windows if w.causal and noise.entity[model.index[w.stream]]]
    assert counts
    for window in counts:
        poisson = np.sqrt(np.maximum(window.without, 1.0))
        assert window.slot_sigma == pytest.approx(np.max(np.abs(window.change) / poisson))


def test_anomalies_have_stable_ids_in_time_order(quiet_baseline):
    ids = [a.id for a in quiet_baseline.anomalies]
    assert ids == [f"banom-{n:03d}" for n in range(1, len(ids) + 1)]
    starts = [a.start for a in quiet_baseline.anomalies]
    assert starts == sorted(starts)


def test_a_calendar_period_is_a_cause_of_its_own_kind(model, grid):
    start, hours = grid
    found = calendar_causes(model, start, start + hours * HOUR + timedelta(days=60))
    periods = {c.source["period"] for c in found}
    assert {"winter-exams", "thanksgiving-week"} <= periods
    assert all(c.kind == "calendar" and c.causal for c in found)


def test_a_scenarios_settling_windows_decay_to_nothing(model, noise, quiet_baseline):
    scenario = model.catalog.scenarios["exam-season-surge"]
    activated = quiet_baseline.end - timedelta(days=10)
    ends = activated + scenario.duration
    run = Run(
        run_id=42,
        scenario_id=scenario.id,
        activated_at=activated,
        ends_at=ends,
        settling_from=ends,
        settling_reason="duration",
        settled_at=settle_time(scenario, model, ends),
    )
    start = activated - timedelta(days=WARMUP_DAYS)
    hours = int((quiet_baseline.end - start) / HOUR)
    cause = run_cause(model, run, quiet_baseline.end)

    windows = label(model, [cause], start, hours, noise).windows

    phases = {w.phase for w in windows if w.stream == "customer.app.opened"}
    assert phases == {"active", "settling"}
    (settling,) = [
        w for w in windows if w.stream == "customer.app.opened" and w.phase == "settling"
    ]
    ratios = 1 + settling.change / settling.without
    assert np.all(np.diff(ratios) <= 1e-9), "the change only shrinks while it settles"
    assert ratios[0] > 1.4 and ratios[-1] - 1 <= 2 * WINDOW_THRESHOLD
    assert settling.end <= run.settled_at + HOUR
    opened = [w for w in windows if w.stream == "customer.app.opened"]
    assert all(w.end <= run.settled_at + HOUR for w in opened), "back once settled"
