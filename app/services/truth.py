"""Correlation and ground truth: which streams an event really moved, which events moved a
stream, and the labelled windows a detector's findings can be scored against."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from app.domain import ids
from app.domain.calendar import HOUR, floor_hours
from app.domain.causes import (
    Cause,
    CauseSet,
    anomaly_causes,
    calendar_causes,
    external_causes,
    modifier_cause,
    run_cause,
    scenario_streams,
    shape_causes,
    source_title,
)
from app.domain.counterfactual import REACH_TAIL, expectation
from app.domain.errors import Unknown
from app.domain.ground_truth import Truth, delivery_json, label, truth_json
from app.domain.hourly import simulate
from app.domain.impacts import measured_effect
from app.domain.labels import Noise
from app.domain.simulation_state import SimulationState
from app.domain.timerange import from_iso, iso
from app.services.simulation import WARMUP, HistoryQuery, Simulation, external_json

TRUTHS_KEPT = 4
"""Ground truths kept per process (the most recently used), each about a megabyte."""


def find_event(simulation: Simulation, event_id: str) -> dict[str, Any]:
    """A baseline event (`bevt-…`) or a logged one (`evt-<position>`)."""
    for event in simulation.baseline.events:
        if event["id"] == event_id:
            return dict(event)
    state = simulation.state()
    for record in state.externals:
        if record.id == event_id:
            return external_json(record)
    raise Unknown("unknown_event", f"there is no external event '{event_id}' in this epoch")


def expectation_without(
    simulation: Simulation, event_id: str | None, start: datetime, end: datetime
) -> np.ndarray:
    """What the flow expected per stream for whole hours [start, end), with every cause on
    record acting (external events, the baseline's anomalies, the calendar, scenarios and
    modifiers) except the cause `event_id`: the conditions ground truth uses."""
    warm = start - WARMUP
    hours = int((end - warm) / HOUR)
    model = simulation.model
    causes = _causes(simulation, simulation.state(), warm, end, simulation.now())
    conditions = CauseSet(model, warm, hours, causes).conditions({event_id} if event_id else set())
    plain = simulate(model, warm, hours)
    run = simulate(model, warm, hours, expected=plain, conditions=conditions)
    return run.values[:, int((start - warm) / HOUR) :]


def movement(
    simulation: Simulation,
    start: datetime,
    end: datetime,
    streams: Iterable[str],
    without: str | None = None,
) -> dict[str, dict[str, float]]:
    """How far each stream's observed hours in [start, end) stand from what was expected
    without the event `without`: relative effect and z-score (`measured_effect`: Poisson for
    counts, the gauge's noise for samples), and score."""
    start = start.replace(minute=0, second=0, microsecond=0)
    end = end.replace(minute=0, second=0, microsecond=0) + (HOUR if end.minute else timedelta(0))
    names = list(streams)
    observed = simulation.history(HistoryQuery(start, end, tuple(names), 1))["streams"]
    expected = expectation_without(simulation, without, start, end)
    model = simulation.model
    found = {}
    for name in names:
        points = [p for p in observed[name] if not p.get("partial")]
        if not points:
            continue
        offsets = [int((from_iso(p["timestamp"]) - start) / HOUR) for p in points]
        values = np.array([p["value"] for p in points], dtype=float)
        row = model.index[name]
        measured = measured_effect(model, row, values, expected[row, offsets])
        figures = measured.json()
        found[name] = {
            "effect": figures["effect"],
            "zScore": figures["zScore"],
            "score": round(measured.score, 3),
            "hours": figures["hours"],
        }
    return found


def impact(simulation: Simulation, event_id: str) -> dict[str, Any]:
    """Which streams moved in the event's impact window against what was expected without
    it, and how strongly; the streams the event names come first, then any other that moved."""
    event = find_event(simulation, event_id)
    window = event["impactWindow"]
    start, end = from_iso(window["start"]), min(from_iso(window["end"]), simulation.now())
    named = {d["stream"]: d for d in event["expectedImpact"].get("details", [])} or {
        s: {} for s in event["expectedImpact"]["streams"]
    }
    moved = (
        movement(simulation, start, end, simulation.model.names, without=event_id)
        if end > start
        else {}
    )
    rows = []
    for name, figures in moved.items():
        if name in named or figures["score"] > 0:
            rows.append(
                {
                    "stream": name,
                    "named": name in named,
                    "expectedDirection": named.get(name, {}).get("direction"),
                    **figures,
                }
            )
    rows.sort(key=lambda r: (not r["named"], -r["score"]))
    return {
        "event": event,
        "window": {"start": iso(start), "end": iso(end)},
        "actualImpact": event.get("actualImpact"),
        "streams": rows,
    }


def causes(simulation: Simulation, stream: str) -> dict[str, Any]:
    """The events, scenario runs and modifiers that acted on a stream, with what was measured
    on it; logged sources also by the correlation ids its events carry."""
    state = simulation.state()
    found = []
    for event in simulation.baseline.events:
        effect = event["measuredEffect"].get(stream)
        if effect is not None:
            found.append(_cause(event, effect))
    for record in state.externals:
        event = external_json(record)
        if stream in event["expectedImpact"]["streams"]:
            found.append(_cause(event, None))
    for run in state.runs:
        scenario = simulation.catalog.scenarios.get(run.scenario_id)
        if scenario is not None and stream in scenario_streams(simulation.model, scenario):
            found.append(
                {
                    "kind": "scenario",
                    "id": ids.run_id(run.run_id),
                    "scenarioId": run.scenario_id,
                    "start": iso(run.activated_at),
                    "causal": True,
                }
            )
    for modifier in state.modifiers:
        if modifier.stream == stream:
            found.append(
                {
                    "kind": "modifier",
                    "id": ids.modifier_id(modifier.modifier_id),
                    "start": iso(modifier.start),
                    "end": iso(modifier.end),
                    "causal": True,
                }
            )
    return {
        "stream": stream,
        "causes": found,
        "correlatedEvents": [
            {
                "position": row["source_position"],
                "kind": row["source_kind"],
                "type": row["source_type"],
                "title": source_title(row["source_data"]),
                "events": row["events"],
                "firstAt": iso(row["first_at"]),
                "lastAt": iso(row["last_at"]),
            }
            for row in simulation.store.state.sources_of_stream(state.epoch, stream)
        ],
    }


def _cause(event: Mapping[str, Any], effect: Mapping[str, Any] | None) -> dict[str, Any]:
    return {
        "kind": "external",
        "id": event["id"],
        "title": event["title"],
        "timestamp": event["timestamp"],
        "window": event["impactWindow"],
        "causal": bool(event.get("actualImpact")),
        "measuredEffect": effect,
        **_scenario_of(event),
    }


def _scenario_of(event: Mapping[str, Any]) -> dict[str, Any]:
    """For an event a scenario recorded, the scenario and its run. Such an event is part of
    the scenario's story and is `causal` only when it applies its template itself; what the
    run changes is in the run's own `scenario` windows and causes. Without this link the
    event would read like any red herring."""
    source = event.get("source") or {}
    if source.get("kind") != "scenario":
        return {}
    return {"scenarioId": source["scenarioId"], "runId": source["runId"]}


def ground_truth(
    simulation: Simulation, start: datetime, end: datetime, streams: Iterable[str]
) -> dict[str, Any]:
    """Labelled windows per stream over [start, end): every cause on record (external
    events, scenario runs, manual modifiers, the baseline's anomalies, the academic calendar)
    with its windows, computed from the model's counterfactuals, and what the data shows in
    them; per stream the causal windows in NAB's shape."""
    truth = labelled(simulation, start, end)
    return truth_json(truth.between(start, end, list(streams)), start, end)


def deliveries(
    simulation: Simulation,
    start: datetime,
    end: datetime,
    streams: Iterable[str],
    after: int = 0,
    limit: int = 1000,
) -> dict[str, Any]:
    """The events of [start, end) that faults of delivery acted on, by position after
    `after`, with what really happened to each; `nextAfter` pages on (None at the end)."""
    epoch = simulation.state().epoch
    found = simulation.store.log.read_deliveries(
        epoch, start, end, streams, after=after, limit=limit
    )
    return {
        "timeRange": {"start": iso(start), "end": iso(end)},
        "deliveries": [delivery_json(event) for event in found],
        "nextAfter": found[-1].position if len(found) == limit else None,
    }


def labelled(simulation: Simulation, start: datetime, end: datetime) -> Truth:
    """The truth of a grid covering [start, end) and every cause that reaches into it, with
    the data's view of each window. The windows themselves depend only on the log's state
    and the grid, so they are kept per process until either changes."""
    state = simulation.state()
    now = simulation.now()
    model = simulation.model
    grid_start, grid_end = _grid(simulation, state, start, end, now)
    hours = int((grid_end - grid_start) / HOUR)
    noise = _noise(simulation)
    listed_until = max(grid_end, end)
    focus = (floor_hours(start), listed_until)
    key = (state.epoch, state.last_position, grid_start, hours, focus)
    truth = simulation.truth_cache.pop(key, None)
    if truth is None:
        # causes on record up to the range's end are listed; those still to come have no
        # windows yet (the grid stops at now)
        causes = _causes(simulation, state, grid_start, listed_until, now)
        truth = label(model, causes, grid_start, hours, noise, focus=focus)
    simulation.truth_cache[key] = truth
    while len(simulation.truth_cache) > TRUTHS_KEPT:
        simulation.truth_cache.pop(next(iter(simulation.truth_cache)))
    return truth.observed(model, _observed(simulation, grid_start, hours), noise)


def expected_at(simulation: Simulation, stream: str, hour: datetime) -> float:
    """What the model expects of a stream's hour with every cause on record acting (the
    calendar, the baseline's events and anomalies, the log's events, runs and modifiers):
    the `without` a new cause's ground-truth window is measured against."""
    model, state, now = simulation.model, simulation.state(), simulation.now()
    start = simulation.baseline.start - WARMUP
    hours = int((floor_hours(hour) + HOUR - start) / HOUR)
    causes = _causes(simulation, state, start, start + hours * HOUR, now)
    plain = simulate(model, start, hours)
    full = expectation(CauseSet(model, start, hours, causes), plain)
    return float(full.values[model.index[stream], -1])


def _causes(
    simulation: Simulation,
    state: SimulationState,
    grid_start: datetime,
    grid_end: datetime,
    now: datetime,
) -> list[Cause]:
    model = simulation.model
    view = simulation.baseline
    logged = [{**external_json(r), "position": r.position} for r in state.externals]
    causes = [
        *calendar_causes(model, grid_start, grid_end),
        *anomaly_causes(model, view.anomalies),
        *external_causes(model, view.events, "baseline"),
        *external_causes(model, logged, "log"),
        *filter(None, (run_cause(model, run, now) for run in state.runs)),
        *(cause for run in state.runs for cause in shape_causes(model, run)),
        *(modifier_cause(modifier) for modifier in state.modifiers),
    ]
    return [c for c in causes if c.start < grid_end and c.end + REACH_TAIL > grid_start]


def _grid(
    simulation: Simulation,
    state: SimulationState,
    start: datetime,
    end: datetime,
    now: datetime,
) -> tuple[datetime, datetime]:
    """Hours to compute over: from a fortnight's warm-up before the range or the earliest
    cause reaching into it (never before the baseline's own warm-up), to the range's end
    (never past now). The truth of a range is thus the truth as it stood at its end: what
    came after (a window's continuation) does not change it."""
    view = simulation.baseline
    reaching = [
        c
        for c in _causes(simulation, state, start, max(end, start + HOUR), now)
        if c.kind != "calendar"
    ]
    first = min([start, *(c.start for c in reaching)])
    grid_start = max(view.start - WARMUP, floor_hours(first, 24) - WARMUP)
    last = min(end, now)
    grid_end = floor_hours(last) + (HOUR if last > floor_hours(last) else timedelta(0))
    return grid_start, max(grid_end, grid_start + HOUR)


def _noise(simulation: Simulation) -> Noise:
    view, model = simulation.baseline, simulation.model
    spread = view.slots[1].spread
    return Noise.of(model, spread[[view.index[name] for name in model.names]])


def _observed(simulation: Simulation, grid_start: datetime, hours: int) -> np.ndarray:
    """The data per stream and hour of the grid as history serves it; NaN where history has
    no complete hour (before the baseline, the hour still running, beyond now)."""
    model = simulation.model
    values = np.full((model.stream_count, hours), np.nan)
    begin = max(grid_start, simulation.baseline.start)
    finish = grid_start + hours * HOUR
    if begin >= finish:
        return values
    served = simulation.history(HistoryQuery(begin, finish, model.names, 1))["streams"]
    for name, points in served.items():
        row = model.index[name]
        for point in points:
            if point.get("partial"):
                continue
            offset = int((from_iso(point["timestamp"]) - grid_start) / HOUR)
            if 0 <= offset < hours:
                values[row, offset] = point["value"]
    return values
