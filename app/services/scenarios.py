"""Commands on the simulation: activate and stop scenarios, reset, apply modifiers, inject
external events, and the lifecycle that time brings. Each folds the state from the log under
the append lock, decides with the pure domain, and appends."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from app.domain.events import NewEvent
from app.domain.scenario import (
    EXTERNAL,
    MODIFIER,
    RESET,
    SCHEDULED,
    Refused,
    Run,
    SimulationState,
    activate,
    conflicts,
    due,
    injected_events,
    settle_time,
    stop,
)
from app.services.simulation import Simulation

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Activation:
    run: Run
    events: list[dict[str, Any]]
    settled_by: datetime


def _locked_state(simulation: Simulation, writer) -> SimulationState:
    """The state as of now, read while holding the append lock (so no other command can slip
    in between reading and writing)."""
    writer.lock()
    return simulation.state()


def activate_scenario(simulation: Simulation, scenario_id: str) -> Activation:
    catalog = simulation.catalog
    scenario = catalog.scenarios.get(scenario_id)
    if scenario is None:
        raise Refused(
            404,
            "unknown_scenario",
            f"there is no scenario '{scenario_id}'",
            f"use one of: {', '.join(catalog.scenarios)} (GET /api/simulation/scenarios)",
        )
    for warning in conflicts(scenario):
        log.warning("scenario %s: %s", scenario.id, warning)
    now = simulation.now()
    with simulation.store.log.transaction() as writer:
        state = _locked_state(simulation, writer)
        activation = activate(state, scenario, now)
        run_id = writer.append([activation], expected_epoch=state.epoch).first_position
        injected = injected_events(scenario, catalog, now, run_id)
        if injected:
            writer.append(injected, expected_epoch=state.epoch)
    state = simulation.state()
    run = state.run(run_id)
    assert run is not None
    settled_by = settle_time(scenario, simulation.model, run.ends_at)
    return Activation(run, [_event_view(e) for e in injected], settled_by)


def _event_view(event: NewEvent) -> dict[str, Any]:
    if event.type == SCHEDULED:
        return {**event.data["event"], "scheduled": True}
    return {**event.data, "scheduled": False}


def stop_scenario(simulation: Simulation) -> tuple[Run, datetime]:
    now = simulation.now()
    with simulation.store.log.transaction() as writer:
        state = _locked_state(simulation, writer)
        running = state.active_run(now)
        scenario = simulation.catalog.scenarios.get(running.scenario_id) if running else None
        run, events = stop(state, scenario, simulation.model, now)
        writer.append(events, expected_epoch=state.epoch)
    stopped = simulation.state().run(run.run_id)
    return stopped, stopped.settled_at


def reset(simulation: Simulation) -> int:
    """Open a new epoch now: no scenario, no modifier, no injected event, the baseline's
    history, and simulated time back to wall time. Nothing is deleted."""
    wall = datetime.now(UTC)
    appended = simulation.store.log.append([NewEvent(kind="control", type=RESET,
                                                     occurred_at=wall)])  # fmt: skip
    return appended.epoch


MODIFIER_TYPES = ("multiplier", "additive", "override")
MAX_MODIFIER = timedelta(days=30)


def apply_modifier(
    simulation: Simulation, stream: str, kind: str, value: float, duration: timedelta
) -> dict[str, Any]:
    """A manual stream modifier from now for `duration`."""
    now = simulation.now()
    event = NewEvent(
        kind="scenario",
        type=MODIFIER,
        occurred_at=now,
        data={
            "stream": stream,
            "type": kind,
            "value": value,
            "durationSeconds": duration.total_seconds(),
            "until": (now + duration).isoformat(),
        },
    )
    appended = simulation.store.log.append([event])
    return {"id": f"mod-{appended.first_position}", **event.data, "startTime": now.isoformat()}


def inject(
    simulation: Simulation, record: Mapping[str, Any], at: datetime, now: datetime
) -> dict[str, Any]:
    """Record an external event: now or in the past at once (a past one changes history),
    in the future as scheduled (the lifecycle records it when its time comes)."""
    if at <= now:
        event = NewEvent(kind="external", type=EXTERNAL, occurred_at=at, data=dict(record))
    else:
        event = NewEvent(
            kind="control",
            type=SCHEDULED,
            occurred_at=now,
            data={"dueAt": at.isoformat(), "event": dict(record)},
        )
    appended = simulation.store.log.append([event])
    return {
        "id": f"evt-{appended.first_position}",
        **record,
        "scheduled": at > now,
        "retroactive": at < now,
    }


def advance_lifecycle(simulation: Simulation) -> int:
    """Append what time has brought about (settling, settled, scheduled events coming due);
    the scheduler's leader calls this every few seconds. Returns how many events it wrote."""
    now = simulation.now()
    with simulation.store.log.transaction() as writer:
        state = _locked_state(simulation, writer)
        events = due(state, simulation.catalog, simulation.model, now)
        if events:
            writer.append(events, expected_epoch=state.epoch)
    return len(events)
