"""Request bodies, validated by pydantic models; a failure becomes a 400 naming the field."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.api.errors import invalid_field, json_body
from app.domain.catalog import EventType, ExpectedImpact, ManualModifierType, Severity

Model = TypeVar("Model", bound=BaseModel)

MAX_BODY_BYTES = 64 * 1024
"""The largest request body the app reads (the biggest real one, a custom event, is ~3 KiB)."""


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class SpeedChange(Body):
    speed: float = Field(
        gt=0,
        le=100_000,
        strict=True,
        allow_inf_nan=False,
        description="simulated seconds per wall second",
    )


class ScenarioActivation(Body):
    scenario_id: str = Field(alias="scenarioId", min_length=1, max_length=100)


class ManualModifierBody(Body):
    stream: str = Field(min_length=1, max_length=100)
    type: ManualModifierType = Field(
        description=(
            "`multiplier`, `additive`, `override`: the stream's level for the duration; "
            "`spike`: a burst of x`value` (at most 1 hour); `trend`: a drift from x1 to "
            "x`value` over the duration (1 hour or more); `missing`: the stream stops (no "
            "events, or a gauge's samples do not arrive; no value); `variance`: a gauge's "
            "noise x`value`; `flatline`: a gauge holds its last sample (no value); "
            "`seasonality`: the day's profile loses `value` of its shape, in (0, 2] (1 a flat "
            "day, 2 turned over; 12 hours or more); `correlation-break`: a stream made by its "
            "causes (model chain) stops following them and arrives at what the calendar "
            "expects of it (no value); faults of delivery, which change what arrives, not "
            "what happened: `late` (every event `value` minutes late), `out-of-order` (each "
            "up to `value` minutes late), `duplicate` (a `value` share delivered twice), "
            "`clock-skew` (stamped `value` minutes off, negative behind)"
        )
    )
    value: float | None = Field(
        default=None,
        allow_inf_nan=False,
        strict=True,
        description=(
            "the multiplier, amount or value (for `seasonality` the share of the day's shape "
            "taken away; minutes for `late`, `out-of-order` and `clock-skew`, a share for "
            "`duplicate`); none for `missing`, `flatline` and `correlation-break`"
        ),
    )
    sigma: float | None = Field(
        default=None,
        allow_inf_nan=False,
        strict=True,
        description=(
            "instead of `value`, for `multiplier`, `spike` and `trend`: the change in the "
            "stream's own standard deviations at its start's hour of the day (the spread the "
            "normalized score measures: one is 20 points); negative for a dip"
        ),
    )
    duration: timedelta = Field(description="ISO-8601, e.g. PT2H")
    start: str | None = Field(
        default=None,
        max_length=64,
        description="when it starts: ISO-8601, now or later (within 30 days); default now",
    )


class EventInjection(Body):
    """From a library template, or custom: then type, title and expectedImpact are needed."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={
            "anyOf": [
                {"required": ["template"]},
                {"required": ["type", "title", "expectedImpact"]},
            ]
        },
    )

    template: str | None = Field(default=None, max_length=100)
    type: EventType | None = None
    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    severity: Severity | None = None
    icon: str | None = Field(default=None, max_length=50)
    timestamp: str | None = Field(default=None, description="ISO-8601; default: now")
    expected_impact: ExpectedImpact | None = Field(
        default=None,
        alias="expectedImpact",
        description="a custom event's, as a library template gives it (delay default PT0S)",
    )
    actual_impact: bool = Field(default=True, alias="actualImpact", strict=True)


MAX_DETECTIONS = 200_000
SCORE_BODY_BYTES = 32 * 1024 * 1024
"""A month of a detector's alarms on every stream fits many times over (about 100 bytes each)."""


class DetectionBody(Body):
    stream: str = Field(min_length=1, max_length=100)
    timestamp: str = Field(
        min_length=1, max_length=40, description="ISO-8601 (no offset means UTC)"
    )
    score: float | None = Field(default=None, allow_inf_nan=False, strict=True)


class ScoreBody(Body):
    detections: list[DetectionBody] = Field(max_length=MAX_DETECTIONS)
    start: str | None = Field(default=None, description="ISO-8601; default: end - 7 days")
    end: str | None = Field(default=None, description="ISO-8601; default: now")
    streams: str | None = Field(
        default=None, description="the streams the detector watched (names or `domain.*`)"
    )
    calendar: Literal["expected", "anomaly"] = Field(
        default="expected", description="whether the academic calendar's windows are targets"
    )
    min_score: float | None = Field(
        default=None,
        alias="minScore",
        allow_inf_nan=False,
        strict=True,
        description="drop weaker detections",
    )


def parse(model: type[Model]) -> Model:
    """The request's JSON body as `model`, or a 400 that names the first wrong field. It is
    read as JSON text, as the config files are: a part of a body that is a config model (a
    custom event's expected impact) is then held to the same rules as in the config."""
    body = json_body()
    try:
        return model.model_validate_json(json.dumps(body))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise invalid_field(where, first["msg"], "see API.md for this endpoint's body") from None
