"""The hourly flow: counts are conserved along rules, chains split exclusively, and the same
seed gives the same data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from app.domain.hourly import Conditions, simulate
from app.domain.model import MarketModel

END = datetime(2026, 11, 1, tzinfo=UTC)
START = END - timedelta(days=20)
HOURS = 20 * 24


@pytest.fixture(scope="module")
def model(catalog) -> MarketModel:
    return MarketModel(catalog, anchor=END)


@pytest.fixture(scope="module")
def expected(model):
    return simulate(model, START, HOURS)


@pytest.fixture(scope="module")
def drawn(model, expected):
    return simulate(model, START, HOURS, rng=np.random.default_rng(3), expected=expected)


BOOKING_OUTCOMES = (
    "customer.booking.confirmed",
    "customer.booking.declined",
    "customer.booking.expired",
)


def _pending(model, run, rule_id: str) -> float:
    return sum(run.pending[r.index] for r in model.rules if r.rule_id == rule_id)


def _total(model, run, stream: str) -> float:
    return run.values[model.index[stream]].sum()


def _answered_or_pending(model, run) -> float:
    """Booking requests answered in the run, or still waiting for an answer at its end."""
    answered = sum(_total(model, run, s) for s in BOOKING_OUTCOMES)
    return answered + _pending(model, run, "booking-response")


def test_every_booking_request_gets_exactly_one_outcome_or_is_still_pending(model, drawn):
    requested = _total(model, drawn, "customer.booking.requested")

    assert _answered_or_pending(model, drawn) == requested


def test_each_scheduled_session_is_attended_missed_or_cancelled_once(model, drawn):
    scheduled = _total(model, drawn, "session.scheduled")
    ends = sum(
        _total(model, drawn, s)
        for s in ("session.started", "session.noshow.student", "session.noshow.tutor",
                  "session.cancelled")
    )  # fmt: skip

    assert ends + _pending(model, drawn, "session-attendance") == scheduled


def test_drawn_volumes_follow_the_expected_flow(model, expected, drawn):
    for stream in ("customer.tutor.search", "session.completed", "support.ticket.created"):
        assert _total(model, drawn, stream) == pytest.approx(
            _total(model, expected, stream), rel=0.03
        )


def test_the_same_seed_gives_the_same_values_and_another_seed_does_not(model, expected):
    again = simulate(model, START, HOURS, rng=np.random.default_rng(3), expected=expected)
    other = simulate(model, START, HOURS, rng=np.random.default_rng(4), expected=expected)
    first = simulate(model, START, HOURS, rng=np.random.default_rng(3), expected=expected)

    assert np.array_equal(first.values, again.values)
    assert not np.array_equal(first.values, other.values)


def test_more_payment_failures_lead_to_more_support_tickets(model, expected):
    """The cascade payment.failed -> ticket (30%, 1-6 h) carries a failure spike into tickets."""
    factor = np.ones((model.stream_count, HOURS))
    spike = slice(10 * 24, 11 * 24)
    factor[model.index["customer.payment.failed"], spike] = 5.0
    spiked = simulate(model, START, HOURS, conditions=Conditions(stream_factor=factor))

    failures = model.index["customer.payment.failed"]
    tickets = model.index["support.ticket.created"]
    extra_failures = spiked.values[failures].sum() - expected.values[failures].sum()
    extra_tickets = spiked.values[tickets].sum() - expected.values[tickets].sum()
    assert extra_failures > 0
    share = model.rates["ticket_after_payment_failure"]
    assert extra_tickets == pytest.approx(share * extra_failures, rel=0.15)


def test_a_multiplier_on_a_chain_outcome_reweights_its_siblings(model, expected):
    """A stream multiplier on an exclusive outcome (declined x2) makes it twice as likely
    relative to the others; the outcomes still sum to every request."""
    factor = np.ones((model.stream_count, HOURS))
    factor[model.index["customer.booking.declined"]] = 2.0
    shifted = simulate(model, START, HOURS, conditions=Conditions(stream_factor=factor))
    rates = model.rates
    weights = {
        "customer.booking.confirmed": rates["booking_confirmation"],
        "customer.booking.declined": 2 * rates["booking_decline"],
        "customer.booking.expired": rates["booking_expiry"],
    }

    def share(run, stream):
        return _total(model, run, stream) / _total(model, run, "customer.booking.requested")

    assert share(shifted, "customer.booking.declined") == pytest.approx(
        weights["customer.booking.declined"] / sum(weights.values()), rel=0.05
    )
    assert share(shifted, "customer.booking.confirmed") < share(
        expected, "customer.booking.confirmed"
    )


def test_a_rate_set_by_a_scenario_holds_and_its_siblings_share_the_rest(model):
    """An explicit change of an outcome's rate (a payment outage forcing failures) keeps its
    value even where another outcome's stream is multiplied."""
    from app.domain.effects import Adjust, Effects

    succeeded = model.index["customer.payment.succeeded"]
    failure = Effects(
        rates={"payment_failure": Adjust(override=0.95)},
        streams={succeeded: Adjust(factor=1.15)},
    )
    plain = simulate(model, START, HOURS)
    run = simulate(
        model, START, HOURS, expected=plain, conditions=Conditions(effects=[failure] * HOURS)
    )

    failed = _total(model, run, "customer.payment.failed")
    charged = failed + sum(run.values[model.index["customer.payment.succeeded"]].sum() for _ in [0])
    assert failed / _total(model, run, "session.completed") == pytest.approx(0.95, abs=0.03)
    assert charged > failed


def _surge(model, start_hour: int, factor: float = 4.0) -> Conditions:
    """`factor` times the app opens (and so the searches and booking requests) from an hour on."""
    stream_factor = np.ones((model.stream_count, HOURS))
    stream_factor[model.index["customer.app.opened"], start_hour:] = factor
    return Conditions(stream_factor=stream_factor)


def _daily(model, run, stream: str, first_hour: int) -> np.ndarray:
    values = run.values[model.index[stream], first_hour:]
    return values[: values.size // 24 * 24].reshape(-1, 24).sum(axis=1)


def test_under_four_times_the_demand_sessions_per_tutor_stay_within_the_cap(model, expected):
    surge_hour = 10 * 24
    surged = simulate(
        model,
        START,
        HOURS,
        rng=np.random.default_rng(5),
        expected=expected,
        conditions=_surge(model, surge_hour),
    )
    population = model.catalog.population
    active_tutors = population.tutors * population.active_tutor_share
    per_tutor = _daily(model, surged, "session.scheduled", surge_hour) / active_tutors

    requested = _daily(model, surged, "customer.booking.requested", surge_hour)
    usually = _daily(model, expected, "customer.booking.requested", surge_hour)
    assert np.all(requested > 3 * usually), "four times the demand"
    assert np.all(per_tutor <= population.session_cap_per_active_tutor_per_day), per_tutor
    assert per_tutor.max() > 0.85 * population.session_cap_per_active_tutor_per_day


def test_requests_the_tutors_cannot_take_are_declined_or_expire(model, expected):
    surge_hour = 10 * 24
    surged = simulate(model, START, HOURS, expected=expected, conditions=_surge(model, surge_hour))
    later = slice(surge_hour + 24, HOURS)

    def share(run, stream: str) -> float:
        answered = sum(run.values[model.index[s], later].sum() for s in BOOKING_OUTCOMES)
        return run.values[model.index[stream], later].sum() / answered

    assert share(surged, "customer.booking.confirmed") < 0.5
    assert share(expected, "customer.booking.confirmed") > 0.7
    for refused in ("customer.booking.declined", "customer.booking.expired"):
        assert share(surged, refused) > 1.5 * share(expected, refused), refused


def test_a_saturated_day_still_gives_every_request_one_outcome(model, expected):
    surged = simulate(
        model,
        START,
        HOURS,
        rng=np.random.default_rng(6),
        expected=expected,
        conditions=_surge(model, 10 * 24),
    )
    requested = _total(model, surged, "customer.booking.requested")

    assert _answered_or_pending(model, surged) == requested
    assert _total(model, surged, "session.scheduled") == _total(
        model, surged, "customer.booking.confirmed"
    ) - _pending(model, surged, "confirmed-schedules-session")


def test_a_gauge_follows_its_load_over_the_hours_it_reads_it(model, expected):
    """support.response.time reads three hours of tickets (elasticity 0.6): against the same
    flow without a burst of tickets, it moves by the ratio of the two flows' tickets over the
    trailing three hours, not over the hour alone."""
    factor = np.ones((model.stream_count, HOURS))
    tickets, gauge = model.index["support.ticket.created"], model.index["support.response.time"]
    calm = simulate(
        model, START, HOURS, expected=expected, conditions=Conditions(stream_factor=factor)
    )
    factor[tickets, 10 * 24 + 3] = 4.0
    burst = simulate(
        model, START, HOURS, expected=expected, conditions=Conditions(stream_factor=factor)
    )

    def trailing(values: np.ndarray, hours: int) -> np.ndarray:
        return np.convolve(values, np.ones(hours))[: values.size]

    moved = burst.values[gauge] / calm.values[gauge]
    load = trailing(burst.values[tickets], 3) / trailing(calm.values[tickets], 3)
    assert np.allclose(moved, load**0.6, rtol=0.005)
    assert not np.allclose(moved, (burst.values[tickets] / calm.values[tickets]) ** 0.6, rtol=0.005)
