"""`marketsim_scenario_phase`: each scenario's phase, from the folded state, at one moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.domain.simulation_state import Run, SimulationState
from app.observability.metrics import scenario_phases

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)


def run(run_id: int, scenario: str, **phase: datetime) -> Run:
    return Run(run_id, scenario, activated_at=NOW - 2 * HOUR, ends_at=NOW + HOUR, **phase)


def test_with_no_run_every_scenario_of_the_catalog_is_in_phase_none(catalog):
    phases = dict(scenario_phases(SimulationState(), catalog, NOW))

    assert set(phases) == set(catalog.scenarios)
    assert set(phases.values()) == {"none"}


def test_a_running_scenario_is_active_and_a_stopped_one_settles_then_is_none(catalog):
    state = SimulationState(
        runs=(
            run(1, "supply-crisis"),
            run(2, "payment-outage", settling_from=NOW - HOUR, settled_at=NOW + HOUR),
            run(3, "churn-pattern", settling_from=NOW - 2 * HOUR, settled_at=NOW - HOUR),
        )
    )

    phases = dict(scenario_phases(state, catalog, NOW))

    assert phases["supply-crisis"] == "active"
    assert phases["payment-outage"] == "settling"
    assert phases["churn-pattern"] == "none"


def test_a_scenario_settling_from_one_run_and_active_in_the_next_is_active(catalog):
    state = SimulationState(
        runs=(
            run(1, "supply-crisis", settling_from=NOW - HOUR, settled_at=NOW + HOUR),
            run(5, "supply-crisis"),
        )
    )

    assert dict(scenario_phases(state, catalog, NOW))["supply-crisis"] == "active"


def test_a_run_of_a_scenario_missing_from_the_catalog_is_still_shown(catalog):
    state = SimulationState(runs=(run(1, "retired-scenario"),))

    assert dict(scenario_phases(state, catalog, NOW))["retired-scenario"] == "active"
