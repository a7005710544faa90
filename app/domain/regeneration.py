"""History changed by the past: external events recorded with an impact that starts before
live generation began (retroactive events) bend the hours already served, baseline and
restored alike. The stored baseline is never rewritten: history multiplies its values on the
way out by the ratio computed here, the flow's expectation with those events against without.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from app.domain.calendar import HOUR
from app.domain.hourly import Conditions, HourlyRun, simulate
from app.domain.model import MarketModel
from app.domain.simulation_state import ExternalRecord, SimulationState
from app.domain.state_effects import StateEffects
from app.domain.timerange import from_iso


@dataclass(frozen=True)
class Regenerated:
    """Hourly multipliers that the log's retroactive events put on the past, by model row."""

    start: datetime
    ratio: np.ndarray
    event_ids: tuple[str, ...]

    def factors(self, row: int, first: datetime, hours: int) -> np.ndarray:
        """The multipliers of `hours` hours of one row from `first` (1 outside the span)."""
        offset = int((first - self.start) / HOUR)
        window = np.ones(hours)
        lo, hi = max(offset, 0), min(offset + hours, self.ratio.shape[1])
        if hi > lo:
            window[lo - offset : hi - offset] = self.ratio[row, lo:hi]
        return window


def retroactive(state: SimulationState, live_from: datetime) -> tuple[ExternalRecord, ...]:
    """The logged external events that act and whose impact starts before live generation
    began (`live_from`): the ones that change history."""
    return tuple(
        record
        for record in state.externals
        if record.data.get("actualImpact")
        and from_iso(record.data["impactWindow"]["start"]) < live_from
    )


def regenerate(
    model: MarketModel,
    records: Sequence[ExternalRecord],
    start: datetime,
    live_from: datetime,
    plain: HourlyRun,
) -> Regenerated:
    """The ratio of the flow with `records` acting to the flow without (`plain`, from
    `start`), for every hour from `start` up to `live_from`."""
    hours = int((live_from - start) / HOUR)
    effects = StateEffects(SimulationState(externals=tuple(records)), model)
    per_hour = [effects.at(start + (h + 0.5) * HOUR) for h in range(hours)]
    if plain.values.shape[1] != hours:  # after a reset: a longer span than the baseline's
        plain = simulate(model, start, hours)
    bent = simulate(
        model,
        start,
        hours,
        expected=plain,
        conditions=Conditions(effects=per_hour),
        preliminary=plain,
    )
    ratio = np.divide(
        bent.values, plain.values, out=np.ones_like(plain.values), where=plain.values > 1e-9
    )
    return Regenerated(start, ratio, tuple(record.id for record in records))
