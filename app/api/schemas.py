"""The shapes the API answers with and the query parameters it reads, as pydantic models.

They are the source of the OpenAPI document (`app/api/openapi.py`): each endpoint names its
models with `@documented`. A test validates real responses against them, so the document
cannot drift from what the handlers send. Field names are snake_case here and camelCase on
the wire.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from app.domain.catalog import (
    CadenceName,
    DeliveryFaultType,
    Direction,
    Domain,
    EventType,
    Magnitude,
    ManualModifierType,
    ModifierKind,
    Severity,
)
from app.domain.causes import CauseKind
from app.domain.timerange import RANGE_PATTERN

Flag = Literal["normal", "warning", "critical"]
Duration = Annotated[str, Field(description="ISO-8601 duration, e.g. PT3H or P1D")]


class Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)


class ErrorDetail(Schema):
    code: str = Field(description="machine-readable, e.g. invalid_parameter")
    message: str = Field(description="what was wrong, naming the parameter or field")
    hint: str = Field(description="what to do instead")
    field: str | None = Field(
        default=None, description="the parameter or body field at fault, as a dotted path"
    )


class Error(Schema):
    """Every error, whatever the endpoint."""

    error: ErrorDetail


class TimeRange(Schema):
    start: datetime
    end: datetime


# Health ---------------------------------------------------------------------------------


class Health(Schema):
    status: Literal["ok"]


class GenerationProgress(Schema):
    catching_up: bool = Field(
        description="a group is further behind now than its cadence explains: after a start, "
        "a downtime or a leader change, generation is bringing every group up to now"
    )
    behind_seconds: float = Field(
        ge=0, description="simulated seconds between now and the group furthest behind"
    )


class Readiness(Schema):
    status: Literal["ready", "not_ready"]
    reason: str
    revision: str | None = Field(description="the database's migration")
    head: str = Field(description="the code's newest migration")
    generation: GenerationProgress | None = Field(None, description="once ready")


# Streams --------------------------------------------------------------------------------


class StreamSummary(Schema):
    name: str
    domain: Literal["customer", "tutor", "session", "support", "marketing", "system"]
    description: str
    shape: Literal["entity", "sample"]
    cadence: Literal["high", "medium", "low"]
    frequency_group: str
    unit: str
    metric: str
    aggregation: Literal["sum", "mean"]
    model: Literal["poisson", "chain", "gauge"]


class StreamList(Schema):
    count: int
    streams: list[StreamSummary]


class StreamRule(Schema):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    rule: str
    kind: Literal["chain", "cascade"]
    from_: str = Field(alias="from")
    to: str
    probability: str = Field(description="the rate that decides how often the rule fires")


class StreamDetail(StreamSummary):
    bounds: dict[str, float]
    fields: dict[str, dict[str, object]] = Field(
        description="the event's data fields and how they are drawn"
    )
    baseline: dict[str, object] = Field(description="the stream's baseline model, from config")
    caused_by: list[StreamRule]
    causes: list[StreamRule]
    expected_per_day: float | None = Field(
        default=None, description="entity streams: weekly-average daily volume"
    )


class StreamFilter(Schema):
    domain: Domain | None = None
    cadence: CadenceName | None = None


# Simulation: clock, history, statistics --------------------------------------------------


class Clock(Schema):
    speed: float = Field(description="simulated seconds per wall second")
    current_simulation_time: datetime
    anchor_wall: datetime
    anchor_simulated: datetime


TIME_PATTERN = (
    r"^([Nn][Oo][Ww]|\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?"
    r"(Z|[+-]\d{2}:\d{2})?)?)$"
)
"""What `parse_time` reads: an ISO-8601 time (`Z`, an offset or none for UTC), a date, `now`."""


def _time(description: str) -> str | None:
    return Field(default=None, pattern=TIME_PATTERN, description=description)


class RangeParams(Schema):
    model_config = ConfigDict(extra="forbid")

    start: str | None = _time("ISO-8601 time, a date, or `now` (default: a span before end)")
    end: str | None = _time("as start (default: now)")
    range: str | None = Field(
        default=None,
        pattern=RANGE_PATTERN,
        description=(
            "instead of start/end (not with them): `today`, `yesterday`, `past 3 days`, "
            "`last week`..."
        ),
    )


class TruthParams(RangeParams):
    streams: str | None = Field(
        default=None, description="comma-separated names or domains (`customer.*`); default all"
    )


class DeliveriesParams(TruthParams):
    after: int = Field(default=0, ge=0, description="the last position of the page before")
    limit: int = Field(default=1000, ge=1, le=10_000, description="deliveries per page")


class HistoryParams(TruthParams):
    resolution: Literal["1h", "12h"] = "1h"


class StreamsParam(Schema):
    model_config = ConfigDict(extra="forbid")

    streams: str | None = Field(
        default=None, description="comma-separated names or domains (`customer.*`); default all"
    )


class Point(Schema):
    timestamp: datetime
    value: float
    normalized: float | None = Field(
        ge=0, le=100, description="50 = expected; 30/70 = one sd; null early in a running point"
    )
    flag: Flag | None
    partial: bool | None = Field(default=None, description="true on the point still running")


class Coverage(Schema):
    baseline: TimeRange
    restored: TimeRange | None = Field(description="after a reset: hours rebuilt from baseline")
    live: TimeRange


class ImpactDetail(Schema):
    stream: str
    direction: Direction
    magnitude: Magnitude
    factor: float = Field(description="the multiplier the event puts on the stream")


class ExpectedImpactView(Schema):
    """An event's expected impact as the API gives it: its overall direction and magnitude,
    derived from each stream's (`details`, with the factor each puts on its stream)."""

    streams: list[str]
    direction: Literal["increase", "decrease", "mixed"]
    magnitude: Magnitude
    duration: Duration
    delay: Duration
    details: list[ImpactDetail]


class MeasuredEffect(Schema):
    effect: float = Field(description="relative change against the expectation without it")
    z_score: float
    hours: int
    confounded: bool


class EventSource(Schema):
    kind: Literal["baseline", "api", "scenario"]
    scenario_id: str | None = None
    run_id: int | None = None


class ExternalEvent(Schema):
    id: str = Field(description="bevt-NNN (baseline) or evt-<log position>")
    timestamp: datetime
    type: EventType
    template: str | None
    title: str
    description: str
    severity: Severity
    icon: str
    expected_impact: ExpectedImpactView
    impact_window: TimeRange
    actual_impact: bool = Field(description="ground truth: false for a red herring")
    measured_effect: dict[str, MeasuredEffect] | None = None
    injected_by_ai: bool = Field(alias="injectedByAI")
    source: EventSource
    scheduled: bool | None = Field(default=None, description="recorded when its time comes")
    retroactive: bool | None = Field(default=None, description="in the past: history changed")


class History(Schema):
    time_range: TimeRange
    resolution: Literal["1h", "12h"]
    simulated_now: datetime
    epoch: int
    historical_mode: Literal["baseline", "modified"]
    coverage: Coverage
    streams: dict[str, list[Point]]
    events: list[ExternalEvent]


class DiffPoint(Schema):
    timestamp: datetime
    baseline: float
    modified: float
    delta: float


class Diff(Schema):
    time_range: TimeRange
    historical_mode: Literal["baseline", "modified"]
    causes: list[str] = Field(description="the retroactive events behind the changes")
    streams: dict[str, list[DiffPoint]]


class Trend(Schema):
    direction: Literal["growing", "declining", "flat"]
    slope_per_day: float
    percent_per_month: float


class ComputedOver(Schema):
    start: datetime
    end: datetime
    hours: int
    trend_against: str = Field(description="what `trend` was measured against")


class Seasonality(Schema):
    daily: float
    weekly: float
    found: str


class Patterns(Schema):
    weekday_avg: float
    weekend_avg: float
    weekend_uplift: float
    hour_of_day: list[float]
    hour_of_week: list[float] | None = Field(
        None, description="168 means, Monday 00:00 UTC first (baselines from generator 2 on)"
    )
    trend: Trend = Field(
        description="growth: the data against the expectation of the week, the calendar "
        "and the labelled causes (see computedOver.trendAgainst)"
    )
    raw_trend: Trend | None = Field(
        None, description="a straight line through the daily means (generator 2 on)"
    )
    seasonality: Seasonality


class SlotBlock(Schema):
    expected: list[float]
    spread: list[float]


class DayTypeSlots(Schema):
    weekday: SlotBlock
    weekend: SlotBlock


class Slots(Schema):
    hourly: DayTypeSlots
    twelve_hour: DayTypeSlots


class StreamStatistics(Schema):
    name: str
    mean: float
    median: float
    std_dev: float
    min: float
    max: float
    percentiles: dict[str, float]
    computed_over: ComputedOver | None = Field(None, description="generator 2 on")
    patterns: Patterns
    slots: Slots


class BaselineStatistics(Schema):
    calculated_from: str = Field(description="start/end, ISO-8601 interval")
    generator_version: str
    streams: dict[str, StreamStatistics]


# Scenarios and modifiers ------------------------------------------------------------------


class Settling(Schema):
    curve: str
    duration: Duration


class ScenarioShape(Schema):
    """A shaped anomaly the scenario makes while it is active."""

    stream: str
    type: str = Field(description="spike, trend, missing, variance, flatline, ...")
    value: float | None = Field(description="as the manual modifier of its type takes it")
    after: Duration = Field(description="from the activation")
    duration: Duration | None = Field(description="null: until the scenario starts settling")


class ScenarioFault(Schema):
    """A fault of delivery the scenario makes while it is active."""

    stream: str
    type: str = Field(description="late, out-of-order, duplicate or clock-skew")
    value: float = Field(description="minutes, or the share for duplicate")


class ScenarioSummary(Schema):
    id: str
    name: str
    description: str
    duration: Duration
    settling: Settling
    events: list[str] = Field(description="the library templates it records")
    shapes: list[ScenarioShape] = Field(description="its shaped anomalies, each labelled")
    deliveries: list[ScenarioFault] = Field(description="its faults of delivery")


class ScenarioList(Schema):
    scenarios: list[ScenarioSummary]
    skipped: list[str] = Field(description="config problems of scenarios left out")


class CascadeEffect(Schema):
    after: Duration
    target: str
    type: str
    value: float


class ScenarioRun(Schema):
    """A scenario run in the ScenarioModifier shape."""

    id: str = Field(description="run-<log position>")
    run_id: int
    type: Literal["scenario"]
    scenario_id: str
    name: str
    description: str
    start_time: datetime
    ends_at: datetime
    duration: Duration
    status: Literal["active", "settling", "settled"]
    strength: float = Field(description="the share of its change in force, 0-1")
    time_remaining: float | None = Field(description="seconds until the end, or until settled")
    settling_until: datetime | None
    settlement_duration: Duration
    affected_streams: list[str]
    cascade_effects: list[CascadeEffect]
    related_events: list[str]


class ModifierView(Schema):
    """A manual stream modifier: in force, or just ended early."""

    id: str = Field(description="mod-<log position>")
    type: ManualModifierType
    kind: ModifierKind = Field(
        description="what a detector meets: the kind its ground-truth windows carry"
    )
    stream: str
    value: float | None = Field(description="None for `missing` and `flatline`")
    sigma: float | None = Field(
        description="the change as given in the stream's standard deviations (`value` the "
        "multiplier worked out from it); None when given as a value"
    )
    start_time: datetime
    ends_at: datetime = Field(description="its planned end, or when it was ended early")
    status: Literal["active", "scheduled", "ended"]
    time_remaining: float


class Activated(Schema):
    success: bool
    scenario: ScenarioRun
    events: list[ExternalEvent]
    estimated_duration: Duration = Field(description="until settled")
    settled_by: datetime


class Stopped(Schema):
    success: bool
    run_id: int
    settling_until: datetime


class ResetDone(Schema):
    success: bool
    epoch: int
    message: str


class ModifierAnswer(Schema):
    """The answer to applying a modifier or ending one."""

    success: bool
    modifier: ModifierView


class BenchmarkLaidOut(Schema):
    """The detector benchmark, recorded: its anomalies and red herrings over a simulated day."""

    success: bool
    start: datetime
    end: datetime
    anomalies: list[ModifierView] = Field(description="one of each shape, each scheduled")
    red_herrings: list[ExternalEvent] = Field(description="recorded with no real effect")


class Anomaly(Schema):
    position: int
    stream: str
    occurred_at: datetime
    value: float
    normalized: float
    flag: Flag
    expected: float | None = Field(
        None, description="the value expected given the calendar and every cause in force"
    )
    expected_flag: Flag | None = Field(None, description="the value against `expected`")


class RetentionSettings(Schema):
    max_age_seconds: float | None = Field(
        description="stream events recorded longer ago are dropped (LOG_RETENTION; null: off)"
    )
    max_bytes: int | None = Field(description="the log's size budget (LOG_MAX_BYTES; null: none)")


class OldestStreamEvent(Schema):
    position: int
    occurred_at: datetime
    recorded_at: datetime


class LogSize(Schema):
    bytes: int = Field(ge=0, description="the event log's size on disk, indexes included")
    rows: int = Field(ge=0, description="rows, as Postgres's statistics count them (may lag)")
    retained_from: int = Field(
        ge=1,
        description="every stream event from this position on is in the log; older ones have "
        "been dropped by retention (scenario, external and control events are all kept)",
    )
    oldest_stream_event: OldestStreamEvent | None
    retention: RetentionSettings


class State(Schema):
    current_simulation_time: datetime
    speed: float
    epoch: int
    status: Literal["Running", "Settling", "Baseline"]
    baseline_state: Literal["normal", "custom"]
    active_scenario: ScenarioRun | None = None
    active_modifiers: list[ScenarioRun | ModifierView] | None = None
    active_events: list[ExternalEvent] | None = None
    recent_anomalies: list[Anomaly] | None = None
    historical_mode: Literal["baseline", "modified"]
    baseline: TimeRange | None
    live_since: datetime | None = None
    generation: GenerationProgress | None = None
    log: LogSize | None = None


# External events and ground truth ----------------------------------------------------------


class TemplateParams(Schema):
    model_config = ConfigDict(extra="forbid")

    type: EventType | None = Field(default=None, description="only the templates of this category")


class EventTemplate(Schema):
    template: str = Field(description="the id that POST /api/events takes as `template`")
    type: EventType
    title: str
    description: str
    severity: Severity
    icon: str
    expected_impact: ExpectedImpactView
    causal_probability: float = Field(
        ge=0, le=1, description="share of the baseline's occurrences that really move streams"
    )


class TemplateList(Schema):
    count: int
    templates: list[EventTemplate]


class EventList(Schema):
    time_range: TimeRange
    count: int
    events: list[ExternalEvent]


class Injected(Schema):
    success: bool
    event: ExternalEvent


class MeasuredStreamImpact(Schema):
    stream: str
    named: bool = Field(description="the event names this stream")
    expected_direction: Direction | None
    effect: float
    z_score: float
    score: float = Field(ge=0, le=1, description="0 within two standard errors, 1 at ten")
    hours: int


class Impact(Schema):
    event: ExternalEvent
    window: TimeRange
    actual_impact: bool
    streams: list[MeasuredStreamImpact]


class ExternalCause(Schema):
    kind: Literal["external"]
    id: str
    title: str
    timestamp: datetime
    window: TimeRange
    causal: bool
    measured_effect: MeasuredEffect | None
    scenario_id: str | None = Field(None, description="for an event a scenario recorded")
    run_id: int | None = Field(None, description="its run: the `scenario` cause run-<runId>")


class ScenarioCause(Schema):
    kind: Literal["scenario"]
    id: str
    scenario_id: str
    start: datetime
    causal: bool


class ModifierCause(Schema):
    kind: Literal["modifier"]
    id: str
    start: datetime
    end: datetime
    causal: bool


class CorrelatedSource(Schema):
    position: int
    kind: str
    type: str
    title: str | None
    events: int = Field(description="how many of the stream's events carry its correlation id")
    first_at: datetime
    last_at: datetime


class Causes(Schema):
    stream: str
    causes: list[
        Annotated[ExternalCause | ScenarioCause | ModifierCause, Field(discriminator="kind")]
    ]
    correlated_events: list[CorrelatedSource]


class WindowSource(Schema):
    kind: CauseKind
    id: str
    title: str | None = None
    template: str | None = Field(None, description="an external event's template")
    scenario_id: str | None = None
    run_id: int | None = Field(None, description="for an event a scenario recorded: its run")
    period: str | None = Field(None, description="a calendar period's id")
    period_kind: str | None = None
    multipliers: dict[str, float] | None = Field(
        None, description="a calendar period's multiplier per profile"
    )
    type: ManualModifierType | None = Field(None, description="a manual modifier's type")
    value: float | None = Field(None, description="a manual modifier's value (not `missing`)")
    duration_seconds: float | None = Field(None, description="a manual modifier's planned length")
    sigma: float | None = Field(
        None, description="a manual modifier's change as given in standard deviations"
    )


class ExpectedChange(Schema):
    ratio: float = Field(description="with the cause over without it, across the window")
    peak_ratio: float = Field(description="the same at the window's strongest hour")
    absolute: float = Field(description="events added (negative: removed); a gauge's mean change")
    spread_ratio: float | None = Field(
        None, description="a variance or flatline modifier's noise ratio (0: a flatline)"
    )
    sample_share: float | None = Field(
        None, description="a gap in a gauge (missing): the share of its samples that arrive (0)"
    )
    delay_seconds: float | None = Field(None, description="a late delivery's delay")
    max_delay_seconds: float | None = Field(
        None, description="an out-of-order delivery's longest delay"
    )
    duplicate_share: float | None = Field(
        None, description="the share of the stream's events delivered twice"
    )
    skew_seconds: float | None = Field(
        None, description="a skewed clock's offset (negative: behind)"
    )


class ObservedChange(Schema):
    ratio: float = Field(description="the data over the expectation without the cause")
    sigma: float = Field(description="the data's departure from it, in noise units")
    hours: int = Field(description="complete hours of data the figures cover")


class TruthWindow(Schema):
    id: str = Field(description="cause id, stream and number: stable for a log and baseline")
    stream: str
    start: datetime
    end: datetime
    label: CauseKind
    causal: bool = Field(description="false for a red herring's windows (nothing changed)")
    source: WindowSource
    named: bool = Field(description="the cause names (or targets) this stream itself")
    phase: Literal["active", "settling", "settled"] | None = Field(
        None, description="a scenario run's phase when the window starts"
    )
    kind: ModifierKind | None = Field(
        None,
        description=(
            "what a detector meets: a manual modifier's or a scenario shape's kind, or a fault "
            "of delivery"
        ),
    )
    ongoing: bool | None = Field(
        None, description="true when the window runs to the range's end (or now): it may go on"
    )
    decoupled_from: list[str] | None = Field(
        None, description="a correlation break's: the streams its stream stopped following"
    )
    lag_seconds: float
    expected_direction: Direction | None
    effect_size: float = Field(description="expected.ratio - 1")
    expected: ExpectedChange
    sigma: float = Field(description="expected change over the window in Poisson/gauge noise")
    peak_sigma: float
    slot_sigma: float = Field(description="peak change in deviations of the stream's slot")
    slot_hours: int = Field(ge=0, description="hours moved by clearSlotSigma slot deviations")
    detectability: Literal["clear", "visible", "subtle", "none"]
    observed: ObservedChange | None
    confounded: bool | None = Field(
        None, description="a red herring overlapping a causal window on the same stream"
    )
    confounded_by: list[str] | None = None


class TruthCause(Schema):
    id: str
    kind: CauseKind
    title: str | None
    causal: bool
    occurred_at: datetime
    start: datetime
    end: datetime
    named: list[str]
    source: WindowSource
    windows: int
    clear_windows: int
    visible_windows: int
    streams: list[str]


class TruthMethod(Schema):
    threshold: float = Field(description="the relative change of the expectation that labels")
    clear_sigma: float
    clear_slot_sigma: float
    clear_hours: int
    description: str


Spans = dict[str, list[tuple[datetime, datetime]]]


class GroundTruth(Schema):
    time_range: TimeRange
    method: TruthMethod
    causes: list[TruthCause]
    windows: list[TruthWindow]
    causal_windows: Spans = Field(description="NAB combined_windows: the causal, not calendar")
    calendar_windows: Spans


class Delivery(Schema):
    position: int = Field(description="the row as delivered: a late event's later position")
    stream: str
    fault: DeliveryFaultType
    source_id: str | None = Field(
        description="mod-<position> or run-<position>: the modifier or scenario run behind it"
    )
    occurred_at: datetime = Field(description="when the event really occurred")
    arrived_at: datetime = Field(description="simulated moment it was delivered")
    stamped_at: datetime = Field(description="the time its stamp said (a skewed clock's)")
    duplicate_of: int | None = Field(description="a duplicate: its original's position")
    delay_seconds: float | None = Field(description="how long after it occurred it arrived")
    skew_seconds: float | None = Field(description="how far its clock was off")


class Deliveries(Schema):
    time_range: TimeRange
    deliveries: list[Delivery]
    next_after: int | None = Field(description="pass as `after` for the next page; null: done")


class Tally(Schema):
    count: int
    detected: int
    recall: float | None


class KindTally(Tally):
    clear: Tally


class ShapeTally(Tally):
    clear: Tally
    visible: Tally
    subtle: Tally


class WindowRecall(Tally):
    clear: Tally
    visible: Tally
    subtle: Tally
    by_kind: dict[str, KindTally] = Field(description="per kind of cause")
    by_shape: dict[ModifierKind, ShapeTally] = Field(
        description="per anomaly shape of the manual modifiers' windows"
    )


class CauseCount(Schema):
    count: int
    detected: int


class CauseRecall(Tally):
    with_clear_windows: Tally
    by_kind: dict[str, CauseCount]


class DetectionCounts(Schema):
    total: int
    scored: int
    ignored: int = Field(description="outside the range or on streams not scored")
    in_causal_windows: int
    false_alarms: int


class StreamAlarms(Schema):
    alarms: int
    hours: float = Field(description="hours of the range outside every target window")
    rate: float | None


class FalseAlarms(Schema):
    total: int
    rate: float | None
    max_stream_rate: float | None
    by_stream: dict[str, StreamAlarms]


class HerringReport(Schema):
    windows: int
    unconfounded: int
    flagged: int
    flagged_share: float | None
    base_rate: float | None = Field(
        description="the share a detector alarming at its background rate would flag"
    )
    ratio_to_base: float | None


class NabScore(Schema):
    profile: Literal["standard"]
    windows: int
    raw: float
    score: float | None = Field(description="0 = no detections, 100 = every window at its start")


class ScoreReport(Schema):
    time_range: TimeRange
    calendar: Literal["expected", "anomaly"]
    streams: int
    detections: DetectionCounts
    precision: float | None
    windows: WindowRecall
    causes: CauseRecall
    false_alarms: FalseAlarms
    red_herrings: HerringReport
    nab: NabScore
    missed_clear: list[str]
