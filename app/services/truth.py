"""Correlation and ground truth: which streams an event really moved, which events moved a
stream, and the labelled windows a detector's findings can be scored against."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from app.domain.baseline import iso
from app.domain.calendar import HOUR, from_iso
from app.domain.effects import CombinedEffects, hour_average
from app.domain.hourly import Conditions, simulate
from app.domain.impacts import AnomalyEffects, ImpactEffects, logged_impacts
from app.domain.scenario import (
    ManualModifier,
    Refused,
    SimulationState,
    StateEffects,
    deviation,
    weight,
)
from app.services.simulation import HistoryQuery, Simulation, external_json

SCORE_FLOOR = 2.0
SCORE_SPAN = 8.0


def score(z: float) -> float:
    """How strongly a stream moved: 0 within two standard errors (noise), 1 at ten."""
    return float(np.clip((abs(z) - SCORE_FLOOR) / SCORE_SPAN, 0.0, 1.0))


def find_event(simulation: Simulation, event_id: str) -> dict[str, Any]:
    """A baseline event (`bevt-…`) or a logged one (`evt-<position>`)."""
    for event in simulation.baseline.events:
        if event["id"] == event_id:
            return dict(event)
    state = simulation.state()
    for record in state.externals:
        if record.id == event_id:
            return external_json(record)
    raise Refused(
        404,
        "unknown_event",
        f"there is no external event '{event_id}' in this epoch",
        "GET /api/events lists the events and their ids",
    )


def expectation_without(
    simulation: Simulation, event_id: str | None, start: datetime, end: datetime
) -> np.ndarray:
    """What the flow expected per stream for whole hours [start, end), with everything the
    log and the baseline record acting (their external events, the baseline's anomalies,
    scenarios and modifiers) except the event `event_id`."""
    warm = start - timedelta(days=14)
    hours = int((end - warm) / HOUR)
    model = simulation.model
    state = simulation.state()
    others = [e for e in simulation.baseline.events if e["id"] != event_id]
    kept = tuple(r for r in state.externals if r.id != event_id)
    effects = CombinedEffects(
        ImpactEffects(logged_impacts(model, others)),
        AnomalyEffects(model, simulation.baseline.anomalies),
        StateEffects(replace(state, externals=kept), model),
    )
    per_hour = [hour_average(effects, warm + h * HOUR) for h in range(hours)]
    plain = simulate(model, warm, hours)
    run = simulate(model, warm, hours, expected=plain, conditions=Conditions(effects=per_hour))
    return run.values[:, int((start - warm) / HOUR) :]


def movement(
    simulation: Simulation,
    start: datetime,
    end: datetime,
    streams: Iterable[str],
    without: str | None = None,
) -> dict[str, dict[str, float]]:
    """How far each stream's observed hours in [start, end) stand from what was expected
    without the event `without`: relative effect, z-score (Poisson for counts, the gauge's
    noise for samples), score."""
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
        base = expected[model.index[name], offsets]
        found[name] = _effect(simulation, name, values, base)
    return found


def _effect(simulation: Simulation, name: str, values: np.ndarray, base: np.ndarray):
    model = simulation.model
    row = model.index[name]
    if model.is_entity(row):
        total, expected = values.sum(), base.sum()
        effect = total / expected - 1 if expected > 0 else 0.0
        z = (total - expected) / np.sqrt(max(expected, 1.0))
    else:
        gauge = next(g for g in model.gauges if g.stream == row)
        effect = values.mean() / base.mean() - 1 if base.mean() else 0.0
        z = effect / (max(gauge.noise, 1e-6) / np.sqrt(values.size))
    return {
        "effect": round(float(effect), 4),
        "zScore": round(float(z), 2),
        "score": round(score(z), 3),
        "hours": int(values.size),
    }


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
    for run, targets in _run_targets(simulation, state):
        if stream in targets:
            found.append(
                {
                    "kind": "scenario",
                    "id": f"run-{run.run_id}",
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
                    "id": f"mod-{modifier.modifier_id}",
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
                "title": row["source_title"],
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


def _run_targets(simulation: Simulation, state: SimulationState):
    """Each scenario run with the streams it changes (a rate's change reaches the streams
    its rules produce)."""
    model = simulation.model
    for run in state.runs:
        scenario = simulation.catalog.scenarios.get(run.scenario_id)
        if scenario is None:
            continue
        targets: dict[str, float] = {}
        for modifier in [*scenario.modifiers, *scenario.cascade_rules]:
            size = deviation(modifier, model)
            if modifier.target.stream:
                targets[modifier.target.stream] = max(targets.get(modifier.target.stream, 0), size)
            else:
                for rule in model.rules:
                    if rule.rate == modifier.target.rate:
                        name = model.names[rule.target]
                        targets[name] = max(targets.get(name, 0), size)
        yield run, targets


def ground_truth(
    simulation: Simulation, start: datetime, end: datetime, streams: Iterable[str]
) -> dict[str, Any]:
    """Labelled windows per stream: scenario phases, causal external events (with lag and
    effect size), red herrings (marked non-causal) and the baseline's natural anomalies; and
    per stream the causal windows alone, NAB-style, to score a detector against."""
    wanted = set(streams)
    state = simulation.state()
    windows: list[dict[str, Any]] = []
    for event in [*simulation.baseline.events, *map(external_json, state.externals)]:
        windows.extend(_event_windows(event, wanted))
    for run, targets in _run_targets(simulation, state):
        windows.extend(_run_windows(simulation, run, targets, wanted))
    windows.extend(
        {
            "stream": modifier.stream,
            "start": iso(modifier.start),
            "end": iso(modifier.end),
            "label": "modifier",
            "causal": True,
            "source": {"kind": "modifier", "id": f"mod-{modifier.modifier_id}"},
            "lagSeconds": 0.0,
            "effectSize": _modifier_size(simulation, modifier),
        }
        for modifier in state.modifiers
        if modifier.stream in wanted
    )
    for anomaly in simulation.baseline.anomalies:
        if anomaly["stream"] in wanted:
            windows.append(
                {
                    "stream": anomaly["stream"],
                    "start": anomaly["start"],
                    "end": anomaly["end"],
                    "label": "anomaly",
                    "causal": True,
                    "source": {"kind": "baseline-anomaly"},
                    "effectSize": round(anomaly["factor"] - 1, 4),
                }
            )
    windows = [w for w in windows if from_iso(w["start"]) < end and from_iso(w["end"]) > start]
    windows.sort(key=lambda w: (w["start"], w["stream"]))
    by_stream: dict[str, list[list[str]]] = {name: [] for name in sorted(wanted)}
    for window in windows:
        if window["causal"]:
            by_stream[window["stream"]].append([window["start"], window["end"]])
    return {
        "timeRange": {"start": iso(start), "end": iso(end)},
        "windows": windows,
        "causalWindows": by_stream,
    }


def _modifier_size(simulation: Simulation, modifier: ManualModifier) -> float:
    """The relative change a manual modifier asks for, against the stream's baseline mean."""
    if modifier.type == "multiplier":
        return round(modifier.value - 1, 4)
    mean = simulation.baseline.statistics[modifier.stream]["mean"]
    if mean <= 0:
        return 0.0
    change = modifier.value if modifier.type == "additive" else modifier.value - mean
    return round(change / mean, 4)


def _event_windows(event: Mapping[str, Any], wanted: set[str]) -> list[dict[str, Any]]:
    delay = from_iso(event["impactWindow"]["start"]) - from_iso(event["timestamp"])
    details = {d["stream"]: d for d in event["expectedImpact"].get("details", [])}
    measured = event.get("measuredEffect", {})
    found = []
    for stream in event["expectedImpact"]["streams"]:
        if stream not in wanted:
            continue
        detail = details.get(stream, {})
        found.append(
            {
                "stream": stream,
                "start": event["impactWindow"]["start"],
                "end": event["impactWindow"]["end"],
                "label": "external",
                "causal": bool(event.get("actualImpact")),
                "source": {
                    "kind": "external",
                    "id": event["id"],
                    "title": event["title"],
                    **_scenario_of(event),
                },
                "lagSeconds": delay.total_seconds(),
                "expectedDirection": detail.get("direction"),
                "effectSize": (measured.get(stream) or {}).get(
                    "effect", round(detail["factor"] - 1, 4) if detail else None
                ),
            }
        )
    return found


def _run_windows(simulation: Simulation, run, targets: Mapping[str, float], wanted: set[str]):
    scenario = simulation.catalog.scenarios[run.scenario_id]
    now = simulation.now()
    settling_from = run.settling_from or run.ends_at
    settled_at = run.settled_at or now
    phases = [("active", run.activated_at, min(settling_from, now))]
    if settling_from < now:
        phases.append(("settling", settling_from, min(settled_at, now)))
    found = []
    for stream, size in targets.items():
        if stream not in wanted:
            continue
        for phase, begin, finish in phases:
            if finish <= begin:
                continue
            strength = weight(scenario, run, begin)
            found.append(
                {
                    "stream": stream,
                    "start": iso(begin),
                    "end": iso(finish),
                    "label": "scenario",
                    "causal": True,
                    "source": {
                        "kind": "scenario",
                        "id": f"run-{run.run_id}",
                        "scenarioId": run.scenario_id,
                        "phase": phase,
                    },
                    "lagSeconds": 0.0,
                    "effectSize": round(size * strength, 4),
                }
            )
    return found
