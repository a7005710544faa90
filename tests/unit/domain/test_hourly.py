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


def _pending(model, run, rule_id: str) -> float:
    return sum(run.pending[r.index] for r in model.rules if r.rule_id == rule_id)


def _total(model, run, stream: str) -> float:
    return run.values[model.index[stream]].sum()


def test_every_booking_request_gets_exactly_one_outcome_or_is_still_pending(model, drawn):
    requested = _total(model, drawn, "customer.booking.requested")
    outcomes = sum(
        _total(model, drawn, s)
        for s in ("customer.booking.confirmed", "customer.booking.declined",
                  "customer.booking.expired")
    )  # fmt: skip

    assert outcomes + _pending(model, drawn, "booking-response") == requested


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
