"""The live marketplace: events for a simulated interval, one cadence group at a time.

`StreamGenerator` is pure: given the model, the baseline (for normalization and for the
coupling windows that reach into the past), a seed and what the log already holds, it returns
draft events for `[frontier, until)` of one cadence group:

- roots: Poisson arrivals at the hour's expected rate, times drawn in the interval;
- gauges: samples on a fixed grid (the group's interval, each stream staggered by a hash of
  its name), noise drawn from the sample's index;
- caused events that have come due: each appended event is decided once, by its rules, from
  counter-based randomness keyed by its log position (`app/domain/randomness.py`). So the
  pending work after a crash is recomputed from the log and comes out the same.

Work goes in rounds inside one transaction: the caller appends a round's drafts, tells the
generator their positions (`committed`), and the caused events that come due within the
interval make the next round. So every cause is in the log before its effects, every child
names its cause's position, and none is due before its cause.

The parts, one job each, are in `app/domain/generation/`: `state` (what they share),
`restore` (state and work in flight from the log), `in_force` (effects, rates, couplings and
capacities at a moment), `roots`, `gauges`, `decisions` (chains and cascades), `queue` (decided
effects until due) and `values` (values, scores, flags); this module joins them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np

from app.domain.effects import EffectsSource
from app.domain.events import StreamEvent
from app.domain.fields import DataMaker
from app.domain.generation.decisions import RuleDecisions
from app.domain.generation.delivery import Deliveries
from app.domain.generation.gauges import GaugeSamples
from app.domain.generation.in_force import InForce
from app.domain.generation.logged import LoggedEffects
from app.domain.generation.queue import EffectQueue
from app.domain.generation.records import (
    GROUPS,
    RECENT,
    TICK_TYPE,
    CausingEvent,
    Draft,
    LogSnapshot,
    Pending,
)
from app.domain.generation.restore import (
    carry_over,
    cause_windows,
    logged_causes,
    restore_state,
    restored_history,
)
from app.domain.generation.roots import RootArrivals
from app.domain.generation.state import LiveState
from app.domain.generation.timeline import Timeline
from app.domain.generation.values import EventValues
from app.domain.history import BaselineView
from app.domain.model import MarketModel

__all__ = [
    "GROUPS",
    "RECENT",
    "TICK_TYPE",
    "CausingEvent",
    "Draft",
    "LogSnapshot",
    "Pending",
    "StreamGenerator",
    "Timeline",
    "restored_history",
]


class StreamGenerator:
    """The live generator. The causal events of the baseline whose impact runs past its end
    keep acting (as they did in the baseline); `effects` adds what scenarios and injected
    events do."""

    def __init__(
        self,
        model: MarketModel,
        baseline: BaselineView,
        seed: int,
        *,
        effects: EffectsSource | None = None,
    ) -> None:
        self.model = model
        self.baseline = baseline
        self.seed = seed
        self.state = LiveState(model, baseline)
        self.in_force = InForce(model, baseline, self.state)
        self.makers = {
            i: DataMaker(model.catalog.stream(name), model.catalog.population)
            for i, name in enumerate(model.names)
        }
        self.group_of = self.state.group_of
        self.roots = RootArrivals(seed, self.state, self.in_force, self.makers)
        self.gauges = GaugeSamples(model, seed, self.state, self.in_force)
        self.decisions = RuleDecisions(model, seed, self.in_force)
        self.values = EventValues(model, baseline, self.state, self.in_force)
        self.queue = EffectQueue(model, seed, self.state, self.in_force, self.makers)
        self.deliveries = Deliveries(seed, self.state)
        self._roots = {r.stream: r for r in model.roots}
        self._gauges = {g.stream: g for g in model.gauges}
        self._causing = {r.source for r in model.rules}
        """The streams whose events cause others (by a chain or a cascade)."""
        if effects is not None:
            self.set_effects(effects)

    @property
    def pending(self) -> dict[str, list[tuple[float, int, int, Pending]]]:
        """Per cadence group, the effects decided and not yet emitted (a heap)."""
        return self.queue.heaps

    @property
    def epoch(self) -> int:
        return self.state.epoch

    @property
    def frontiers(self) -> dict[str, datetime]:
        """How far each cadence group has generated."""
        return self.state.frontiers

    @property
    def timeline(self) -> Timeline:
        return self.state.timeline

    @property
    def recent(self) -> dict[int, np.ndarray]:
        return self.state.recent

    @property
    def latest_sample(self) -> dict[int, float]:
        return self.state.latest_sample

    # Restoring from the log ---------------------------------------------------------------------

    def restore(self, snapshot: LogSnapshot, start: datetime) -> None:
        """Rebuild every piece of state from what the log holds; `start` is where live
        generation began in this epoch (the baseline's end, or the reset). The snapshot's
        causes are decided a chunk at a time, so a restart after weeks holds only the
        effects still pending, never the fortnight of causes behind them."""
        carried, carried_recent = carry_over(
            self.model, self.baseline, self.seed, self.makers, start
        )
        restore_state(self.state, self.model, self.baseline, snapshot, start, carried_recent)
        self.queue.clear()
        self.deliveries.clear()
        rules = self.model.rules
        self.queue.push_all(
            p for p in carried if p.due >= self.state.frontier_of(rules[p.rule].target)
        )
        logged = LoggedEffects.from_rows(self.model.index, snapshot.emitted)
        for rows in snapshot.causes:
            self.queue.push_all(self.decisions.decide(logged_causes(self.model, rows), logged))

    def cause_windows(self) -> dict[str, timedelta]:
        """For each stream that causes others, how far back a cause can still have an effect
        pending (`app.domain.generation.restore.cause_windows`)."""
        return cause_windows(self.model)

    # Generation ---------------------------------------------------------------------------------

    def first_round(self, group: str, until: datetime) -> list[Draft]:
        """Roots, gauge samples and due caused events of `group` in [frontier, until), after
        the held events that arrive by `until` (`Deliveries`)."""
        start = self.frontiers[group]
        self.timeline.cover(until)
        self.in_force.forget_round()
        drafts: list[Draft] = []
        for stream in self._streams(group):
            if stream in self._roots:
                drafts.extend(self.roots.events(self._roots[stream], start, until))
            elif stream in self._gauges:
                drafts.extend(self.gauges.samples(self._gauges[stream], start, until))
            elif self.in_force.cuts:
                drafts.extend(self.roots.decoupled(stream, start, until))
        drafts.extend(self.queue.due(group, until))
        arrived = self.deliveries.due(group, until)
        return arrived + self._delivered(self.values.finish(drafts))

    def next_round(self, group: str, until: datetime) -> list[Draft]:
        """Caused events of `group` that came due in the interval since the last round."""
        self.in_force.forget_round()
        return self._delivered(self.values.finish(self.queue.due(group, until)))

    def _delivered(self, drafts: list[Draft]) -> list[Draft]:
        """What of a finished round is appended now; what a fault holds back happened now
        all the same (it causes nothing: the API holds back no other stream's events)."""
        now, held = self.deliveries.route(drafts)
        self._record(held, None)
        return now

    def set_effects(self, effects: EffectsSource) -> None:
        """What scenarios, modifiers and logged external events do from now on (on top of the
        baseline's events that still act)."""
        self.in_force.set(effects)
        self.deliveries.set(self.in_force.effects.deliveries())
        self.queue.requeue()
        self.values.explained = None

    def committed(self, drafts: Sequence[Draft], first_position: int) -> None:
        """The drafts are in the log from `first_position` on: record them and decide what
        each of them causes. What arrives apart from when it was made was recorded then (a
        duplicate's copy never: it did not happen); a copy learns its original's position."""
        happened, positions = [], []
        for offset, draft in enumerate(drafts):
            if draft.copy is not None:
                draft.copy.delivery["of"] = first_position + offset
            if not draft.arrives_apart:
                happened.append(draft)
                positions.append(first_position + offset)
        self._record(happened, positions)

    def _record(self, drafts: Sequence[Draft], positions: Sequence[int] | None) -> None:
        """Count events into the timeline (a gauge's samples: their values, and the latest)
        and, given their positions, decide what each of them causes."""
        by_stream: dict[int, list[int]] = defaultdict(list)
        for index, draft in enumerate(drafts):
            by_stream[draft.stream].append(index)
        causes = []
        for stream, indexes in by_stream.items():
            items = [drafts[i] for i in indexes]
            seconds = np.array([d.occurred_at.timestamp() for d in items])
            if self.model.is_entity(stream):
                self.timeline.add_many(stream, seconds, None)
                if positions is not None and stream in self._causing:
                    bodies = self.model.causing_bodies(stream, [d.data for d in items])
                    causes.extend(
                        CausingEvent(positions[i], stream, d.occurred_at, body, d.correlation_id)
                        for i, d, body in zip(indexes, items, bodies, strict=True)
                    )
            else:
                self.timeline.add_many(stream, seconds, np.array([d.value for d in items]))
                self.latest_sample[stream] = float(items[-1].value or 0.0)
        if causes:
            self.queue.push_all(self.decisions.decide(causes))

    def advance(self, group: str, until: datetime) -> None:
        self.frontiers[group] = max(self.frontiers[group], until)

    def to_events(self, drafts: Sequence[Draft]) -> list[StreamEvent]:
        """The drafts as log events."""
        names = self.model.names
        return [
            StreamEvent(
                names[draft.stream],
                draft.occurred_at,
                draft.data,
                draft.value,
                draft.normalized,
                draft.flag,
                draft.cause.position if draft.cause and draft.cause.position else None,
                draft.correlation_id,
                draft.expected,
                draft.expected_flag,
                draft.delivery,
            )
            for draft in drafts
        ]

    def pending_count(self) -> int:
        return self.queue.count()

    def held_count(self) -> int:
        """Events generated and not yet delivered (`late`, `out-of-order`, duplicates' copies)."""
        return self.deliveries.count()

    def _streams(self, group: str) -> list[int]:
        return [s for s in range(self.model.stream_count) if self.group_of[s] == group]
