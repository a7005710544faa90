"""The detector benchmark: one anomaly of each shape on a stream of its own over a simulated
day, with red herrings between them, laid out from a moment on (`POST /api/simulation/
benchmark`, `marketsim benchmark`). A user points a detector at the feed for the day, then
scores it with `marketsim score`: the report's `byShape` gives a recall per shape, and each
window's detectability says how hard that instance was.

Each anomaly is a manual modifier that starts later, so it is labelled like any other (its own
`mod-` cause, its windows carrying its `kind`); each red herring an external event recorded with
no real effect. The streams are roots, so a multiplier is exactly what they do (a chain stream's
probability can cap it), but for the two that change a gauge's spread, the correlation break
and the faults of delivery; no red herring names one of them while its anomaly acts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

LENGTH = timedelta(days=1)


@dataclass(frozen=True)
class PlannedAnomaly:
    stream: str
    type: str
    value: float | None
    after: timedelta
    """From the benchmark's start to the anomaly's."""
    duration: timedelta


@dataclass(frozen=True)
class PlannedHerring:
    template: str
    after: timedelta


ANOMALIES = (
    PlannedAnomaly("customer.app.opened", "spike", 4.0, timedelta(hours=2), timedelta(minutes=20)),
    PlannedAnomaly(
        "customer.signup.completed", "multiplier", 3.0, timedelta(hours=4), timedelta(hours=6)
    ),
    PlannedAnomaly(
        "tutor.availability.updated", "missing", None, timedelta(hours=11), timedelta(hours=4)
    ),
    PlannedAnomaly("support.chat.started", "trend", 3.0, timedelta(hours=14), timedelta(hours=8)),
    PlannedAnomaly("system.api.latency", "variance", 3.0, timedelta(hours=16), timedelta(hours=3)),
    PlannedAnomaly("system.queue.depth", "flatline", None, timedelta(hours=20), timedelta(hours=2)),
    PlannedAnomaly(
        "tutor.payout.sent", "seasonality", 1.0, timedelta(hours=2), timedelta(hours=20)
    ),
    PlannedAnomaly(
        "session.scheduled", "correlation-break", None, timedelta(hours=17), timedelta(hours=4)
    ),
    PlannedAnomaly("session.cancelled", "late", 30.0, timedelta(hours=12), timedelta(hours=3)),
    PlannedAnomaly(
        "support.csat.submitted", "out-of-order", 20.0, timedelta(hours=13), timedelta(hours=3)
    ),
    PlannedAnomaly(
        "customer.booking.requested", "duplicate", 0.2, timedelta(hours=18), timedelta(hours=3)
    ),
    PlannedAnomaly(
        "customer.tutor.search", "clock-skew", -10.0, timedelta(hours=19), timedelta(hours=3)
    ),
)
"""Each long enough to be `clear` where its stream's volume allows (three hours or more),
but the spike (an hour's burst is at best `visible`, as a detector that judges hours meets
it) and the gauges' variance and flatline (no hour's mean moves: `visible` at best). The
seasonality change flattens payouts' business-hours day for 20 hours of it: the day's
total stays, its hours move. The correlation break decouples scheduled sessions from the
confirmed bookings while the signups' surge still lifts those: where it moves their level,
its windows say by how much. The four faults of delivery (cancellations 30 minutes late,
CSAT answers up to 20 minutes out of order, a fifth of booking requests delivered twice,
searches stamped 10 minutes behind) move nothing that happened: only a detector that reads
the feed itself can meet them, and their labels say so (`visible` at best)."""
HERRINGS = (
    PlannedHerring("weather-event", timedelta(hours=7)),
    PlannedHerring("aws-outage", timedelta(hours=9)),
)
"""Named streams that no anomaly moves while the herring's window lasts: alarms there are
false, and the score's `redHerrings` counts them."""
