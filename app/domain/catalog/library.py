"""external-events-library.json: templates of external events and what they do to streams."""

from datetime import timedelta
from typing import Annotated, Literal, get_args

from pydantic import Field

from ._base import ConfigModel, Duration, KebabId, StreamName

EventType = Literal[
    "marketing", "product", "infrastructure", "academic", "competitive", "operational"
]
EVENT_TYPES: tuple[str, ...] = get_args(EventType)
Magnitude = Literal["low", "medium", "high"]
Direction = Literal["increase", "decrease"]
Severity = Literal["info", "warning", "critical"]


class Magnitudes(ConfigModel):
    """The multiplier of each magnitude word; a decrease divides by it."""

    low: float = Field(gt=1, description="Multiplier of a low impact (e.g. 1.15).")
    medium: float = Field(gt=1, description="Multiplier of a medium impact (e.g. 1.4).")
    high: float = Field(gt=1, description="Multiplier of a high impact (e.g. 2.0).")

    def factor(self, magnitude: str, direction: str) -> float:
        """The multiplier for a magnitude word and a direction (`increase` or `decrease`)."""
        value = getattr(self, magnitude)
        return value if direction == "increase" else 1 / value


class StreamImpact(ConfigModel):
    """The expected effect on one stream."""

    stream: StreamName = Field(description="The affected stream.")
    direction: Direction = Field(description="Which way it moves.")
    magnitude: Magnitude = Field(description="How much (see `magnitudes`).")


MAX_IMPACT_STREAMS = 20
"""The most streams one event names."""


class ExpectedImpact(ConfigModel):
    """What the event is expected to do; the overall direction and magnitude are derived. A
    library template's, and a custom event's as `POST /api/events/inject` takes it."""

    streams: tuple[StreamImpact, ...] = Field(
        min_length=1, max_length=MAX_IMPACT_STREAMS, description="Per-stream effects."
    )
    delay: Duration = Field(
        default=timedelta(0), description="Time from the event to the start of the effect."
    )
    duration: Duration = Field(description="How long the effect lasts.")


class ClusterSize(ConfigModel):
    """How many events come together in a cluster."""

    min: int = Field(ge=1, description="Fewest events in a cluster.")
    max: int = Field(ge=1, description="Most events in a cluster.")


class Timing(ConfigModel):
    """When such events occur in the baseline."""

    pattern: Literal["calendar", "clustered", "random", "business-hours"] = Field(
        description=(
            "`calendar`: only in `months`; `clustered`: several within a few days; "
            "`random`: any time; `business-hours`: weekdays 13-21 UTC."
        )
    )
    per_month: float = Field(
        ge=0, description="Expected occurrences in a 30-day baseline (in its months, if any)."
    )
    months: tuple[Annotated[int, Field(ge=1, le=12)], ...] | None = Field(
        default=None, description="Months 1-12 (calendar pattern only)."
    )
    cluster_size: ClusterSize | None = Field(
        default=None, description="Events per cluster (clustered pattern only)."
    )


class EventTemplate(ConfigModel):
    """A template of external event."""

    id: KebabId = Field(description="Identifier, e.g. `stripe-rate-limiting`.")
    type: EventType = Field(description="Category of the event.")
    title: str = Field(min_length=1, description="Headline shown on the dashboard.")
    description: str = Field(min_length=1, description="What happened.")
    severity: Severity = Field(description="How serious it is.")
    icon: str = Field(
        pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", description='Icon name, e.g. "trending-up".'
    )
    expected_impact: ExpectedImpact = Field(description="What it is expected to do.")
    timing: Timing = Field(description="When it occurs in the baseline.")
    causal_probability: float = Field(
        ge=0,
        le=1,
        description=(
            "Probability that an occurrence really moves its streams; the rest are red "
            "herrings, recorded with the same expected impact but no effect."
        ),
    )


class LibraryFile(ConfigModel):
    """external-events-library.json: magnitudes and event templates."""

    schema_: str = Field(alias="$schema", description="Path of this file's JSON Schema.")
    magnitudes: Magnitudes = Field(description="Multiplier of each magnitude word.")
    templates: tuple[EventTemplate, ...] = Field(min_length=1, description="The templates.")
