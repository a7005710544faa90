"""The simulation clock: simulated time as a function of wall time and a speed.

    simulated(wall) = anchor_simulated + (wall - anchor_wall) x speed

A speed change re-anchors the clock at the moment of the change, so simulated time never
jumps. The clock's state is folded from `control.clock` events in the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.domain.timerange import utc


@dataclass(frozen=True)
class SimClock:
    anchor_wall: datetime
    anchor_simulated: datetime
    speed: float = 1.0

    def now(self, wall: datetime) -> datetime:
        """Simulated time at wall time `wall`."""
        return self.anchor_simulated + (utc(wall) - self.anchor_wall) * self.speed

    def with_speed(self, speed: float, wall: datetime) -> SimClock:
        """The clock after changing speed at `wall`: same simulated now, new pace."""
        if speed <= 0:
            raise ValueError("the clock speed must be positive")
        return SimClock(utc(wall), self.now(wall), speed)

    @classmethod
    def real_time(cls, at: datetime) -> SimClock:
        """Simulated time equals wall time."""
        return cls(utc(at), utc(at), 1.0)
