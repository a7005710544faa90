"""How a scenario run fades: its strength along the settling curve, and when it is within
5% of the baseline (settled)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from app.domain.catalog import Modifier, Scenario
from app.domain.model import MarketModel
from app.domain.simulation_state import Run

SETTLED_WITHIN = 0.05
"""A run is settled once each change it makes is within 5% of the baseline."""


def weight(scenario: Scenario, run: Run, moment: datetime) -> float:
    """How much of the scenario's change is in force at `moment` (1 while active)."""
    if moment < run.activated_at:
        return 0.0
    if moment < run.settles_from:
        return 1.0
    settling = scenario.settling
    elapsed = (moment - run.settles_from).total_seconds()
    if settling.curve == "immediate":
        return 0.0
    if settling.curve == "linear":
        span = max(settling.duration.total_seconds(), 1.0)
        return max(0.0, 1.0 - elapsed / span)
    half_life = (settling.half_life or settling.duration / 4).total_seconds()
    return 0.5 ** (elapsed / max(half_life, 1.0))


def settle_time(scenario: Scenario, model: MarketModel, start: datetime) -> datetime:
    """When a run that starts settling at `start` is within 5% of baseline everywhere: the
    largest change it makes decides (with a backlog spike, not before the spike is over)."""
    settling = scenario.settling
    worst = max((deviation(m, model) for m in scenario_modifiers(scenario)), default=0.0)
    if settling.curve == "immediate":
        after = settling.backlog.duration if settling.backlog else timedelta(0)
        return start + after
    if worst <= SETTLED_WITHIN:
        return start
    needed = SETTLED_WITHIN / worst
    if settling.curve == "linear":
        return start + settling.duration * (1 - needed)
    half_life = settling.half_life or settling.duration / 4
    return start + half_life * math.log2(1 / needed)


def deviation(modifier: Modifier, model: MarketModel) -> float:
    """How far (relative) a modifier moves its target from the baseline at full strength."""
    base = _base_of(modifier, model)
    if modifier.type == "multiplier":
        return abs(modifier.value - 1)
    if modifier.type in ("additive", "probabilityShift"):
        return abs(modifier.value) / base if base else abs(modifier.value)
    return abs(modifier.value - base) / base if base else abs(modifier.value)


def _base_of(modifier: Modifier, model: MarketModel) -> float:
    target = modifier.target
    if target.rate is not None:
        return model.rates[target.rate]
    baseline = model.catalog.baseline(target.stream)
    if baseline.model == "poisson":
        return baseline.rate_per_hour * model.catalog.profile(baseline.profile).weekly_mean
    if baseline.model == "gauge":
        return baseline.base
    return 1.0


def scenario_modifiers(scenario: Scenario) -> list[Modifier]:
    return [*scenario.modifiers, *scenario.cascade_rules]
