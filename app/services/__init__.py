"""Where the domain and the store meet: load, decide, append, project.

The web handlers, the CLI and the jobs call these; they hold no business rule themselves.
"""

from app.services.baseline_loader import BaselineCorrupt, BaselineMissing, load_baseline, verify
from app.services.clock import clock_event, clock_of, set_speed
from app.services.simulation import HistoryQuery, Simulation

__all__ = [
    "BaselineCorrupt",
    "BaselineMissing",
    "HistoryQuery",
    "Simulation",
    "clock_event",
    "clock_of",
    "load_baseline",
    "set_speed",
    "verify",
]
