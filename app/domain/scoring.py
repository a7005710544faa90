"""Scoring a detector's findings against ground truth.

A detection is a stream and a moment (with an optional score). It hits a window when it is on
the window's stream and within [start, end). What is reported:

- recall per window and per cause (a cause is found when one of its windows is), overall,
  for the `clear`, `visible` and `subtle` windows apart (`app/domain/labels.py`), per kind of
  cause, and per anomaly shape of the manual modifiers' windows (with their detectability:
  the label says how hard each instance is);
- precision: the detections that hit a causal window, over those that hit one or are false
  alarms;
- false alarms: detections outside every causal window, per stream, with the rate per
  stream-hour outside those windows;
- red herrings: the share of unconfounded red-herring windows with a detection, against the
  share a detector alarming at its own background rate would flag there (`baseRate`);
- NAB's window score (standard profile: a true positive earns up to 1 the earlier it comes in
  its window, a false alarm costs 0.11, a missed window 1), normalized so that 0 is the
  detector that finds nothing and 100 the one that finds every window at its start.

The calendar is the expected background (`calendar="expected"`, the default): its windows are
not targets, and an alarm inside one is neither found nor false. With `calendar="anomaly"` its
windows are targets like the others.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from app.domain.calendar import HOUR
from app.domain.timerange import from_iso, iso

CalendarMode = Literal["expected", "anomaly"]
NAB_TRUE_POSITIVE, NAB_FALSE_POSITIVE, NAB_FALSE_NEGATIVE = 1.0, 0.11, 1.0
_TARGET_KINDS = ("external", "scenario", "modifier", "anomaly")
DETECTABILITIES = ("clear", "visible", "subtle")


class DetectionError(ValueError):
    """A detection that cannot be read; says which one and why."""


@dataclass(frozen=True)
class Detection:
    stream: str
    at: datetime
    score: float | None = None


@dataclass(frozen=True)
class Span:
    id: str
    cause: str
    kind: str
    stream: str
    start: datetime
    end: datetime
    causal: bool
    detectability: str
    confounded: bool
    shape: str | None = None
    """A manual modifier's window: its anomaly kind (`ModifierKind`)."""

    def holds(self, detection: Detection) -> bool:
        return detection.stream == self.stream and self.start <= detection.at < self.end

    @property
    def hours(self) -> float:
        return (self.end - self.start) / HOUR


def read_detections(document: Any, min_score: float | None = None) -> list[Detection]:
    """Detections from JSON: a list of `{stream, timestamp, score?}`, or an object with such
    a list under `detections` (a timestamp without an offset is UTC). Those scored under
    `min_score` are left out."""
    items = document.get("detections") if isinstance(document, Mapping) else document
    if not isinstance(items, list):
        raise DetectionError("expected a list of detections, or an object with a 'detections' list")
    found = []
    for number, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise DetectionError(f"detection {number}: expected an object, got {item!r}")
        stream, stamp, score = item.get("stream"), item.get("timestamp"), item.get("score")
        if not isinstance(stream, str) or not isinstance(stamp, str):
            raise DetectionError(f"detection {number}: needs 'stream' and 'timestamp' strings")
        try:
            moment = from_iso(stamp)
        except ValueError as exc:
            raise DetectionError(f"detection {number}: bad timestamp {stamp!r}") from exc
        if score is not None and (isinstance(score, bool) or not isinstance(score, int | float)):
            raise DetectionError(f"detection {number}: 'score' must be a number")
        if min_score is not None and score is not None and score < min_score:
            continue
        found.append(Detection(stream, moment, None if score is None else float(score)))
    return found


def spans_of(windows: Iterable[Mapping[str, Any]]) -> list[Span]:
    """The ground truth's windows (in their JSON shape) as spans to score against."""
    return [
        Span(
            id=w["id"],
            cause=w["source"]["id"],
            kind=w["label"],
            stream=w["stream"],
            start=from_iso(w["start"]),
            end=from_iso(w["end"]),
            causal=bool(w["causal"]),
            detectability=w.get("detectability", "clear" if w["causal"] else "none"),
            confounded=bool(w.get("confounded")),
            shape=w.get("kind"),
        )
        for w in windows
    ]


def score(
    windows: Iterable[Mapping[str, Any]],
    detections: Sequence[Detection],
    start: datetime,
    end: datetime,
    streams: Sequence[str],
    calendar: CalendarMode = "expected",
) -> dict[str, Any]:
    """The report for `detections` over [start, end) on `streams` (see the module)."""
    wanted = set(streams)
    spans = [s for s in spans_of(windows) if s.stream in wanted and s.start < end and s.end > start]
    kinds = _TARGET_KINDS + (("calendar",) if calendar == "anomaly" else ())
    targets = [s for s in spans if s.causal and s.kind in kinds]
    background = [s for s in spans if s.causal and s.kind == "calendar" and calendar == "expected"]
    herrings = [s for s in spans if not s.causal]
    inside = [d for d in detections if d.stream in wanted and start <= d.at < end]
    by_stream = _by_stream(inside)
    hits = {s.id: [d for d in by_stream[s.stream] if s.holds(d)] for s in targets}
    true_positive = [d for d in inside if any(s.holds(d) for s in _of(targets, d.stream))]
    false_alarms = [
        d
        for d in inside
        if not any(s.holds(d) for s in _of(targets, d.stream))
        and not any(s.holds(d) for s in _of(background, d.stream))
    ]
    quiet_hours = _hours_outside(wanted, targets + background, start, end)
    return {
        "timeRange": {"start": iso(start), "end": iso(end)},
        "calendar": calendar,
        "streams": len(wanted),
        "detections": {
            "total": len(detections),
            "scored": len(inside),
            "ignored": len(detections) - len(inside),
            "inCausalWindows": len(true_positive),
            "falseAlarms": len(false_alarms),
        },
        "precision": _share(len(true_positive), len(true_positive) + len(false_alarms)),
        "windows": _recall(targets, hits),
        "causes": _cause_recall(targets, hits),
        "falseAlarms": _false_alarms(false_alarms, quiet_hours),
        "redHerrings": _herrings(herrings, inside, targets, background, start, end, wanted),
        "nab": _nab(targets, inside, wanted),
        "missedClear": sorted(
            s.id for s in targets if s.detectability == "clear" and not hits[s.id]
        ),
    }


def _by_stream(detections: Iterable[Detection]) -> dict[str, list[Detection]]:
    found: dict[str, list[Detection]] = defaultdict(list)
    for detection in detections:
        found[detection.stream].append(detection)
    return found


def _of(spans: Sequence[Span], stream: str) -> list[Span]:
    return [s for s in spans if s.stream == stream]


def _share(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def _tally(spans: Sequence[Span], found: set[str]) -> dict[str, Any]:
    detected = sum(s.id in found for s in spans)
    return {"count": len(spans), "detected": detected, "recall": _share(detected, len(spans))}


def _recall(targets: Sequence[Span], hits: Mapping[str, list[Detection]]) -> dict[str, Any]:
    found = {s.id for s in targets if hits[s.id]}
    report = _tally(targets, found)
    for level in DETECTABILITIES:
        report[level] = _tally([s for s in targets if s.detectability == level], found)
    report["byKind"] = {}
    for kind in sorted({s.kind for s in targets}):
        of_kind = [s for s in targets if s.kind == kind]
        clear = [s for s in of_kind if s.detectability == "clear"]
        report["byKind"][kind] = _tally(of_kind, found) | {"clear": _tally(clear, found)}
    report["byShape"] = {}
    for shape in sorted({s.shape for s in targets if s.shape is not None}):
        of_shape = [s for s in targets if s.shape == shape]
        report["byShape"][shape] = _tally(of_shape, found) | {
            level: _tally([s for s in of_shape if s.detectability == level], found)
            for level in DETECTABILITIES
        }
    return report


def _cause_recall(targets: Sequence[Span], hits: Mapping[str, list[Detection]]) -> dict:
    causes: dict[str, list[Span]] = defaultdict(list)
    for span in targets:
        causes[span.cause].append(span)
    found = {c for c, spans in causes.items() if any(hits[s.id] for s in spans)}
    clear = [c for c, spans in causes.items() if any(s.detectability == "clear" for s in spans)]
    kinds = {c: spans[0].kind for c, spans in causes.items()}
    return {
        "count": len(causes),
        "detected": len(found),
        "recall": _share(len(found), len(causes)),
        "withClearWindows": {
            "count": len(clear),
            "detected": sum(c in found for c in clear),
            "recall": _share(sum(c in found for c in clear), len(clear)),
        },
        "byKind": {
            kind: {
                "count": sum(k == kind for k in kinds.values()),
                "detected": sum(kinds[c] == kind for c in found),
            }
            for kind in sorted(set(kinds.values()))
        },
    }


def _hours_outside(
    streams: Iterable[str], spans: Sequence[Span], start: datetime, end: datetime
) -> dict[str, float]:
    """Per stream, the hours of [start, end) outside the spans."""
    total = (end - start) / HOUR
    found = {}
    for stream in streams:
        covered = _union([(max(s.start, start), min(s.end, end)) for s in _of(spans, stream)])
        found[stream] = total - sum((b - a) / HOUR for a, b in covered)
    return found


def _union(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[list[datetime]] = []
    for a, b in sorted(i for i in intervals if i[1] > i[0]):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def _false_alarms(alarms: Sequence[Detection], hours: Mapping[str, float]) -> dict[str, Any]:
    counts = _by_stream(alarms)
    by_stream = {
        stream: {
            "alarms": len(counts.get(stream, [])),
            "hours": round(quiet, 2),
            "rate": _share(len(counts.get(stream, [])), quiet),
        }
        for stream, quiet in sorted(hours.items())
    }
    rates = [row["rate"] for row in by_stream.values() if row["rate"] is not None]
    return {
        "total": len(alarms),
        "rate": _share(len(alarms), sum(hours.values())),
        "maxStreamRate": max(rates, default=None),
        "byStream": by_stream,
    }


def _herrings(
    herrings: Sequence[Span],
    detections: Sequence[Detection],
    targets: Sequence[Span],
    background: Sequence[Span],
    start: datetime,
    end: datetime,
    streams: Iterable[str],
) -> dict[str, Any]:
    """How often the clean red herrings are flagged, against a detector's background rate
    there: its alarm rate per hour outside every window (red herrings' included). A herring
    is clean when no target window overlaps it; only its hours outside the expected
    background (the calendar) count, as they do for false alarms."""
    by_stream = _by_stream(detections)
    everything = [*targets, *background, *herrings]
    quiet = _hours_outside(streams, everything, start, end)
    rate = {}
    for stream, hours in quiet.items():
        alarms = [d for d in by_stream.get(stream, []) if not _in(d, everything)]
        rate[stream] = len(alarms) / hours if hours > 0 else 0.0
    clean, flagged, chance = [], [], []
    for herring in herrings:
        if herring.confounded or any(_overlap(herring, t) for t in targets):
            continue
        covered = _union([(max(s.start, herring.start), min(s.end, herring.end))
                          for s in _of(background, herring.stream)])  # fmt: skip
        open_hours = _clipped_hours(herring, start, end) - sum((b - a) / HOUR for a, b in covered)
        if open_hours <= 0:
            continue
        clean.append(herring)
        seen = by_stream.get(herring.stream, [])
        if any(herring.holds(d) and not _in(d, background) for d in seen):
            flagged.append(herring)
        chance.append(1 - (1 - min(rate[herring.stream], 1.0)) ** open_hours)
    share = _share(len(flagged), len(clean))
    base = round(sum(chance) / len(chance), 4) if chance else None
    return {
        "windows": len(herrings),
        "unconfounded": len(clean),
        "flagged": len(flagged),
        "flaggedShare": share,
        "baseRate": base,
        "ratioToBase": round(share / base, 2) if share is not None and base else None,
    }


def _in(detection: Detection, spans: Sequence[Span]) -> bool:
    return any(s.holds(detection) for s in spans)


def _overlap(a: Span, b: Span) -> bool:
    return a.stream == b.stream and a.start < b.end and b.start < a.end


def _clipped_hours(span: Span, start: datetime, end: datetime) -> float:
    return max(0.0, (min(span.end, end) - max(span.start, start)) / HOUR)


def _nab(targets: Sequence[Span], detections: Sequence[Detection], streams: Iterable[str]):
    """NAB's standard-profile score over the merged target windows of each stream."""
    raw, windows = 0.0, 0
    by_stream = _by_stream(detections)
    for stream in streams:
        merged = _union([(s.start, s.end) for s in _of(targets, stream)])
        windows += len(merged)
        found = [False] * len(merged)
        for detection in sorted(by_stream.get(stream, []), key=lambda d: d.at):
            index = next((i for i, (a, b) in enumerate(merged) if a <= detection.at < b), None)
            if index is not None:
                if not found[index]:
                    found[index] = True
                    a, b = merged[index]
                    raw += NAB_TRUE_POSITIVE * _sigmoid(-(b - detection.at) / (b - a))
                continue
            before = [(a, b) for a, b in merged if b <= detection.at]
            if before:
                a, b = before[-1]
                raw += NAB_FALSE_POSITIVE * _sigmoid((detection.at - b) / (b - a))
            else:
                raw -= NAB_FALSE_POSITIVE
        raw -= NAB_FALSE_NEGATIVE * found.count(False)
    perfect = windows * NAB_TRUE_POSITIVE * _sigmoid(-1.0)
    null = -windows * NAB_FALSE_NEGATIVE
    normalized = 100 * (raw - null) / (perfect - null) if windows else None
    return {
        "profile": "standard",
        "windows": windows,
        "raw": round(raw, 3),
        "score": None if normalized is None else round(normalized, 2),
    }


def _sigmoid(position: float) -> float:
    """NAB's scaled sigmoid: about 0.99 at a window's start (-1), 0 at its end, falling to
    -1 well after it (beyond 3 window lengths)."""
    if position > 3.0:
        return -1.0
    return 2 / (math.exp(5 * position) + 1) - 1
