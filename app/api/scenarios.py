"""Scenario control: list, activate, stop, reset, manual modifiers, and the state."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Response, jsonify

from app import extensions
from app.api import bp
from app.api.bodies import ManualModifierBody, ScenarioActivation, parse
from app.api.errors import ApiError, invalid_field
from app.api.openapi import documented
from app.api.params import body_time
from app.api.schemas import (
    Activated,
    BenchmarkLaidOut,
    ModifierAnswer,
    ResetDone,
    ScenarioList,
    State,
    Stopped,
)
from app.domain import ids
from app.domain.catalog import (
    DELIVERY_FAULTS,
    MULTIPLYING_MODIFIERS,
    SHAPED_MODIFIERS,
    Catalog,
    ShapeSpec,
    fault_stream_problem,
    fault_value_problem,
    format_duration,
    shape_duration_problem,
    shape_stream_problem,
    shape_value_problem,
)
from app.domain.settling import weight
from app.domain.simulation_state import ExternalRecord, ManualModifier, Run, SimulationState
from app.domain.timerange import from_iso, iso
from app.extensions import simulation
from app.services import BaselineMissing
from app.services.benchmark import lay_out_benchmark
from app.services.retention import size_json
from app.services.scenarios import (
    MAX_MODIFIER,
    activate_scenario,
    apply_modifier,
    end_modifier,
    reset,
    sigma_multiplier,
    stop_scenario,
)
from app.services.simulation import external_json


@bp.get("/simulation/scenarios")
@documented(tag="scenarios", responses={200: ScenarioList})
def list_scenarios() -> Response:
    """The pre-defined scenarios: what each does, how long, how it settles."""
    catalog = simulation().catalog
    return jsonify(
        {
            "scenarios": [
                {
                    "id": s.id,
                    "name": s.name,
                    "description": s.description,
                    "duration": format_duration(s.duration),
                    "settling": {
                        "curve": s.settling.curve,
                        "duration": format_duration(s.settling.duration),
                    },
                    "events": [e.template for e in s.events],
                    "shapes": [_shape_view(shape) for shape in s.shapes],
                    "deliveries": [
                        {"stream": f.stream, "type": f.type, "value": f.value} for f in s.deliveries
                    ],
                }
                for s in catalog.scenarios.values()
            ],
            "skipped": [str(problem) for problem in catalog.problems],
        }
    )


def _shape_view(shape: ShapeSpec) -> dict[str, Any]:
    return {
        "stream": shape.stream,
        "type": shape.type,
        "value": shape.value,
        "after": format_duration(shape.after),
        "duration": None if shape.duration is None else format_duration(shape.duration),
    }


def _run_view(run: Run, now: datetime) -> dict[str, Any]:
    """A run in the shape of the task list's ScenarioModifier."""
    sim = simulation()
    scenario = sim.catalog.scenarios[run.scenario_id]
    phase = run.phase(now)
    until = run.ends_at if phase == "active" else run.settled_at
    return {
        "id": ids.run_id(run.run_id),
        "runId": run.run_id,
        "type": "scenario",
        "scenarioId": scenario.id,
        "name": scenario.name,
        "description": scenario.description,
        "startTime": iso(run.activated_at),
        "endsAt": iso(run.ends_at),
        "duration": format_duration(scenario.duration),
        "status": phase,
        "strength": round(weight(scenario, run, now), 4),
        "timeRemaining": max(0.0, (until - now).total_seconds()) if until else None,
        "settlingUntil": iso(run.settled_at) if run.settled_at else None,
        "settlementDuration": format_duration(scenario.settling.duration),
        "affectedStreams": sorted(
            {m.target.stream or f"rate:{m.target.rate}" for m in scenario.modifiers}
            | {shape.stream for shape in scenario.shapes}
            | {fault.stream for fault in scenario.deliveries}
        ),
        "cascadeEffects": [
            {
                "after": format_duration(c.after),
                "target": c.target.stream or c.target.rate,
                "type": c.type,
                "value": c.value,
            }
            for c in scenario.cascade_rules
        ],
        "relatedEvents": [r.id for r in sim.state().externals if r.correlation_id == run.run_id],
    }


def _status(state: SimulationState, now: datetime) -> str:
    phases = {run.phase(now) for run in state.runs}
    if "active" in phases:
        return "Running"
    if "settling" in phases:
        return "Settling"
    return "Baseline"


@bp.post("/simulation/scenario")
@documented(
    tag="scenarios", body=ScenarioActivation, responses={201: Activated}, errors=(404, 409, 429)
)
def activate() -> tuple[Response, int]:
    """Activate a pre-defined scenario (409 while another is active)."""
    body = parse(ScenarioActivation)
    activation = activate_scenario(simulation(), body.scenario_id)
    now = simulation().now()
    total = activation.settled_by - activation.run.activated_at
    return jsonify(
        {
            "success": True,
            "scenario": _run_view(activation.run, now),
            "events": activation.events,
            "estimatedDuration": format_duration(_whole_seconds(total)),
            "settledBy": iso(activation.settled_by),
        }
    ), 201


def _whole_seconds(span: timedelta) -> timedelta:
    return timedelta(seconds=round(span.total_seconds()))


@bp.post("/simulation/stop")
@documented(tag="scenarios", responses={200: Stopped}, errors=(409, 429))
def stop() -> Response:
    """Stop the active scenario: it settles from now."""
    run, settled_at = stop_scenario(simulation())
    return jsonify({"success": True, "runId": run.run_id, "settlingUntil": iso(settled_at)})


@bp.post("/simulation/reset")
@documented(tag="scenarios", responses={200: ResetDone}, errors=(429,))
def reset_simulation() -> Response:
    """A new epoch: modifiers and injected events cleared, the baseline's history, simulated
    time back to now. Earlier epochs stay in the log."""
    epoch = reset(simulation())
    return jsonify(
        {
            "success": True,
            "epoch": epoch,
            "message": f"reset: epoch {epoch} began; scenarios, modifiers and injected events "
            "of earlier epochs no longer act, and simulated time is wall time again",
        }
    )


@bp.post("/simulation/modifiers")
@documented(
    tag="scenarios", body=ManualModifierBody, responses={201: ModifierAnswer}, errors=(429,)
)
def add_modifier() -> tuple[Response, int]:
    """A manual stream modifier (stream, type, value, duration): a level shift (multiplier,
    additive, override) or a shaped anomaly (spike, trend, missing, variance, flatline), from
    now or a later start."""
    body = parse(ManualModifierBody)
    _check_modifier(body, simulation().catalog)
    now = simulation().now()
    start = _modifier_start(body.start, now)
    value = body.value if body.sigma is None else _value_of_sigma(body, start or now)
    modifier = apply_modifier(
        simulation(), body.stream, body.type, value, body.duration, start, body.sigma
    )
    seen_at = now if start is not None else modifier.start  # starting now: its own moment
    return jsonify({"success": True, "modifier": _modifier_view(modifier, seen_at)}), 201


def _value_of_sigma(body: ManualModifierBody, start: datetime) -> float:
    """The multiplier that `sigma` deviations of the stream's hour at `start` make."""
    ratio = sigma_multiplier(simulation(), body.stream, start, body.sigma)
    if ratio is None or not 0 < ratio <= 100:
        said = "nothing expected then" if ratio is None else f"x{ratio:.3g}"
        raise invalid_field(
            "sigma",
            f"{body.sigma:g} deviations of '{body.stream}' at {iso(start)} make {said}, "
            "outside (0, 100]",
            "give a smaller sigma, or a value",
        )
    return ratio


def _modifier_start(raw: str | None, now: datetime) -> datetime | None:
    """A later start, or None for now. A modifier cannot reach into the past: it would
    rewrite what was generated (inject a past event for that)."""
    if raw is None:
        return None
    start = body_time("start", raw, now)
    if start < now - timedelta(seconds=1):
        raise invalid_field(
            "start",
            f"{iso(start)} is before the simulated now ({iso(now)})",
            "leave start out to start now, or give a later time",
        )
    if start > now + MAX_MODIFIER:
        raise invalid_field("start", "more than 30 days from now", "start within 30 days")
    return max(start, now)


def _check_modifier(body: ManualModifierBody, catalog: Catalog) -> None:
    """The rules a modifier's fields must meet together (the body's model checks each alone;
    the domain states the rules a type sets, for the API and the scenario definitions)."""
    if body.stream not in catalog.streams:
        raise invalid_field(
            "stream", f"unknown stream '{body.stream}'", "GET /api/streams lists the names"
        )
    if body.type in DELIVERY_FAULTS:
        _check_fault(body, catalog)
    else:
        _check_stream_takes(body, catalog)
    if body.sigma is not None:
        _check_sigma(body)
    elif body.type in DELIVERY_FAULTS:
        _check_fault_value(body)
    elif body.type in SHAPED_MODIFIERS:
        _check_shape_value(body)
    else:
        _check_value(body)
    if not timedelta(0) < body.duration <= MAX_MODIFIER:
        raise invalid_field("duration", "must be above 0 and at most 30 days", 'e.g. "PT2H"')
    problem = shape_duration_problem(body.type, body.duration)
    if problem:
        raise invalid_field("duration", problem, _DURATION_HINTS[body.type])


_DURATION_HINTS = {
    "spike": 'e.g. "PT10M"; for longer use a multiplier',
    "trend": 'e.g. "PT12H" or "P2D"',
    "seasonality": 'e.g. "P1D"',
}


def _check_stream_takes(body: ManualModifierBody, catalog: Catalog) -> None:
    """The stream's model takes the modifier's type (a chain stream only what multiplies it,
    a change of spread only a gauge, a seasonality change only a day that rises and falls)."""
    baseline = catalog.baseline(body.stream)
    rises_and_falls = catalog.metrics.day_rises_and_falls(body.stream)
    problem = shape_stream_problem(body.type, body.stream, baseline.model, rises_and_falls)
    if problem is None:
        return
    field, message = problem
    if body.type == "correlation-break":
        hint = "use it on a stream whose model is chain (GET /api/streams), e.g. session.scheduled"
    elif baseline.model == "chain":
        hint = (
            f"use one of {', '.join(MULTIPLYING_MODIFIERS)} or correlation-break, or modify the "
            "stream that causes it"
        )
    elif body.type == "seasonality":
        hint = "use it on a stream whose day rises and falls (e.g. customer.app.opened)"
    else:
        hint = "use it on a gauge (GET /api/streams: model gauge), or a multiplier here"
    raise invalid_field(field, message, hint)


def _check_fault(body: ManualModifierBody, catalog: Catalog) -> None:
    problem = fault_stream_problem(body.type, body.stream, catalog.effects_of(body.stream))
    if problem:
        raise invalid_field(
            "stream",
            problem,
            f"{body.type} acts on a stream that causes nothing (e.g. session.cancelled, "
            "support.csat.submitted, or a gauge); duplicate and clock-skew act on any stream",
        )


def _check_fault_value(body: ManualModifierBody) -> None:
    hint = f"e.g. {_FAULT_VALUE_HINTS[body.type]}"
    if body.value is None:
        raise invalid_field("value", f"a {body.type} needs a value", hint)
    problem = fault_value_problem(body.type, body.value)
    if problem:
        raise invalid_field("value", problem, hint)


_FAULT_VALUE_HINTS = {
    "late": '"value": 30 for half an hour late',
    "out-of-order": '"value": 10 for arrivals up to ten minutes apart from their order',
    "duplicate": '"value": 0.1 for one event in ten delivered twice',
    "clock-skew": '"value": -5 for a clock five minutes behind',
}


SIGMA_TYPES = ("multiplier", "spike", "trend")
"""The types whose change can be given in the stream's standard deviations."""


def _check_sigma(body: ManualModifierBody) -> None:
    if body.type not in SIGMA_TYPES:
        raise invalid_field(
            "sigma",
            f"a {body.type} takes no sigma",
            f"give sigma to one of {', '.join(SIGMA_TYPES)}, or a value",
        )
    if body.value is not None:
        raise invalid_field("sigma", "give value or sigma, not both", "leave one out")
    if body.sigma == 0 or abs(body.sigma) > 100:
        raise invalid_field(
            "sigma", "must be non-zero and at most 100 deviations", "e.g. 4, or -3 for a dip"
        )


def _check_shape_value(body: ManualModifierBody) -> None:
    problem = shape_value_problem(body.type, body.value)
    if problem:
        raise invalid_field("value", problem, _SHAPE_VALUE_HINTS[body.type])


_NO_VALUE_HINT = (
    'leave "value" out: the stream stops, a gauge holds its last sample, or a stream stops '
    "following its causes"
)
_SHAPE_VALUE_HINTS = {
    "spike": 'e.g. "value": 4 for a burst to four times',
    "trend": 'e.g. "value": 3 to drift to three times',
    "variance": 'e.g. "value": 3 for three times the noise, 0.3 for less',
    "seasonality": "e.g. 1 for a flat day, 0.5 for half the swing, 2 for the day turned over",
    "missing": _NO_VALUE_HINT,
    "flatline": _NO_VALUE_HINT,
    "correlation-break": _NO_VALUE_HINT,
}


def _check_value(body: ManualModifierBody) -> None:
    """A level shift's value: a multiplier in (0, 100], an addition, or an override (not
    negative)."""
    if body.value is None:
        raise invalid_field("value", f"a {body.type} needs a value", 'e.g. "value": 1.5')
    if body.type == "multiplier" and not 0 < body.value <= 100:
        raise invalid_field(
            "value", f"a {body.type}'s value is a multiplier in (0, 100]", "e.g. 1.5 for +50%"
        )
    if body.type == "override" and body.value < 0:
        raise invalid_field(
            "value", "an override cannot be negative", "give the value the stream should take"
        )


@bp.post("/simulation/benchmark")
@documented(tag="scenarios", responses={201: BenchmarkLaidOut}, errors=(429,))
def lay_out_benchmark_now() -> tuple[Response, int]:
    """The detector benchmark from now: one anomaly of each shape on its own stream and two
    red herrings over the next simulated day, each with its ground truth."""
    sim = simulation()
    laid_out = lay_out_benchmark(sim)
    now = laid_out.start
    body = {
        "success": True,
        "start": iso(laid_out.start),
        "end": iso(laid_out.end),
        "anomalies": [_modifier_view(m, now) for m in laid_out.anomalies],
        "redHerrings": laid_out.herrings,
    }
    return jsonify(body), 201


@bp.post("/simulation/modifiers/<modifier_id>/end")
@documented(tag="scenarios", responses={200: ModifierAnswer}, errors=(404, 409, 429))
def end_modifier_now(modifier_id: str) -> Response:
    """End a manual modifier before its planned end: its stream follows its flow from now."""
    modifier = end_modifier(simulation(), _modifier_number(modifier_id))
    return jsonify({"success": True, "modifier": _modifier_view(modifier, modifier.end)})


def _modifier_number(modifier_id: str) -> int:
    """The log position in a modifier's id (`mod-12`)."""
    position = ids.modifier_position(modifier_id)
    if position is None:
        raise ApiError(
            404,
            "unknown_modifier",
            f"'{modifier_id}' is not a modifier id",
            "modifier ids look like mod-12; GET /api/simulation/state lists those in force",
        )
    return position


def _modifier_status(modifier: ManualModifier, now: datetime) -> str:
    if modifier.in_force(now):
        return "active"
    return "scheduled" if now < modifier.start < modifier.end else "ended"


def _modifier_view(modifier: ManualModifier, now: datetime) -> dict[str, Any]:
    return {
        "id": ids.modifier_id(modifier.modifier_id),
        "type": modifier.type,
        "kind": modifier.kind,
        "stream": modifier.stream,
        "value": modifier.given_value,
        "sigma": modifier.sigma,
        "startTime": iso(modifier.start),
        "endsAt": iso(modifier.end),
        "status": _modifier_status(modifier, now),
        "timeRemaining": max((modifier.end - now).total_seconds(), 0.0),
    }


@bp.get("/simulation/state")
@documented(tag="simulation", responses={200: State})
def state() -> Response:
    """Simulated time, status, scenarios and modifiers in force, active events, anomalies."""
    sim = simulation()
    current = sim.state()
    clock = sim.clock()
    now = sim.now()
    body: dict[str, Any] = {
        "currentSimulationTime": iso(now),
        "speed": clock.speed,
        "epoch": current.epoch,
        "status": _status(current, now),
        "baselineState": "normal" if not current.runs and not current.modifiers else "custom",
    }
    try:
        view = sim.baseline
    except BaselineMissing:
        body |= {"baseline": None, "historicalMode": "baseline"}
        return jsonify(body)
    active_runs = [r for r in current.runs if r.phase(now) != "settled"]
    modifiers = [_modifier_view(m, now) for m in current.modifiers if now < m.end]
    events = [external_json(r) for r in current.externals if _in_window(r, now)]
    anomalies = [
        {
            "position": e.position,
            "stream": e.stream,
            "occurredAt": iso(e.occurred_at),
            "value": e.value,
            "normalized": e.normalized,
            "flag": e.flag,
            "expected": e.expected,
            "expectedFlag": e.expected_flag,
        }
        for e in sim.store.state.recent_critical(current.epoch)
    ]
    body |= {
        "activeScenario": _run_view(active_runs[-1], now) if active_runs else None,
        "activeModifiers": [_run_view(r, now) for r in active_runs] + modifiers,
        "activeEvents": events,
        "recentAnomalies": anomalies,
        "historicalMode": "modified" if sim.regeneration(current) else "baseline",
        "baseline": {"start": iso(view.start), "end": iso(view.end)},
        "liveSince": iso(sim.live_start(current)),
        "generation": sim.generation_progress().to_json(),
        "log": size_json(sim.store.log.size(), extensions.settings().retention),
    }
    return jsonify(body)


def _in_window(record: ExternalRecord, now: datetime) -> bool:
    """Whether an external event's impact window holds `now` (compared as times: the log
    holds some to the second and some to the microsecond)."""
    window = record.data["impactWindow"]
    return from_iso(window["start"]) <= now < from_iso(window["end"])
