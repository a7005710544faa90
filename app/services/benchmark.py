"""Laying out the detector benchmark (`app/domain/benchmark.py`) from the simulated now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.domain.benchmark import ANOMALIES, HERRINGS, LENGTH
from app.domain.commands import external_record
from app.domain.simulation_state import ManualModifier
from app.services.scenarios import apply_modifier, inject
from app.services.simulation import Simulation


@dataclass(frozen=True)
class LaidOut:
    start: datetime
    end: datetime
    anomalies: list[ManualModifier]
    herrings: list[dict[str, Any]]
    """The red herrings as `POST /api/events` answers them (scheduled)."""


def lay_out_benchmark(simulation: Simulation) -> LaidOut:
    """Record the benchmark's anomalies (modifiers that start later) and red herrings
    (external events to come, with no real effect), from now over a simulated day."""
    now = simulation.now()
    anomalies = [
        apply_modifier(
            simulation, plan.stream, plan.type, plan.value, plan.duration, now + plan.after
        )
        for plan in ANOMALIES
    ]
    herrings = []
    for plan in HERRINGS:
        at = now + plan.after
        record = external_record(simulation.catalog, plan.template, at, actual=False)
        herrings.append(inject(simulation, record, at, now))
    return LaidOut(now, now + LENGTH, anomalies, herrings)
