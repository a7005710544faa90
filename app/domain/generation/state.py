"""What the live generator's parts share, and a restore from the log rebuilds."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import numpy as np

from app.domain.generation.timeline import Timeline
from app.domain.history import BaselineView
from app.domain.model import MarketModel


def cadence_groups(model: MarketModel) -> list[str]:
    """Each stream's cadence group, by stream index."""
    return [model.catalog.stream(name).cadence for name in model.names]


class LiveState:
    """The epoch, each group's frontier (how far it has generated), the hourly timeline, each
    entity stream's recent event times (sorted seconds) and each gauge's latest sample."""

    def __init__(self, model: MarketModel, baseline: BaselineView) -> None:
        self.group_of = cadence_groups(model)
        self.epoch = 1
        self.frontiers: dict[str, datetime] = {}
        self.timeline = Timeline(model, baseline)
        self.recent: dict[int, np.ndarray] = defaultdict(lambda: np.zeros(0))
        self.latest_sample: dict[int, float] = {}

    def frontier_of(self, stream: int) -> datetime:
        """How far the group of `stream` has generated."""
        return self.frontiers[self.group_of[stream]]
