"""The ground truth of a span: every cause on record, each with the windows where it moved a
stream (`app/domain/labels.py`), computed from the flow's counterfactuals
(`app/domain/counterfactual.py`). Pure: the caller gathers the causes and the observed data.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from app.domain import ids
from app.domain.catalog import DELIVERY_FAULTS, SPREAD_MODIFIERS
from app.domain.causes import Cause, CauseSet, StateAction
from app.domain.counterfactual import REACH_TAIL, cause_effects, expectation
from app.domain.events import RecordedEvent, reported_at
from app.domain.hourly import HourlyRun, simulate
from app.domain.labels import (
    CLEAR_HOURS,
    CLEAR_SIGMA,
    CLEAR_SLOT_SIGMA,
    WINDOW_THRESHOLD,
    FaultSpan,
    Noise,
    Window,
    cause_windows,
    causes_of,
    confound,
    decoupling_windows,
    delivery_windows,
    herring_windows,
    observe,
    spread_windows,
)
from app.domain.model import MarketModel
from app.domain.timerange import from_iso, iso


@dataclass(frozen=True)
class Truth:
    """The causes of a grid of hours and their windows."""

    grid_start: datetime
    hours: int
    causes: tuple[Cause, ...]
    windows: tuple[Window, ...]

    def observed(self, model: MarketModel, values: np.ndarray, noise: Noise) -> Truth:
        """The same truth with what the data shows in each window (`values`: per stream and
        hour of the grid, NaN where the data has no complete hour)."""
        windows = observe(self.windows, model, self.grid_start, values, noise)
        return Truth(self.grid_start, self.hours, self.causes, tuple(windows))

    def between(self, start: datetime, end: datetime, streams: Collection[str]) -> Truth:
        """The windows overlapping [start, end) on these streams, and their causes."""
        wanted = set(streams)
        windows = tuple(
            w for w in self.windows if w.stream in wanted and w.start < end and w.end > start
        )
        shown = {w.cause.id for w in windows}
        causes = tuple(c for c in self.causes if c.id in shown or (c.start < end and c.end > start))
        return Truth(self.grid_start, self.hours, causes, windows)


def label(
    model: MarketModel,
    causes: Sequence[Cause],
    grid_start: datetime,
    hours: int,
    noise: Noise,
    plain: HourlyRun | None = None,
    focus: tuple[datetime, datetime] | None = None,
) -> Truth:
    """Every cause's windows over the grid: causal ones where the flow's expectation moves
    by more than the threshold, red herrings over their declared windows. With a `focus`,
    only the windows of the causes that can reach into it are computed (every cause still
    acts in the expectations)."""
    cause_set = CauseSet(model, grid_start, hours, causes)
    plain = plain if plain is not None else simulate(model, grid_start, hours)
    full = expectation(cause_set, plain)
    wanted = {c.id for c in causes if focus is None or _reaches(c, *focus)}
    windows: list[Window] = []
    for effect in cause_effects(cause_set, plain, full, wanted):
        windows.extend(cause_windows(model, effect, grid_start, hours, noise))
    for cause in causes:
        if not cause.acts and cause.id in wanted:
            windows.extend(herring_windows(model, cause, grid_start, full.values))
        elif cause.id in wanted and cause.shape in DELIVERY_FAULTS:
            fault = FaultSpan.of_modifier(cause.action.modifier)
            windows.extend(delivery_windows(model, cause, fault, grid_start, full.values))
        elif cause.id in wanted and _changes_samples_only(model, cause):
            windows.extend(spread_windows(model, cause, grid_start, full.values))
        elif cause.id in wanted and cause.shape == "correlation-break":
            windows = _with_decoupling(model, cause, grid_start, full.values, windows)
        if cause.id in wanted and cause.kind == "scenario":
            for fault in _scenario_faults(model, cause):
                windows.extend(delivery_windows(model, cause, fault, grid_start, full.values))
    windows.sort(key=lambda w: (w.start, w.stream, w.id))
    return Truth(grid_start, hours, tuple(causes), tuple(confound(windows)))


def _scenario_faults(model: MarketModel, cause: Cause) -> list[FaultSpan]:
    """A scenario run's faults of delivery, over the time the run is active."""
    run = cause.action.run if isinstance(cause.action, StateAction) else None
    scenario = model.catalog.scenarios.get(run.scenario_id) if run is not None else None
    if scenario is None:
        return []
    return [
        FaultSpan(f.stream, f.type, f.value, run.activated_at, run.settles_from)
        for f in scenario.deliveries
    ]


def _changes_samples_only(model: MarketModel, cause: Cause) -> bool:
    """A change of a gauge's samples, not of its expectation: a variance, a flatline, a gap."""
    if cause.shape in SPREAD_MODIFIERS:
        return True
    modifier = cause.action.modifier if isinstance(cause.action, StateAction) else None
    return (
        cause.shape == "missing"
        and modifier is not None
        and not model.is_entity(model.index[modifier.stream])
    )


def _with_decoupling(
    model: MarketModel, cause: Cause, grid_start: datetime, expected, windows: list[Window]
) -> list[Window]:
    """A correlation break's windows: where it moved its stream's level (its causes were
    moved by something else), those, each saying what the stream stopped following; where it
    moved nothing, one window over its span."""
    stream = cause.named[0]
    own = [w for w in windows if w.cause.id == cause.id and w.stream == stream]
    if not own:
        return [*windows, *decoupling_windows(model, cause, grid_start, expected)]
    sources = causes_of(model, model.index[stream])
    return [
        replace(w, decoupled_from=sources) if w.cause.id == cause.id and w.stream == stream else w
        for w in windows
    ]


def _reaches(cause: Cause, start: datetime, end: datetime) -> bool:
    return cause.start < end and cause.end + REACH_TAIL > start


def truth_json(truth: Truth, start: datetime, end: datetime) -> dict[str, Any]:
    """Ground truth as the API and the exported labels give it."""
    windows = [w.to_json() for w in truth.windows]
    return {
        "timeRange": {"start": iso(start), "end": iso(end)},
        "method": {
            "threshold": WINDOW_THRESHOLD,
            "clearSigma": CLEAR_SIGMA,
            "clearSlotSigma": CLEAR_SLOT_SIGMA,
            "clearHours": CLEAR_HOURS,
            "description": (
                "a window holds the hours where its cause moves the stream's expected value by "
                f"more than {WINDOW_THRESHOLD:.0%} (the model's expectation with every cause "
                "against the same without this one); sigma is that change in units of the "
                "stream's noise over the window (Poisson for counts); slotSigma is the change "
                "at its strongest hour in standard deviations of the stream at that hour over "
                f"the baseline month, slotHours the hours it moves by {CLEAR_SLOT_SIGMA:g} or "
                f"more; 'clear' at {CLEAR_SIGMA:g} sigma and {CLEAR_HOURS} such hours or more, "
                f"'visible' at {CLEAR_SIGMA:g} sigma with fewer, 'subtle' under {CLEAR_SIGMA:g} "
                "sigma"
            ),
        },
        "causes": [cause_json(cause, truth.windows) for cause in truth.causes],
        "windows": windows,
        "causalWindows": combined_windows(windows, ANOMALOUS),
        "calendarWindows": combined_windows(windows, ("calendar",)),
    }


ANOMALOUS = ("external", "scenario", "modifier", "anomaly")
"""The kinds of cause that are anomalies to a detector; the calendar is expected behaviour."""


def combined_windows(
    windows: Iterable[Mapping[str, Any]], kinds: Collection[str], clear_only: bool = False
) -> dict[str, list[list[str]]]:
    """NAB's `combined_windows` shape from windows in their JSON shape: per stream, the
    [start, end] of its causal windows of these kinds, overlapping ones merged."""
    spans: dict[str, list[list[datetime]]] = {}
    for window in sorted(windows, key=lambda w: (w["stream"], w["start"])):
        if not window["causal"] or window["label"] not in kinds:
            continue
        if clear_only and window["detectability"] != "clear":
            continue
        found = spans.setdefault(window["stream"], [])
        start, end = from_iso(window["start"]), from_iso(window["end"])
        if found and start <= found[-1][1]:
            found[-1][1] = max(found[-1][1], end)
        else:
            found.append([start, end])
    return {
        stream: [[iso(a), iso(b)] for a, b in merged] for stream, merged in sorted(spans.items())
    }


def cause_json(cause: Cause, windows: Iterable[Window]) -> dict[str, Any]:
    mine = [w for w in windows if w.cause.id == cause.id]
    return {
        "id": cause.id,
        "kind": cause.kind,
        "title": cause.source.get("title"),
        "causal": cause.causal and cause.acts,
        "occurredAt": iso(cause.occurred_at),
        "start": iso(cause.start),
        "end": iso(cause.end),
        "named": list(cause.named),
        "source": dict(cause.source),
        "windows": len(mine),
        "clearWindows": sum(w.detectability == "clear" for w in mine),
        "visibleWindows": sum(w.detectability == "visible" for w in mine),
        "streams": sorted({w.stream for w in mine}),
    }


def delivery_json(event: RecordedEvent) -> dict[str, Any]:
    """What really happened to an event a fault of delivery acted on: when it occurred, when
    it arrived (simulated), what its stamp said, and for a duplicate the position of the
    original it repeats."""
    delivery = event.delivery or {}
    delay = timedelta(seconds=delivery.get("delaySeconds", 0.0))
    return {
        "position": event.position,
        "stream": event.stream,
        "fault": delivery.get("fault"),
        "sourceId": _fault_source(delivery),
        "occurredAt": iso(event.occurred_at),
        "arrivedAt": iso(event.occurred_at + delay),
        "stampedAt": iso(reported_at(event.occurred_at, event.delivery)),
        "duplicateOf": delivery.get("of"),
        "delaySeconds": delivery.get("delaySeconds"),
        "skewSeconds": delivery.get("skewSeconds"),
    }


def _fault_source(delivery: Mapping[str, Any]) -> str | None:
    """The id of the modifier or the scenario run whose fault it was."""
    if "run" in delivery:
        return ids.run_id(delivery["run"])
    return ids.modifier_id(delivery["modifier"]) if "modifier" in delivery else None
