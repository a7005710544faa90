"""Decided effects waiting to be emitted: one queue per cadence group, in due order.

A backlog in force (a payment outage holding charges) holds an effect whose cause falls in it
until its release, at a moment of the release drawn from the cause's position.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import numpy as np

from app.domain.fields import DataMaker
from app.domain.generation.in_force import InForce
from app.domain.generation.records import GROUPS, Draft, Pending
from app.domain.generation.records import seconds as seconds_of
from app.domain.generation.state import LiveState
from app.domain.model import MarketModel
from app.domain.randomness import uniforms

_RELEASE_KEY = 1_000_033


class EffectQueue:
    """Per cadence group, a heap of (due seconds, cause position, rule, `Pending`)."""

    def __init__(
        self,
        model: MarketModel,
        seed: int,
        state: LiveState,
        in_force: InForce,
        makers: dict[int, DataMaker],
    ) -> None:
        self.model = model
        self.seed = seed
        self.state = state
        self.in_force = in_force
        self.makers = makers
        self.heaps: dict[str, list[tuple[float, int, int, Pending]]] = {g: [] for g in GROUPS}
        self._child_data_of: dict[int, Mapping[str, Any] | None] = {}

    def clear(self) -> None:
        self.heaps = {g: [] for g in GROUPS}

    def requeue(self) -> None:
        """Time every queued effect again (the backlogs in force changed)."""
        queued = [item[3] for heap in self.heaps.values() for item in heap]
        self.clear()
        self.push_all(queued)

    def count(self) -> int:
        return sum(len(heap) for heap in self.heaps.values())

    def push_all(self, pendings: Iterable[Pending]) -> None:
        """Add decided effects to their target group's queue (in due order)."""
        grouped: dict[str, list] = defaultdict(list)
        rules, releases, group_of = self.model.rules, self.in_force.releases, self.state.group_of
        for pending in pendings:
            target = rules[pending.rule].target
            if target in releases or pending.released is not None:
                pending = self._held(pending, target)
            grouped[group_of[target]].append(
                (pending.at.timestamp(), pending.cause.position, pending.rule, pending)
            )
        for group, items in grouped.items():
            heap = self.heaps[group]
            if len(items) > len(heap) // 4:
                heap.extend(items)
                heapq.heapify(heap)
            else:
                for item in items:
                    heapq.heappush(heap, item)

    def _held(self, pending: Pending, target: int) -> Pending:
        """The effect as the backlogs in force time it: released at a moment of the release
        drawn from its cause's position, when a backlog holds its cause's moment."""
        for release in self.in_force.releases.get(target, ()):
            if release.holds(pending.cause.occurred_at):
                share = uniforms(self.seed, pending.cause.position, _RELEASE_KEY, pending.rule)
                return pending._replace(
                    released=release.at(float(share)), release_source=release.source
                )
        return pending._replace(released=None, release_source=None)

    def due(self, group: str, until: datetime) -> list[Draft]:
        """The effects of `group` due before `until`, taken off its queue, as drafts (their
        data drawn, inheriting from their causes)."""
        heap = self.heaps[group]
        limit = seconds_of(until)
        due: list[Pending] = []
        while heap and heap[0][0] < limit:
            due.append(heapq.heappop(heap)[3])
        by_stream: dict[int, list[Pending]] = defaultdict(list)
        for item in due:
            by_stream[self.model.rules[item.rule].target].append(item)
        drafts = []
        for stream, items in by_stream.items():
            items = self._followed(stream, items)
            if not items:
                continue
            rng = np.random.default_rng([self.seed, 3, stream, items[0].cause.position])
            fixed = [self._child_data(item.rule) for item in items]
            data = self.makers[stream].make(
                rng, len(items), parents=[i.cause.data for i in items], fixed=fixed
            )
            sources = self._sources(items)
            drafts.extend(
                Draft(stream, item.at, d, cause=item.cause, rule=item.rule, correlation_id=source)
                for item, d, source in zip(items, data, sources, strict=True)
            )
        return drafts

    def _followed(self, stream: int, items: list[Pending]) -> list[Pending]:
        """The effects that happen: none while their stream is decoupled from its causes (a
        correlation break, whose own arrivals stand in for them)."""
        decoupled = self.in_force.decoupled(stream, [item.at for item in items])
        return [item for item, off in zip(items, decoupled, strict=True) if not off]

    def _sources(self, items: list[Pending]) -> list[int | None]:
        """What is behind each effect: its cause's scenario run or event, or the backlog that
        held it, or else a change of its rule's rate or of its stream at the time its cause
        was decided (looked up once per rule and stretch of constant effects)."""
        sources: list[int | None] = [
            item.cause.correlation_id or item.release_source for item in items
        ]
        unknown = [i for i, source in enumerate(sources) if not source]
        if not unknown:
            return sources
        moments = np.array([items[i].cause.occurred_at.timestamp() for i in unknown])
        starts = self.in_force.stretch_starts(moments).tolist()
        found: dict[tuple[int, float], int | None] = {}
        rules = self.model.rules
        for i, start in zip(unknown, starts, strict=True):
            index = items[i].rule
            key = (index, start)
            if key not in found:
                rule = rules[index]
                effects = self.in_force.in_stretch(start)
                found[key] = effects.rate_sources.get(rule.rate) or effects.stream_sources.get(
                    rule.target
                )
            sources[i] = found[key]
        return sources

    def _child_data(self, rule_index: int) -> Mapping[str, Any] | None:
        if rule_index not in self._child_data_of:
            rule = self.model.rules[rule_index]
            self._child_data_of[rule_index] = (
                getattr(self.model.catalog.rule(rule.rule_id), "child_data", None) or None
            )
        return self._child_data_of[rule_index]
