"""Faults of delivery: what happened is generated as ever and arrives as a real pipeline can
deliver it (a manual modifier of type `late`, `out-of-order`, `duplicate` or `clock-skew`).

The log keeps the truth: a late or out-of-order event is appended once, when it arrives, with
the moment it occurred; a duplicate is a second row that names its original's position; a
skewed event keeps the moment it occurred and records the skew its clock reported. Each such
row says in `delivery` what was done to it, so the feed can show what a pipeline sees and the
ground truth what happened.

Held events wait here, in memory, until they arrive. Only streams whose events cause nothing
can be held (the API refuses the others), so no effect is ever in the log before its cause.
After a restart, a held caused event whose cause is on the log is decided again from it, as
every pending effect is, and arrives when it would have; a held root event or gauge sample,
an effect of the baseline's own events (carried over, with no cause on the log), or a
duplicate's copy is gone: the log never recorded it, so it did not happen (or was delivered
once), and nothing in the log refers to it.
"""

from __future__ import annotations

import heapq
import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from app.domain.effects import DeliveryFault
from app.domain.generation.records import Draft
from app.domain.generation.state import LiveState
from app.domain.randomness import uniforms

COPY_WITHIN = timedelta(minutes=1)
"""A duplicate arrives within this long after its original."""
_STREAM_KEY = 0x0DE1
"""Keys the fault's random draws apart from the generator's others."""


class Deliveries:
    """Routes a round's finished drafts through the faults in force, and keeps what arrives
    later (per cadence group, by arrival) until its group generates past that moment."""

    def __init__(self, seed: int, state: LiveState) -> None:
        self.seed = seed
        self.state = state
        self.faults: dict[int, list[DeliveryFault]] = {}
        self.held: dict[str, list[tuple[datetime, int, Draft]]] = defaultdict(list)
        self._order = itertools.count()

    def set(self, faults: Sequence[DeliveryFault]) -> None:
        by_stream: dict[int, list[DeliveryFault]] = defaultdict(list)
        for fault in faults:
            by_stream[fault.stream].append(fault)
        self.faults = dict(by_stream)

    def clear(self) -> None:
        self.held.clear()

    def count(self) -> int:
        return sum(len(heap) for heap in self.held.values())

    def route(self, drafts: list[Draft]) -> tuple[list[Draft], list[Draft]]:
        """The drafts to append now (those no fault holds back, skewed ones marked), and
        those held back until they arrive; duplicates' copies wait for their arrival too."""
        if not self.faults:
            return drafts, []
        now, held = [], []
        for draft in drafts:
            fault = self._fault_at(draft)
            if fault is None:
                now.append(draft)
            elif fault.fault == "clock-skew":
                draft.delivery = _marked(fault, skewSeconds=round(fault.value * 60, 6))
                now.append(draft)
            elif fault.fault == "duplicate":
                now.append(draft)
                self._maybe_copy(draft, fault)
            else:
                self._hold(draft, fault)
                held.append(draft)
        return now, held

    def due(self, group: str, until: datetime) -> list[Draft]:
        """What arrives before `until` in `group`, in order of arrival."""
        heap = self.held.get(group)
        arrived = []
        while heap and heap[0][0] < until:
            arrived.append(heapq.heappop(heap)[2])
        return arrived

    def _fault_at(self, draft: Draft) -> DeliveryFault | None:
        for fault in self.faults.get(draft.stream, ()):
            if fault.covers(draft.occurred_at):
                return fault
        return None

    def _hold(self, draft: Draft, fault: DeliveryFault) -> None:
        minutes = fault.value
        if fault.fault == "out-of-order":
            minutes *= float(self._uniform(draft, 1))
        delay = timedelta(minutes=minutes)
        draft.delivery = _marked(fault, delaySeconds=round(delay.total_seconds(), 6))
        self._push(draft, draft.occurred_at + delay)

    def _maybe_copy(self, draft: Draft, fault: DeliveryFault) -> None:
        if self._uniform(draft, 2) >= fault.value:
            return
        delay = COPY_WITHIN * float(self._uniform(draft, 3))
        marked = _marked(fault, of=None, delaySeconds=round(delay.total_seconds(), 6))
        copy = replace(draft, copy=None, delivery=marked)
        draft.copy = copy
        self._push(copy, draft.occurred_at + delay)

    def _push(self, draft: Draft, arrives: datetime) -> None:
        group = self.state.group_of[draft.stream]
        heapq.heappush(self.held[group], (arrives, next(self._order), draft))

    def _uniform(self, draft: Draft, draw: int) -> float:
        micros = int(draft.occurred_at.timestamp() * 1_000_000)
        return float(uniforms(self.seed, _STREAM_KEY, draft.stream, micros, draw))


def _marked(fault: DeliveryFault, **detail: float | int | None) -> dict:
    """What the row records: the fault, the modifier's or the run's position, the detail."""
    return {"fault": fault.fault, "run" if fault.by_run else "modifier": fault.source, **detail}
