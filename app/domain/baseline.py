"""The 30-day baseline: hourly values of every stream, their 12-hour buckets, statistics, the
external events of the period with their ground truth (written down by `documents.py`). Pure
and seeded: the same seed, end and config give the same bytes.

How it is made: a warm-up fortnight and the 30 days run through the hourly flow twice, once
for expectations and once drawn; the drawn run carries the natural anomalies and the impacts
of the causal external events (red herrings carry none). Each event records what it was
expected to do, whether it really did (`actualImpact`), and the effect measured in the data
against the expectation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from app.domain import ids
from app.domain.calendar import HOUR, day_type, hour_grid, hour_of_day
from app.domain.catalog import Catalog, EventTemplate
from app.domain.causes import CauseSet, anomaly_causes, external_causes
from app.domain.documents import array_checksum, json_checksum, number_list
from app.domain.hourly import HourlyRun, simulate
from app.domain.impacts import impact_window, measured_effect, template_json
from app.domain.model import MarketModel
from app.domain.statistics import StreamStatistics, aggregate, stream_statistics
from app.domain.timerange import iso, utc

GENERATOR_VERSION = "4"
"""2: events act with the live generator's hourly shape, anomalies have ids, expectations
stop sweeping a loop once it is negligible, and the causes are labelled from the flow."""
BASELINE_DAYS = 30
WARMUP_DAYS = 14
BUCKET_HOURS = 12
BASELINE_HOURS = BASELINE_DAYS * 24
CAUSAL_SHARE = (0.62, 0.68)
"""The share of baseline events that really move their streams is drawn in this range."""
_PURPOSES = {"anomalies": 1, "events": 2, "flow": 3}


def rng_for(seed: int, purpose: str) -> np.random.Generator:
    """An independent random stream per purpose, so one part can change without shifting the
    draws of the others."""
    return np.random.default_rng([seed, _PURPOSES[purpose]])


@dataclass(frozen=True)
class Anomaly:
    id: str
    stream: str
    start: datetime
    end: datetime
    factor: float

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "stream": self.stream,
            "start": iso(self.start),
            "end": iso(self.end),
            "factor": round(self.factor, 4),
        }


@dataclass(frozen=True)
class BaselineEvent:
    """An external event of the baseline period and its ground truth."""

    id: str
    occurred_at: datetime
    template: EventTemplate
    causal: bool
    impact_start: datetime
    impact_end: datetime
    measured: Mapping[str, Mapping[str, Any]]

    def to_json(self, catalog: Catalog) -> dict[str, Any]:
        return {
            "id": self.id,
            "timestamp": iso(self.occurred_at),
            **template_json(self.template, catalog),
            "impactWindow": {"start": iso(self.impact_start), "end": iso(self.impact_end)},
            "actualImpact": self.causal,
            "measuredEffect": dict(self.measured),
            "injectedByAI": False,
            "source": {"kind": "baseline"},
        }


@dataclass(frozen=True)
class Baseline:
    """The generated baseline; `documents()` gives the three export files' contents."""

    seed: int
    start: datetime
    end: datetime
    config_checksum: str
    streams: tuple[str, ...]
    values: np.ndarray
    buckets: np.ndarray
    statistics: Mapping[str, StreamStatistics]
    events: tuple[BaselineEvent, ...]
    anomalies: tuple[Anomaly, ...]
    pending: Mapping[str, int]
    carry_over: Mapping[str, list[list[int]]]
    """Per rule (`rule:target`), the caused events still due after the end, as [hours after
    the end, count] pairs: where live generation picks up the work in flight."""
    catalog: Catalog

    @property
    def checksums(self) -> dict[str, str]:
        return {
            "samples": array_checksum(self.streams, self.values),
            "buckets": array_checksum(self.streams, self.buckets),
            "statistics": json_checksum(self.statistics_json()),
            "events": json_checksum(self.events_json()),
        }

    def metadata(self) -> dict[str, Any]:
        return {
            "generatorVersion": GENERATOR_VERSION,
            "seed": self.seed,
            "start": iso(self.start),
            "end": iso(self.end),
            "hours": BASELINE_HOURS,
            "bucketHours": BUCKET_HOURS,
            "configChecksum": self.config_checksum,
            "checksums": self.checksums,
        }

    def statistics_json(self) -> dict[str, Any]:
        return {name: self.statistics[name].to_json() for name in self.streams}

    def events_json(self) -> list[dict[str, Any]]:
        return [event.to_json(self.catalog) for event in self.events]

    def documents(self) -> dict[str, dict[str, Any]]:
        """The export files: full data, statistics, events (each with the metadata)."""
        metadata = self.metadata()
        full = {
            "metadata": metadata,
            "streams": {
                name: {
                    "unit": self.catalog.stream(name).unit,
                    "aggregation": self.catalog.stream(name).aggregation,
                    "hourly": number_list(self.values[i]),
                    "buckets": number_list(self.buckets[i]),
                }
                for i, name in enumerate(self.streams)
            },
            "anomalies": [a.to_json() for a in self.anomalies],
            "pendingAtEnd": dict(self.pending),
            "carryOver": dict(self.carry_over),
        }
        statistics = {
            "metadata": metadata | {"calculatedFrom": f"{iso(self.start)}/{iso(self.end)}"},
            "streams": self.statistics_json(),
        }
        events_json = self.events_json()
        causal = sum(e["actualImpact"] for e in events_json)
        events = {
            "metadata": metadata
            | {
                "count": len(events_json),
                "causal": causal,
                "redHerrings": len(events_json) - causal,
            },
            "events": events_json,
        }
        return {
            "baseline-full-30day.json": full,
            "baseline-statistics.json": statistics,
            "baseline-events-30day.json": events,
        }


def generate_baseline(
    catalog: Catalog, *, seed: int, end: datetime, config_checksum: str
) -> Baseline:
    """The 30 days of baseline ending at `end` (a whole 12-hour boundary, UTC)."""
    end = utc(end)
    if end.minute or end.second or end.microsecond or end.hour % BUCKET_HOURS:
        raise ValueError(f"the baseline must end on a 12-hour boundary (00:00 or 12:00 UTC): {end}")
    start = end - timedelta(days=BASELINE_DAYS)
    warm_start = start - timedelta(days=WARMUP_DAYS)
    hours = (BASELINE_DAYS + WARMUP_DAYS) * 24
    model = MarketModel(catalog, anchor=end)
    expected = simulate(model, warm_start, hours)
    anomalies = _anomalies(model, rng_for(seed, "anomalies"), start)
    scheduled = _schedule_events(catalog, rng_for(seed, "events"), start, end)
    unmeasured = [
        BaselineEvent(
            ids.baseline_event_id(n), at, template, causal, *impact_window(template, at), {}
        )
        for n, (at, template, causal) in enumerate(scheduled)
    ]
    causes = CauseSet(
        model,
        warm_start,
        hours,
        [
            *anomaly_causes(model, [a.to_json() for a in anomalies]),
            *external_causes(model, [e.to_json(catalog) for e in unmeasured], "baseline"),
        ],
    )
    conditions = causes.conditions()
    conditioned = simulate(model, warm_start, hours, expected=expected, conditions=conditions)
    drawn = simulate(
        model,
        warm_start,
        hours,
        rng=rng_for(seed, "flow"),
        expected=expected,
        conditions=conditions,
        preliminary=conditioned,
    )
    values = _rounded(model, drawn.values[:, -BASELINE_HOURS:])
    buckets = np.vstack([
        np.round(aggregate(values[i], BUCKET_HOURS, catalog.stream(name).aggregation), 4)
        for i, name in enumerate(model.names)
    ])  # fmt: skip
    shapes = _shapes(model, conditioned, start)
    statistics = {
        name: stream_statistics(
            name,
            start,
            values[i],
            bucket_hours=BUCKET_HOURS,
            how=catalog.stream(name).aggregation,
            shape=shapes[i],
        )
        for i, name in enumerate(model.names)
    }
    events = _measure(model, unmeasured, causes, conditioned, drawn, end)
    pending = {
        rule_key(model, rule): int(np.rint(drawn.pending[rule.index])) for rule in model.rules
    }
    carry_over = {
        rule_key(model, model.rules[index]): [
            [int(k), int(c)] for k, c in enumerate(np.rint(per_hour)) if c > 0
        ]
        for index, per_hour in sorted(drawn.overflow.items())
    }
    return Baseline(
        seed=seed,
        start=start,
        end=end,
        config_checksum=config_checksum,
        streams=model.names,
        values=values,
        buckets=buckets,
        statistics=statistics,
        events=events,
        anomalies=anomalies,
        pending=pending,
        carry_over={key: hours for key, hours in carry_over.items() if hours},
        catalog=catalog,
    )


def _shapes(model: MarketModel, conditioned: HourlyRun, start: datetime) -> np.ndarray:
    """The month's expectation of every labelled cause, the calendar and the week, without
    the growth: what the statistics measure the trend against. Counts grow with the roots;
    gauges follow their load against its own expectation, so they carry no growth."""
    shapes = conditioned.values[:, -BASELINE_HOURS:].copy()
    growth = model.growth_curve(hour_grid(start, BASELINE_HOURS))
    for stream in range(model.stream_count):
        if model.is_entity(stream):
            shapes[stream] /= growth
    return shapes


def rule_key(model: MarketModel, rule) -> str:
    """How exports name a rule: its id and its target (a chain has one rule per outcome)."""
    return f"{rule.rule_id}:{model.names[rule.target]}"


def _rounded(model: MarketModel, values: np.ndarray) -> np.ndarray:
    rounded = np.round(values, 4)
    for i in range(model.stream_count):
        if model.is_entity(i):
            rounded[i] = np.round(values[i])
    return rounded


def _anomalies(
    model: MarketModel, rng: np.random.Generator, start: datetime
) -> tuple[Anomaly, ...]:
    """Small spikes and dips on the roots and gauges in a share of their 12-hour intervals;
    the streams they cause inherit them through the rules. Numbered in time order."""
    settings = model.catalog.anomalies
    found = []
    streams = sorted([r.stream for r in model.roots] + [g.stream for g in model.gauges])
    for stream in streams:
        for interval in range(BASELINE_HOURS // BUCKET_HOURS):
            if rng.random() >= settings.interval_share:
                continue
            magnitude = rng.uniform(settings.magnitude.min, settings.magnitude.max)
            value = 1 / magnitude if rng.random() < settings.dip_share else magnitude
            length = int(rng.integers(2, 7))
            first = interval * BUCKET_HOURS + int(rng.integers(0, BUCKET_HOURS - length + 1))
            found.append(
                (start + first * HOUR, model.names[stream], start + (first + length) * HOUR, value)
            )
    found.sort(key=lambda a: (a[0], a[1]))
    return tuple(
        Anomaly(ids.anomaly_id(n), name, begin, finish, float(value))
        for n, (begin, name, finish, value) in enumerate(found)
    )


def _schedule_events(
    catalog: Catalog, rng: np.random.Generator, start: datetime, end: datetime
) -> list[tuple[datetime, EventTemplate, bool]]:
    """When each template's events happen in the period, and which of them are causal."""
    grid = hour_grid(start, BASELINE_HOURS)
    months = grid.astype("datetime64[M]").astype(np.int64) % 12 + 1
    moments: list[tuple[datetime, EventTemplate]] = []
    for template in catalog.templates.values():
        timing = template.timing
        allowed = np.ones(grid.size, dtype=bool)
        if timing.pattern == "calendar" and timing.months:
            allowed = np.isin(months, timing.months)
        elif timing.pattern == "business-hours":
            hours = hour_of_day(grid)
            allowed = (day_type(grid) == 0) & (hours >= 13) & (hours < 21)
        share = allowed.mean() if timing.pattern != "calendar" else allowed.sum() / grid.size
        count = int(rng.poisson(timing.per_month * BASELINE_DAYS / 30 * (share > 0)))
        candidates = np.flatnonzero(allowed)
        if count == 0 or candidates.size == 0:
            continue
        if timing.pattern == "clustered" and timing.cluster_size:
            hours_chosen = _clustered(rng, candidates, count, timing.cluster_size)
        else:
            hours_chosen = rng.choice(candidates, size=count)
        for hour in hours_chosen:
            minute = int(rng.integers(0, 60))
            moments.append((start + int(hour) * HOUR + timedelta(minutes=minute), template))
    moments.sort(key=lambda m: (m[0], m[1].id))
    return _choose_causal(rng, moments)


def _clustered(rng, candidates: np.ndarray, count: int, size) -> np.ndarray:
    """Events in bursts: cluster centres at random, members within a day and a half."""
    chosen: list[int] = []
    while len(chosen) < count:
        centre = int(rng.choice(candidates))
        members = int(rng.integers(size.min, size.max + 1))
        for _ in range(min(members, count - len(chosen))):
            hour = centre + int(rng.integers(-36, 37))
            chosen.append(int(np.clip(hour, candidates[0], candidates[-1])))
    return np.array(chosen)


def _choose_causal(
    rng: np.random.Generator, moments: list[tuple[datetime, EventTemplate]]
) -> list[tuple[datetime, EventTemplate, bool]]:
    """Mark a 62-68% share of the events causal, more likely for templates that usually are."""
    weights = np.array([t.causal_probability for _, t in moments])
    possible = int((weights > 0).sum())
    wanted = min(possible, round(len(moments) * rng.uniform(*CAUSAL_SHARE)))
    causal: set[int] = set()
    if wanted:
        causal = set(
            rng.choice(len(moments), size=wanted, replace=False, p=weights / weights.sum()).tolist()
        )
    return [(at, template, i in causal) for i, (at, template) in enumerate(moments)]


def _measure(
    model: MarketModel,
    events: list[BaselineEvent],
    causes: CauseSet,
    conditioned: HourlyRun,
    drawn: HourlyRun,
    end: datetime,
) -> tuple[BaselineEvent, ...]:
    """Each event's effect on the streams it names, measured in the drawn data against what
    was expected without it: the expectation under every event and anomaly of the period,
    with this event's own multiplier taken out (none for a red herring). Overlapping events
    and anomalies are thus in both sides, and the effect left is the event's own.

    `confounded` says that another causal event named the same stream in an overlapping
    window: a reader correlating by eye would see both."""
    hours = drawn.values.shape[1]
    measured_events = []
    for number, event in enumerate(events):
        first = max(0, int(np.floor((event.impact_start - causes.start) / HOUR)))
        last = min(hours, int(np.ceil((min(event.impact_end, end) - causes.start) / HOUR)))
        own = causes.rows_of(causes.by_id[event.id]) if event.causal else {}
        measured = {}
        for impact in event.template.expected_impact.streams:
            stream = model.index[impact.stream]
            without = conditioned.values[stream, first:last]
            if stream in own:
                without = without / own[stream][first:last]
            effect = measured_effect(model, stream, drawn.values[stream, first:last], without)
            measured[impact.stream] = effect.json() | {
                "confounded": _confounded(events, number, impact.stream)
            }
        measured_events.append(replace(event, measured=measured))
    return tuple(measured_events)


def _confounded(events: list[BaselineEvent], number: int, stream: str) -> bool:
    """Whether another causal event names the same stream in an overlapping window."""
    event = events[number]
    for other, candidate in enumerate(events):
        if other == number or not candidate.causal:
            continue
        overlaps = candidate.impact_start < event.impact_end and event.impact_start < (
            candidate.impact_end
        )
        named = any(i.stream == stream for i in candidate.template.expected_impact.streams)
        if overlaps and named:
            return True
    return False
