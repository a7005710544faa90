"""History bent by the past: which logged events reach into it, and by how much they change
each hour, as the flow's expectation with them against without."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from app.domain.commands import external_record
from app.domain.hourly import simulate
from app.domain.model import MarketModel
from app.domain.regeneration import regenerate, retroactive
from app.domain.simulation_state import ExternalRecord, SimulationState

H = timedelta(hours=1)
DAYS = 3


@pytest.fixture(scope="module")
def model(catalog, quiet_view) -> MarketModel:
    return MarketModel(catalog, anchor=quiet_view.end)


def logged(catalog, at, position: int, actual: bool = True) -> ExternalRecord:
    data = external_record(catalog, "aws-outage", at, actual=actual)
    return ExternalRecord(position=position, occurred_at=at, data=data, correlation_id=None)


def test_only_acting_events_whose_impact_starts_before_live_generation_reach_the_past(
    catalog, quiet_view
):
    live_from = quiet_view.end
    past = logged(catalog, live_from - 5 * H, 1)
    herring = logged(catalog, live_from - 5 * H, 2, actual=False)
    ahead = logged(catalog, live_from + H, 3)
    state = SimulationState(externals=(past, herring, ahead))

    assert retroactive(state, live_from) == (past,)


def test_a_past_outage_raises_its_streams_in_its_window_and_nowhere_else(
    catalog, quiet_view, model
):
    start = quiet_view.end - DAYS * 24 * H
    outage = logged(catalog, start + 30 * H, 7)
    plain = simulate(model, start, DAYS * 24)

    regenerated = regenerate(model, [outage], start, quiet_view.end, plain)

    errors = regenerated.factors(model.index["system.api.error"], start, DAYS * 24)
    assert np.allclose(errors[:30], 1.0) and np.allclose(errors[34:], 1.0)
    assert errors[30:33].min() > 1.5 and errors[30:33].max() <= catalog.magnitudes.high
    untouched = regenerated.factors(model.index["tutor.application.submitted"], start, DAYS * 24)
    assert np.allclose(untouched, 1.0)
    assert regenerated.event_ids == ("evt-7",)


def test_hours_outside_the_regenerated_span_are_left_as_they_were(catalog, quiet_view, model):
    start = quiet_view.end - DAYS * 24 * H
    plain = simulate(model, start, DAYS * 24)
    regenerated = regenerate(model, [logged(catalog, start + H, 1)], start, quiet_view.end, plain)

    after = regenerated.factors(model.index["system.api.error"], quiet_view.end, 5)

    assert after.tolist() == [1.0] * 5
