"""Commands on the simulation: activate and stop scenarios, reset, apply modifiers, inject
external events, and the lifecycle that time brings. Each folds the state from the log under
the append lock, decides with the pure domain, and appends."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.domain import ids
from app.domain.calendar import floor_hours
from app.domain.commands import activate, due, end_early, injected_events, stop
from app.domain.errors import Unknown
from app.domain.events import NewEvent
from app.domain.history import ratio_for_sigma
from app.domain.settling import settle_time
from app.domain.simulation_state import (
    ACTIVATED,
    EXTERNAL,
    MODIFIER,
    MODIFIER_ENDED,
    MODIFIER_EXPIRED,
    RESET,
    SCHEDULED,
    SETTLED,
    SETTLING,
    STOPPED,
    ManualModifier,
    Run,
    SimulationState,
)
from app.domain.state_effects import conflicts
from app.domain.timerange import iso
from app.services.simulation import Simulation
from app.services.truth import expected_at

log = logging.getLogger(__name__)

_RECORDED = {
    ACTIVATED: "scenario activated",
    STOPPED: "scenario stopped",
    SETTLING: "scenario settling",
    SETTLED: "scenario settled",
    MODIFIER_ENDED: "modifier ended early",
    MODIFIER_EXPIRED: "modifier expired",
    EXTERNAL: "external event recorded",
    SCHEDULED: "external event scheduled",
}
"""The log line of each recorded transition (other events are not logged one by one)."""


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
        raise Unknown(
            "unknown_scenario", f"there is no scenario '{scenario_id}'", options=catalog.scenarios
        )
    for warning in conflicts(scenario):
        log.warning("scenario %s: %s", scenario.id, warning)
    now = simulation.now()
    with simulation.store.log.transaction() as writer:
        state = _locked_state(simulation, writer)
        activation = activate(state, scenario, now)
        run_id = writer.append([activation], expected_epoch=state.epoch).first_position
        injected = injected_events(scenario, catalog, now, run_id)
        appended = writer.append(injected, expected_epoch=state.epoch) if injected else None
    state = simulation.state()
    _log_recorded([activation], [run_id], state)
    if appended:
        _log_recorded(injected, appended.positions, state)
    run = state.run(run_id)
    assert run is not None
    settled_by = settle_time(scenario, simulation.model, run.ends_at)
    views = [_event_view(e, appended.position_of(i)) for i, e in enumerate(injected) if appended]
    return Activation(run, views, settled_by)


def _event_view(event: NewEvent, position: int) -> dict[str, Any]:
    """An event the activation recorded, with the id it has (and keeps, once scheduled)."""
    if event.type == SCHEDULED:
        return {"id": ids.event_id(position), **event.data["event"], "scheduled": True}
    return {"id": ids.event_id(position), **event.data, "scheduled": False}


def stop_scenario(simulation: Simulation) -> tuple[Run, datetime]:
    now = simulation.now()
    with simulation.store.log.transaction() as writer:
        state = _locked_state(simulation, writer)
        running = state.active_run(now)
        scenario = simulation.catalog.scenarios.get(running.scenario_id) if running else None
        run, events = stop(state, scenario, simulation.model, now)
        appended = writer.append(events, expected_epoch=state.epoch)
    _log_recorded(events, appended.positions, state)
    stopped = simulation.state().run(run.run_id)
    return stopped, stopped.settled_at


def reset(simulation: Simulation) -> int:
    """Open a new epoch now: no scenario, no modifier, no injected event, the baseline's
    history, and simulated time back to wall time. Nothing is deleted."""
    appended = simulation.store.log.append(
        [NewEvent(kind="control", type=RESET, occurred_at=simulation.wall())]
    )
    log.info(
        "simulation reset", extra={"epoch": appended.epoch, "position": appended.first_position}
    )
    return appended.epoch


MAX_MODIFIER = timedelta(days=30)


def sigma_multiplier(
    simulation: Simulation, stream: str, moment: datetime, sigma: float
) -> float | None:
    """The multiplier that moves the stream's hour at `moment` by `sigma` of its standard
    deviations at that hour of the day (`BaselineView.slot_spread`), from what the model
    expects of that hour with every cause on record (`truth.expected_at`): the change the
    ground truth's `slotSigma` then gives for that hour. None where nothing is expected."""
    hour = floor_hours(moment)
    expected = expected_at(simulation, stream, hour)
    return ratio_for_sigma(sigma, simulation.baseline.slot_spread(stream, hour), expected)


def apply_modifier(
    simulation: Simulation,
    stream: str,
    kind: str,
    value: float | None,
    duration: timedelta,
    start: datetime | None = None,
    sigma: float | None = None,
) -> ManualModifier:
    """A manual stream modifier for `duration` from `start` (default now; a later start is
    recorded now, and acts from then). `value` is None for `missing` and `flatline`; `sigma`
    the change as given in the stream's standard deviations, when `value` was worked out from
    it."""
    now = simulation.now()
    start = start or now
    data: dict[str, Any] = {"stream": stream, "type": kind}
    if value is not None:
        data["value"] = value
    if sigma is not None:
        data["sigma"] = sigma
    if start > now:
        data["start"] = iso(start)
    data |= {"durationSeconds": duration.total_seconds(), "until": iso(start + duration)}
    event = NewEvent(kind="scenario", type=MODIFIER, occurred_at=now, data=data)
    appended = simulation.store.log.append([event])
    end = start + duration
    return ManualModifier(
        appended.first_position, stream, kind, value or 0.0, start, end,
        planned_end=end, sigma=sigma,
    )  # fmt: skip


def end_modifier(simulation: Simulation, modifier_id: int) -> ManualModifier:
    """End a manual modifier now: from this moment the streams are generated without it."""
    now = simulation.now()
    with simulation.store.log.transaction() as writer:
        state = _locked_state(simulation, writer)
        event = end_early(state, modifier_id, now)
        appended = writer.append([event], expected_epoch=state.epoch)
    _log_recorded([event], appended.positions, state)
    return next(m for m in simulation.state().modifiers if m.modifier_id == modifier_id)


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
            data={"dueAt": iso(at), "event": dict(record)},
        )
    appended = simulation.store.log.append([event])
    _log_recorded([event], appended.positions, None)
    return {
        "id": ids.event_id(appended.first_position),
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
        appended = writer.append(events, expected_epoch=state.epoch) if events else None
    if appended:
        _log_recorded(events, appended.positions, state)
    return len(events)


def _log_recorded(
    events: Sequence[NewEvent], positions: Iterable[int], state: SimulationState | None
) -> None:
    """One log line per scenario transition, modifier end or external event just committed,
    with the run it belongs to (`run_id`, and `scenario` when `state` or the event names it)
    or the modifier (`modifier_id`)."""
    for event, position in zip(events, positions, strict=True):
        message = _RECORDED.get(event.type)
        if message is None:
            continue
        fields: dict[str, Any] = {"type": event.type, "position": position}
        run_id = position if event.type == ACTIVATED else event.correlation_id
        if event.type in (MODIFIER_ENDED, MODIFIER_EXPIRED):
            fields["modifier_id"] = event.correlation_id
        elif run_id is not None:
            fields["run_id"] = run_id
            run = state.run(run_id) if state else None
            scenario = event.data.get("scenarioId") or (run.scenario_id if run else None)
            if scenario:
                fields["scenario"] = scenario
        if event.type in (EXTERNAL, SCHEDULED):
            fields["event_id"] = ids.event_id(event.causation_id or position)
        log.info(message, extra=fields)
