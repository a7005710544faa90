"""scenario-definitions.json: pre-defined scenarios that bend the streams and then settle."""

from collections.abc import Sequence
from datetime import timedelta
from typing import Literal, get_args

from pydantic import Field

from ._base import ConfigModel, Duration, KebabId, SignedDuration, StreamName
from .relationships import Target

ModifierType = Literal["multiplier", "additive", "override", "probabilityShift"]
ShapedModifierType = Literal[
    "spike", "trend", "missing", "variance", "flatline", "seasonality", "correlation-break"
]  # fmt: skip
"""The shaped anomalies: `spike` (a short burst of x`value`), `trend` (a drift from x1 to
x`value` over the duration), `missing` (the stream stops: no events), `variance` (a gauge's
noise x`value`, its level unchanged), `flatline` (a gauge stuck at its last sample),
`seasonality` (the day's profile flattened by `value`: 1 flat, 2 turned over; its daily total
kept), `correlation-break` (a stream made by its causes stops following them: it arrives at
what the calendar expects of it, whatever its causes do)."""
DeliveryFaultType = Literal["late", "out-of-order", "duplicate", "clock-skew"]
"""The faults of delivery: what happened is generated as ever, and arrives the way a real
pipeline can deliver it. `late` (every event arrives `value` minutes after it occurred),
`out-of-order` (each event arrives a random 0 to `value` minutes after it occurred),
`duplicate` (a `value` share of the events arrive twice, the copy within a minute), and
`clock-skew` (the stream's clock runs `value` minutes ahead, behind if negative: its events
say they occurred then)."""
ManualModifierType = Literal[
    "multiplier", "additive", "override", ShapedModifierType, DeliveryFaultType
]
"""What a manual modifier can be: it changes a stream, not a named rate. The first three set
the stream's level for the duration (a level shift); then the shapes (`ShapedModifierType`)
and the faults of delivery (`DeliveryFaultType`)."""
SHAPED_MODIFIERS: tuple[str, ...] = get_args(ShapedModifierType)
DELIVERY_FAULTS: tuple[str, ...] = get_args(DeliveryFaultType)
DELAYING_FAULTS = ("late", "out-of-order")
"""The faults that hold an event back: only on streams whose events cause nothing, so no
effect is in the log before its cause."""
SPREAD_MODIFIERS = ("variance", "flatline")
"""The shapes that leave a stream's expectation alone and change its spread (gauges only)."""
VALUELESS_MODIFIERS = ("missing", "flatline", "correlation-break")
"""The types that take no value."""
MULTIPLYING_MODIFIERS = ("multiplier", "spike", "trend", "missing")
"""The types that multiply a stream's rate: with a correlation break and the faults of
delivery, the only ones a stream made by its causes (model `chain`) takes."""
SPIKE_LONGEST = timedelta(hours=1)
TREND_SHORTEST = timedelta(hours=1)
SEASONALITY_SHORTEST = timedelta(hours=12)
"""Less moves too few of the day's hours to change its shape."""
ModifierKind = Literal["level-shift", ShapedModifierType, DeliveryFaultType]
"""What a detector meets in a manual modifier's ground-truth windows: a shaped modifier's or a
fault's own type, or a `level-shift` for the others."""


class Modifier(ConfigModel):
    """A change to one target while the scenario is active."""

    target: Target = Field(description="The stream rate/value or the named rate to change.")
    type: ModifierType = Field(
        description=(
            "`multiplier` (value > 0), `additive` (events/h or units added), `override` "
            "(replaces the value or probability), `probabilityShift` (adds a delta to a "
            "probability; the other outcomes of an exclusive chain are rescaled)."
        )
    )
    value: float = Field(description="The multiplier, amount, replacement or delta.")
    ramp: Duration | None = Field(
        default=None,
        description=(
            "The change grows in a straight line from nothing when the modifier starts acting "
            "to its full value after this long (a trend); none: in full at once (a level "
            "shift). It stops growing when the scenario starts settling."
        ),
    )
    precedence: int | None = Field(
        default=None,
        description=(
            "When several modifiers hit one target, the highest precedence wins; without "
            "precedence they combine (multipliers multiply)."
        ),
    )
    description: str | None = Field(default=None, description="Why the target changes.")


class ScenarioCascade(Modifier):
    """A delayed secondary modifier: `after` the activation, another target changes."""

    after: Duration = Field(description="Delay after the scenario's activation.")


class InjectedEvent(ConfigModel):
    """An external event the scenario injects, from a library template."""

    template: KebabId = Field(description="Id of a template in external-events-library.json.")
    offset: SignedDuration = Field(
        description="When, relative to activation; negative places it in the past."
    )
    title: str | None = Field(default=None, description="Overrides the template's title.")
    description: str | None = Field(
        default=None, description="Overrides the template's description."
    )
    apply_impact: bool = Field(
        default=False,
        description=(
            "Also apply the template's expected impact; by default the scenario's modifiers "
            "carry the effect and the event is its recorded cause."
        ),
    )


class Backlog(ConfigModel):
    """Work held back during the scenario, processed as a spike right after it stops."""

    streams: tuple[StreamName, ...] = Field(min_length=1, description="The streams that spike.")
    multiplier: float = Field(gt=0, description="Volume multiplier during the backlog.")
    duration: Duration = Field(description="How long the backlog spike lasts.")
    description: str = Field(min_length=1, description="What is being caught up.")


class Settling(ConfigModel):
    """How the streams return to baseline after the scenario stops."""

    curve: Literal["linear", "immediate", "exponential"] = Field(
        description=(
            "`linear`: modifiers fade in a straight line over `duration`; `immediate`: they "
            "end at once (optionally followed by a backlog spike); `exponential`: their "
            "excess halves every `halfLife`."
        )
    )
    duration: Duration = Field(description="Length of the settling phase.")
    half_life: Duration | None = Field(
        default=None, description="Half-life of the excess (exponential only)."
    )
    backlog: Backlog | None = Field(default=None, description="Backlog spike (immediate only).")


class DeliveryFaultSpec(ConfigModel):
    """A fault of delivery on one stream while the scenario is active (`DeliveryFaultType`):
    what happens is unchanged, how it arrives is not."""

    stream: StreamName = Field(description="The stream whose events arrive faulty.")
    type: DeliveryFaultType = Field(
        description=(
            "`late` (every event `value` minutes late), `out-of-order` (each up to `value` "
            "minutes late), `duplicate` (a `value` share delivered twice), `clock-skew` "
            "(stamped `value` minutes off; negative: behind). `late` and `out-of-order` only "
            "on streams whose events cause nothing."
        )
    )
    value: float = Field(description="Minutes, or the share for `duplicate`.")
    description: str | None = Field(default=None, description="Why it happens.")


LONGEST_FAULT_MINUTES = 24 * 60
"""The most a fault delays an event, or a clock is skewed by."""


def fault_value_problem(fault: str, value: float) -> str | None:
    """What is wrong with a fault of delivery's value, or None."""
    if fault == "duplicate":
        if 0 < value <= 1:
            return None
        return "a duplicate's value is the share of events delivered twice, in (0, 1]"
    if fault == "clock-skew":
        if value != 0 and abs(value) <= LONGEST_FAULT_MINUTES:
            return None
        return (
            "a clock skew's value is its offset in minutes, non-zero and at most 1440 either "
            "way (negative: the clock is behind)"
        )
    if 0 < value <= LONGEST_FAULT_MINUTES:
        return None
    if fault == "late":
        return "a late delivery's value is its delay in minutes, in (0, 1440]"
    return "an out-of-order delivery's value is its longest delay in minutes, in (0, 1440]"


def fault_stream_problem(fault: str, stream: str, effects: Sequence[str]) -> str | None:
    """Why a fault cannot act on `stream`, whose events cause `effects`' events, or None: a
    held-back event would arrive after what it caused."""
    if fault not in DELAYING_FAULTS or not effects:
        return None
    return (
        f"'{stream}' causes other streams' events ({', '.join(sorted(effects)[:3])}): held "
        "back, its events would arrive after what they caused"
    )


def shape_stream_problem(
    shape: str, stream: str, model: str, rises_and_falls: bool
) -> tuple[str, str] | None:
    """Why a modifier of type `shape` cannot act on `stream` (its baseline `model`: poisson,
    chain or gauge; `rises_and_falls`: its day has a shape to change), as (the field at fault,
    the reason), or None."""
    if shape == "correlation-break" and model != "chain":
        return "type", (
            f"'{stream}' is not made by other streams' events ({model}): it follows no cause, "
            "so there is no correlation to break"
        )
    if model == "chain" and shape not in (
        *MULTIPLYING_MODIFIERS, "correlation-break", *DELIVERY_FAULTS
    ):  # fmt: skip
        return "type", (
            f"'{stream}' is produced by other streams' events; only a multiplying modifier can "
            "change it"
        )
    if shape == "seasonality" and not rises_and_falls:
        return "stream", (
            f"'{stream}' keeps one level all day: a seasonality change has no daily shape to change"
        )
    if shape in SPREAD_MODIFIERS and model != "gauge":
        return "type", f"'{stream}' counts events: a {shape} changes a gauge's samples"
    return None


def shape_value_problem(shape: str, value: float | None) -> str | None:
    """What is wrong with a shaped modifier's value (None where it takes none), or None."""
    if shape in VALUELESS_MODIFIERS:
        return None if value is None else f"a {shape} takes no value"
    if value is None:
        return f"a {shape} needs a value"
    if shape == "seasonality":
        if 0 < value <= 2:
            return None
        return "a seasonality change takes (0, 2]: the share of the day's shape taken away"
    if not 0 < value <= 100:
        return f"a {shape}'s value is a multiplier in (0, 100]"
    if value == 1:
        return f"a {shape} to x1 changes nothing"
    return None


def shape_duration_problem(shape: str, duration: timedelta) -> str | None:
    """What is wrong with how long a shaped modifier lasts, or None."""
    if shape == "spike" and duration > SPIKE_LONGEST:
        return "a spike lasts at most 1 hour"
    if shape == "trend" and duration < TREND_SHORTEST:
        return "a trend drifts over 1 hour or more"
    if shape == "seasonality" and duration < SEASONALITY_SHORTEST:
        return "a change of the day's profile lasts 12 hours or more"
    return None


class ShapeSpec(ConfigModel):
    """A shaped anomaly on one stream while the scenario is active (`ShapedModifierType`),
    made as a manual modifier of its type makes it."""

    stream: StreamName = Field(description="The stream the anomaly acts on.")
    type: ShapedModifierType = Field(
        description=(
            "`spike` (x`value`, at most 1 hour), `trend` (a drift from x1 to x`value` over "
            "`duration`, 1 hour or more), `missing` (no events; a gauge's samples do not "
            "arrive), `variance` (a gauge's noise x`value`), `flatline` (a gauge stuck at its "
            "last sample), `seasonality` (the day's profile loses `value` of its shape, 12 "
            "hours or more), `correlation-break` (a chain stream stops following its causes)."
        )
    )
    value: float | None = Field(
        default=None,
        description=(
            "The multiplier (spike, trend, variance), the share of the day's shape taken away "
            "(seasonality, in (0, 2]); none for missing, flatline and correlation-break."
        ),
    )
    after: Duration = Field(
        default=timedelta(0), description="When it starts, after the scenario's activation."
    )
    duration: Duration | None = Field(
        default=None,
        description=(
            "How long it lasts; none: until the scenario starts settling. It ends when the "
            "scenario starts settling in any case."
        ),
    )
    description: str | None = Field(default=None, description="Why it happens.")


class Scenario(ConfigModel):
    """A pre-defined scenario: modifiers, delayed cascades, injected events and settling."""

    id: KebabId = Field(description="Identifier used by the API, e.g. `payment-outage`.")
    name: str = Field(min_length=1, description="Button label.")
    description: str = Field(min_length=1, description="What happens, for the admin page.")
    duration: Duration = Field(description="How long the scenario stays active.")
    modifiers: tuple[Modifier, ...] = Field(description="Changes applied while active.")
    cascade_rules: tuple[ScenarioCascade, ...] = Field(
        description="Secondary changes that start after a delay."
    )
    events: tuple[InjectedEvent, ...] = Field(description="External events injected.")
    settling: Settling = Field(description="Return to baseline.")
    deliveries: tuple[DeliveryFaultSpec, ...] = Field(
        default=(),
        description="Faults of delivery while the scenario is active (until it starts settling).",
    )
    shapes: tuple[ShapeSpec, ...] = Field(
        default=(),
        description=(
            "Shaped anomalies (spike, trend, missing, variance, flatline, seasonality, "
            "correlation-break) while the scenario is active."
        ),
    )


class ScenariosFile(ConfigModel):
    """scenario-definitions.json: the scenarios. An invalid one is reported and skipped."""

    schema_: str = Field(alias="$schema", description="Path of this file's JSON Schema.")
    scenarios: tuple[Scenario, ...] = Field(description="The scenarios.")
