"""The decisions that change the simulation's state: activate, stop, end a modifier early,
inject an external event, and what time brings about (`due`). Each reads the folded state and
returns the events to append; none writes.

    new_events = activate(state, ...)    # or stop(), due(), ... : decide, never write
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import TypeAdapter

from app.domain import ids
from app.domain.catalog import Catalog, Scenario, format_duration
from app.domain.errors import NotNow, Unknown
from app.domain.events import NewEvent
from app.domain.impacts import template_json
from app.domain.model import MarketModel
from app.domain.settling import settle_time
from app.domain.simulation_state import (
    ACTIVATED,
    EXTERNAL,
    MODIFIER_ENDED,
    MODIFIER_EXPIRED,
    SCHEDULED,
    SETTLED,
    SETTLING,
    STOPPED,
    ManualModifier,
    Run,
    SimulationState,
)
from app.domain.timerange import iso

_DURATIONS = TypeAdapter(timedelta)


def activate(state: SimulationState, scenario: Scenario, now: datetime) -> NewEvent:
    """The activation of a scenario; refused while another one is active."""
    running = state.active_run(now)
    if running is not None:
        raise NotNow(
            "scenario_active",
            f"scenario '{running.scenario_id}' is active (run {running.run_id}); only one "
            "scenario can be active at a time",
        )
    ends_at = now + scenario.duration
    return NewEvent(
        kind="scenario",
        type=ACTIVATED,
        occurred_at=now,
        data={
            "scenarioId": scenario.id,
            "name": scenario.name,
            "endsAt": iso(ends_at),
            "duration": format_duration(scenario.duration),
            "settling": {
                "curve": scenario.settling.curve,
                "duration": format_duration(scenario.settling.duration),
            },
        },
    )


def injected_events(
    scenario: Scenario, catalog: Catalog, now: datetime, run_id: int
) -> list[NewEvent]:
    """The scenario's external events: those at or before now are recorded now (a negative
    offset places one in the past); later ones are scheduled and recorded when due."""
    events = []
    for planned in scenario.events:
        template = catalog.template(planned.template)
        at = now + planned.offset
        record = external_record(
            catalog,
            template.id,
            at,
            title=planned.title,
            description=planned.description,
            actual=planned.apply_impact,
            source={"kind": "scenario", "scenarioId": scenario.id, "runId": run_id},
        )
        if at <= now:
            events.append(
                NewEvent(
                    kind="external",
                    type=EXTERNAL,
                    occurred_at=at,
                    data=record,
                    correlation_id=run_id,
                )
            )
        else:
            events.append(
                NewEvent(
                    kind="control",
                    type=SCHEDULED,
                    occurred_at=now,
                    data={"dueAt": iso(at), "event": record},
                    correlation_id=run_id,
                )
            )
    return events


def external_record(
    catalog: Catalog,
    template_id: str | None,
    at: datetime,
    *,
    title: str | None = None,
    description: str | None = None,
    actual: bool = True,
    source: Mapping[str, Any] | None = None,
    custom: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An external event in the ExternalEvent shape, from a template or custom fields
    (`custom`: type, title, description, severity, icon, expectedImpact)."""
    if template_id is not None:
        template = catalog.template(template_id)
        body = template_json(template, catalog)
        delay, duration = template.expected_impact.delay, template.expected_impact.duration
    else:
        body = dict(custom or {})
        delay = _duration(body["expectedImpact"].get("delay", "PT0S"))
        duration = _duration(body["expectedImpact"]["duration"])
    if title:
        body["title"] = title
    if description:
        body["description"] = description
    start = at + delay
    return {
        **body,
        "timestamp": iso(at),
        "impactWindow": {"start": iso(start), "end": iso(start + duration)},
        "actualImpact": actual,
        "injectedByAI": False,
        "source": dict(source or {"kind": "api"}),
    }


def _duration(text: str) -> timedelta:
    return _DURATIONS.validate_python(text)


def stop(state: SimulationState, scenario: Scenario, model: MarketModel, now: datetime):
    """Stop the active run: it starts settling now."""
    run = state.active_run(now)
    if run is None:
        raise NotNow("no_active_scenario", "no scenario is active")
    return run, [
        NewEvent(
            kind="scenario",
            type=STOPPED,
            occurred_at=now,
            data={"runId": run.run_id},
            correlation_id=run.run_id,
        ),
        settling_event(run, scenario, model, now, "stopped"),
    ]


def end_early(state: SimulationState, modifier_id: int, now: datetime) -> NewEvent:
    """End a manual modifier of this epoch now, before its planned end."""
    modifier = next((m for m in state.modifiers if m.modifier_id == modifier_id), None)
    if modifier is None:
        raise Unknown(
            "unknown_modifier", f"no modifier {ids.modifier_id(modifier_id)} in epoch {state.epoch}"
        )
    if not now < modifier.end:
        raise NotNow(
            "modifier_over", f"{ids.modifier_id(modifier_id)} already ended at {iso(modifier.end)}"
        )
    return NewEvent(
        kind="scenario",
        type=MODIFIER_ENDED,
        occurred_at=now,
        data={
            "modifierId": ids.modifier_id(modifier_id),
            "stream": modifier.stream,
            "plannedEnd": iso(modifier.end),
        },
        correlation_id=modifier_id,
    )


def settling_event(
    run: Run, scenario: Scenario, model: MarketModel, at: datetime, reason: str
) -> NewEvent:
    settled_at = settle_time(scenario, model, at)
    return NewEvent(
        kind="scenario",
        type=SETTLING,
        occurred_at=at,
        data={
            "runId": run.run_id,
            "reason": reason,
            "curve": scenario.settling.curve,
            "settledAt": iso(settled_at),
        },
        correlation_id=run.run_id,
    )


def due(
    state: SimulationState, catalog: Catalog, model: MarketModel, now: datetime
) -> list[NewEvent]:
    """What time has brought about by `now`: runs that reached their end start settling, runs
    that settled say so, manual modifiers that reached their end expire, scheduled external
    events happen."""
    events = []
    for run in state.runs:
        scenario = catalog.scenarios.get(run.scenario_id)
        if scenario is None:
            continue
        if run.settling_from is None and run.ends_at <= now:
            events.append(settling_event(run, scenario, model, run.ends_at, "duration"))
        elif run.settled_at is not None and not run.settled_logged and run.settled_at <= now:
            events.append(
                NewEvent(
                    kind="scenario",
                    type=SETTLED,
                    occurred_at=run.settled_at,
                    data={"runId": run.run_id},
                    correlation_id=run.run_id,
                )
            )
    events.extend(
        _expired(modifier) for modifier in state.modifiers
        if not modifier.end_logged and modifier.end <= now
    )  # fmt: skip
    for position, record in sorted(state.scheduled.items()):
        if record.occurred_at <= now:
            events.append(
                NewEvent(
                    kind="external",
                    type=EXTERNAL,
                    occurred_at=record.occurred_at,
                    data=dict(record.data),
                    causation_id=position,
                    correlation_id=record.correlation_id,
                )
            )
    return events


def _expired(modifier: ManualModifier) -> NewEvent:
    """A manual modifier's planned end, on record: feed subscribers and the console see the
    stream go back without waiting for a poll."""
    return NewEvent(
        kind="scenario",
        type=MODIFIER_EXPIRED,
        occurred_at=modifier.end,
        data={"modifierId": ids.modifier_id(modifier.modifier_id), "stream": modifier.stream},
        correlation_id=modifier.modifier_id,
    )
