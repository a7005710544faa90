"""What each cause did, as the model expects it: the hourly flow's expectation with every
cause acting, against the same flow with that one cause removed, over every stream (so what
travels down chains, cascades, couplings and gauge loads is counted).

One flow per cause would take minutes for a month with a hundred anomalies and events, so
causes share a run where they cannot see each other: a run removes several causes at once
when no two of them can move the same stream in the same hours. A cause reaches the streams
downstream of those it acts on (`MarketModel.reaches`), from its start until `REACH_TAIL`
after its end; two causes whose reaches meet in streams and time get separate runs. Before a
cause starts its counterfactual equals the full run (the flow is causal), so within its reach
the difference is its own. An earlier cause's effect that outlives its reach (the thin tail of
a chain's longest delays) is the only thing another cause's difference can pick up.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from app.domain.calendar import HOUR
from app.domain.causes import Cause, CauseSet
from app.domain.hourly import HourlyRun, simulate

REACH_TAIL = timedelta(days=7)
"""How long after a cause ends its effect is followed: a session is booked up to a week ahead
(the longest common chain delay); what is left after that is well under the window
threshold."""


@dataclass(frozen=True)
class CauseEffect:
    """The expectation of every stream over a cause's reach: with all causes acting
    (`with_all`) and with this cause removed (`without`); hour `first` of the grid onward."""

    cause: Cause
    first: int
    with_all: np.ndarray
    without: np.ndarray

    @property
    def hours(self) -> int:
        return self.with_all.shape[1]


@dataclass(frozen=True)
class Reach:
    first: int
    last: int
    streams: frozenset[int]

    def meets(self, other: Reach) -> bool:
        return (
            self.first < other.last
            and other.first < self.last
            and bool(self.streams & other.streams)
        )


def expectation(causes: CauseSet, plain: HourlyRun) -> HourlyRun:
    """The flow's expectation with every cause acting (`plain`: the flow with none, which
    couplings and loads compare against)."""
    return simulate(
        causes.model, causes.start, causes.hours, expected=plain, conditions=causes.conditions()
    )


def cause_effects(
    causes: CauseSet,
    plain: HourlyRun,
    full: HourlyRun | None = None,
    wanted: Collection[str] | None = None,
) -> Iterator[CauseEffect]:
    """Each acting cause's expectation with and without it, over its reach (only the
    `wanted` causes', when given: the others still act in both)."""
    full = full or expectation(causes, plain)
    for layer in layers(causes, wanted):
        removed = simulate(
            causes.model,
            causes.start,
            causes.hours,
            expected=plain,
            conditions=causes.conditions(without={cause.id for cause, _ in layer}),
        )
        for cause, reach in layer:
            span = slice(reach.first, reach.last)
            with_all = full.values[:, span]
            without = with_all.copy()
            streams = sorted(reach.streams)
            without[streams] = removed.values[streams, span]
            yield CauseEffect(cause, reach.first, with_all, without)


def layers(
    causes: CauseSet, wanted: Collection[str] | None = None
) -> list[list[tuple[Cause, Reach]]]:
    """The acting (and wanted) causes packed into runs, first come first placed: a cause
    joins the first run none of whose members' reach meets its own."""
    packed: list[list[tuple[Cause, Reach]]] = []
    chosen = [c for c in causes.acting if wanted is None or c.id in wanted]
    for cause in sorted(chosen, key=lambda c: (c.start, c.id)):
        reach = reach_of(causes, cause)
        if reach.last <= reach.first:
            continue
        for layer in packed:
            if not any(reach.meets(other) for _, other in layer):
                layer.append((cause, reach))
                break
        else:
            packed.append([(cause, reach)])
    return packed


def reach_of(causes: CauseSet, cause: Cause) -> Reach:
    first = int(np.floor((cause.start - causes.start) / HOUR))
    last = int(np.ceil((cause.end + REACH_TAIL - causes.start) / HOUR))
    streams: frozenset[int] = frozenset()
    for stream in causes.streams_of(cause):
        streams |= causes.model.reaches[stream]
    return Reach(max(first, 0), min(last, causes.hours), streams)
