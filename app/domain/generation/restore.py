"""Restoring the live generator: its state from what the log holds, and the work in flight
when live generation begins (the baseline's pending effects, or a reset's restored fortnight)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

import numpy as np

from app.domain.calendar import HOUR
from app.domain.causes import CauseSet, anomaly_causes, external_causes
from app.domain.fields import DataMaker
from app.domain.generation.records import GROUPS, CauseRow, CausingEvent, LogSnapshot, Pending
from app.domain.generation.records import seconds as seconds_of
from app.domain.generation.state import LiveState
from app.domain.generation.timeline import Timeline
from app.domain.history import BaselineView
from app.domain.hourly import HourlyRun, simulate
from app.domain.model import MarketModel
from app.domain.randomness import uniforms

CARRY_OVER = timedelta(days=14)
"""How much of the past a fresh start simulates (hourly) for the work already in flight."""


def restore_state(
    state: LiveState,
    model: MarketModel,
    baseline: BaselineView,
    snapshot: LogSnapshot,
    start: datetime,
    carried_recent: dict[int, list[float]],
) -> None:
    """The epoch, frontiers, timeline, recent events and latest samples the log holds (with
    the events of the hour before `start` carried over from before the log)."""
    state.epoch = snapshot.epoch
    state.frontiers = {g: snapshot.frontiers.get(g, start) for g in GROUPS}
    timeline = state.timeline = Timeline(model, baseline)
    timeline.cover(max(state.frontiers.values()))
    for name, hour, events, value_sum, value_count in snapshot.hourly:
        stream = model.index[name]
        h = timeline.index(hour)
        if 0 <= h < timeline.hours:
            timeline.live_known[stream, h] = True
            timeline.live_sum[stream, h] = events if model.is_entity(stream) else value_sum
            timeline.live_count[stream, h] = events if model.is_entity(stream) else value_count
    times: dict[int, list[float]] = defaultdict(list)
    for stream, seconds in carried_recent.items():
        times[stream].extend(seconds)
    for name, moment in snapshot.recent:
        times[model.index[name]].append(seconds_of(moment))
    state.recent = defaultdict(lambda: np.zeros(0))
    state.recent.update({s: np.sort(np.array(t)) for s, t in times.items()})
    state.latest_sample = {model.index[n]: v for n, v in snapshot.latest_samples.items()}


def logged_causes(model: MarketModel, rows: Iterable[CauseRow]) -> list[CausingEvent]:
    """The logged events that may still have effects pending."""
    return [
        CausingEvent(
            position, stream := model.index[name], at, model.causing_data(stream, data), correlation
        )
        for position, name, at, data, correlation in rows
    ]


def carry_over(
    model: MarketModel,
    baseline: BaselineView,
    seed: int,
    makers: dict[int, DataMaker],
    start: datetime,
) -> tuple[list[Pending], dict[int, list[float]]]:
    """The work in flight when live generation begins: caused events still due after
    `start` (sessions booked for next week), and each stream's events of the last hour.
    At the baseline's end they are the baseline's own; after a reset, the fortnight before
    `start` is run through the hourly flow (seeded by `start`). Their causes are in the
    baseline, not the log: they carry no causation id."""
    overflow, last_hour = _in_flight(model, baseline, seed, start)
    pending = []
    for index, counts in overflow.items():
        rule = model.rules[index]
        total = int(counts.sum())
        if total == 0:
            continue
        offsets = np.repeat(np.arange(counts.size), counts)
        within = uniforms(seed, 5, index, np.arange(total))
        data_rng = np.random.default_rng([seed, 6, index, int(seconds_of(start))])
        cause_data = makers[rule.source].make(data_rng, total)
        cause_time = start - timedelta(minutes=1)
        pending.extend(
            Pending(
                start + timedelta(hours=float(k + u)),
                index,
                CausingEvent(
                    0, rule.source, cause_time, model.causing_data(rule.source, data), None
                ),
            )
            for k, u, data in zip(offsets, within, cause_data, strict=True)
        )
    recent = {}
    hour_start = seconds_of(start) - 3600
    for stream in range(model.stream_count):
        if model.is_entity(stream):
            count = int(last_hour[stream])
            spots = uniforms(seed, 7, stream, np.arange(count))
            recent[stream] = (hour_start + 3600 * np.sort(spots)).tolist()
    return pending, recent


def _in_flight(
    model: MarketModel, baseline: BaselineView, seed: int, start: datetime
) -> tuple[dict[int, np.ndarray], np.ndarray]:
    """Per rule, caused events due in each hour after `start`; each stream's last hour."""
    if start == baseline.end and baseline.carry_over:
        keys = {f"{r.rule_id}:{model.names[r.target]}": r.index for r in model.rules}
        overflow = {}
        for key, pairs in baseline.carry_over.items():
            counts = np.zeros(max(k for k, _ in pairs) + 1, dtype=int)
            for k, c in pairs:
                counts[k] = c
            overflow[keys[key]] = counts
        last = np.array([baseline.values[baseline.index[n], -1]
                         for n in model.names])  # fmt: skip
        return overflow, last
    drawn = restored_history(model, baseline, seed, start)
    overflow = {i: np.rint(v).astype(int) for i, v in drawn.overflow.items()}
    return overflow, drawn.values[:, -1]


def cause_windows(model: MarketModel) -> dict[str, timedelta]:
    """For each stream that causes others, how far back a cause can still have an effect
    pending: its rules' longest delay, plus a day for effects emitted late by a group that
    was behind."""
    longest: dict[str, float] = defaultdict(float)
    for rule in model.rules:
        name = model.names[rule.source]
        longest[name] = max(longest[name], rule.delay.high)
    return {name: timedelta(seconds=s) + timedelta(days=1) for name, s in longest.items()}


def restored_history(
    model: MarketModel, baseline: BaselineView, seed: int, start: datetime
) -> HourlyRun:
    """The fortnight before a live start that has no baseline behind it (a reset): the hourly
    flow drawn with a seed from `start`, with the baseline's own causes acting (its events
    that run on past its end: a reset goes back to the baseline's marketplace, finals week
    and all). History shows it, and the generator takes the work in flight from it, so both
    tell the same story; the same seed and reset moment give the same fortnight."""
    begin = start - CARRY_OVER
    hours = int(CARRY_OVER / HOUR)
    causes = CauseSet(
        model,
        begin,
        hours,
        [
            *anomaly_causes(model, baseline.anomalies),
            *external_causes(model, baseline.events, "baseline"),
        ],
    )
    expected = simulate(model, begin, hours)
    conditions = causes.conditions()
    conditioned = simulate(model, begin, hours, expected=expected, conditions=conditions)
    rng = np.random.default_rng([seed, 4, int(start.timestamp())])
    return simulate(
        model,
        begin,
        hours,
        rng=rng,
        expected=expected,
        conditions=conditions,
        preliminary=conditioned,
    )
