"""Each live event's value and its scores: `value` is an entity stream's count over the
trailing simulated hour, or the sample; `normalized` and `flag` score it against the baseline
slot, `expected` and `expected_flag` against what the calendar and every cause in force lead
one to expect (SIMULATOR.md, Normalization)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from operator import attrgetter

import numpy as np

from app.domain.calendar import HOUR
from app.domain.effects import hour_average
from app.domain.generation.in_force import InForce
from app.domain.generation.records import RECENT, Draft
from app.domain.generation.records import seconds as seconds_of
from app.domain.generation.state import LiveState
from app.domain.history import BaselineView
from app.domain.hourly import Conditions, simulate
from app.domain.model import MarketModel
from app.domain.normalize import expected_flags


class EventValues:
    """Gives a round's drafts their values, scores and flags."""

    def __init__(
        self, model: MarketModel, baseline: BaselineView, state: LiveState, in_force: InForce
    ) -> None:
        self.model = model
        self.baseline = baseline
        self.state = state
        self.in_force = in_force
        self._gauges = {g.stream: g for g in model.gauges}
        self.explained: tuple[datetime, np.ndarray] | None = None
        """The timeline span's hourly expectation with every cause in force, from its origin;
        None when the effects changed since."""

    def finish(self, drafts: list[Draft]) -> list[Draft]:
        """Sort by time, then give each event its value (the stream's events in the trailing
        hour, or the sample) and its score against the baseline slot."""
        drafts.sort(key=attrgetter("occurred_at", "stream"))
        by_stream: dict[int, list[Draft]] = defaultdict(list)
        for draft in drafts:
            by_stream[draft.stream].append(draft)
        for stream, items in by_stream.items():
            seconds = np.array([seconds_of(d.occurred_at) for d in items])
            if self.model.is_entity(stream):
                # two sorted runs: a stable sort merges them in linear time
                merged = np.sort(
                    np.concatenate([self.state.recent[stream], seconds]), kind="stable"
                )
                counts = np.searchsorted(merged, seconds, "right") - np.searchsorted(
                    merged, seconds - 3600, "right"
                )
                keep_from = seconds_of(min(self.state.frontiers.values()) - RECENT)
                self.state.recent[stream] = merged[merged >= keep_from]
                values = counts.astype(float)
                for draft, value in zip(items, values.tolist(), strict=True):
                    draft.value = value
            else:
                values = np.array([d.value for d in items], dtype=float)
            name = self.model.names[stream]
            scores, flags = self.baseline.normalize_seconds(name, seconds, values)
            expected = self._expected_values(stream, seconds)
            unexplained = expected_flags(values, expected, self._noise(stream, expected))
            for draft, score, flag, value, explained in zip(
                items, scores.tolist(), flags, expected.tolist(), unexplained, strict=True
            ):
                draft.normalized = score
                draft.flag = flag
                draft.expected = round(value, 4)
                draft.expected_flag = explained
        return drafts

    def _expected_values(self, stream: int, seconds: np.ndarray) -> np.ndarray:
        """What each value was expected to be given the calendar and every cause in force:
        for an event, its stream's expected count over the trailing hour; for a sample, the
        hour's expected level."""
        origin, explained = self._explanation()
        offset = seconds - origin.timestamp()
        hours = np.clip((offset // 3600).astype(int), 1, explained.shape[1] - 1)
        if not self.model.is_entity(stream):
            return explained[stream, hours]
        through = np.clip(offset / 3600 - (hours - 1) - 1, 0.0, 1.0)
        return explained[stream, hours] * through + explained[stream, hours - 1] * (1 - through)

    def _noise(self, stream: int, expected: np.ndarray) -> np.ndarray:
        gauge = self._gauges.get(stream)
        if gauge is None:
            return np.sqrt(np.maximum(expected, 1.0))
        return gauge.noise * np.abs(expected)

    def _explanation(self) -> tuple[datetime, np.ndarray]:
        """The hourly flow over the timeline's span with every effect in force (the
        baseline's events that still act, scenarios, modifiers, injected events, backlogs):
        computed when the effects change or the span moves."""
        origin = self.state.timeline.origin
        if self.explained is None or self.explained[0] != origin:
            hours = self.state.timeline.hours
            effects = [hour_average(self.in_force.effects, origin + h * HOUR) for h in range(hours)]
            conditions = Conditions(effects=effects, releases=self.in_force.effects.releases())
            run = simulate(
                self.model, origin, hours, expected=self.state.timeline.plain, conditions=conditions
            )
            self.explained = (origin, run.values)
        return self.explained
