"""stream-relationships.json: how events cause other events, and how streams pull on each other."""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import ConfigDict, Discriminator, Field, Tag, model_validator

from ._base import ConfigModel, Duration, FrozenMap, KebabId, RateName, StreamName
from .streams import Entity, Scalar


class RateRef(ConfigModel):
    """A duration read from a rate of unit `hours` (so that scenarios can change it)."""

    rate: RateName = Field(description="Name of a rate with unit `hours`.")


def _duration_or_rate(value: object) -> str:
    return "rate-ref" if isinstance(value, dict | RateRef) else "iso-duration"


DurationOrRate = Annotated[
    Annotated[Duration, Tag("iso-duration")] | Annotated[RateRef, Tag("rate-ref")],
    Discriminator(_duration_or_rate),
]
"""An ISO-8601 duration ("PT6H"), or {"rate": name} to read it from a rate in hours."""


class Delay(ConfigModel):
    """When a caused event happens after its cause."""

    min: Duration = Field(description="Shortest delay.")
    max: Duration = Field(description="Longest delay (delays are clamped to [min, max]).")
    dist: Literal["uniform", "lognormal", "exponential"] = Field(
        description=(
            "`uniform` over [min, max]; `lognormal` with the given median (and p90, else max is "
            "the p99); `exponential`: min + an exponential tail with the given median."
        )
    )
    median: DurationOrRate | None = Field(
        default=None,
        description="Median delay (required for lognormal and exponential), or a rate in hours.",
    )
    p90: DurationOrRate | None = Field(
        default=None, description="90th percentile (lognormal only), or a rate in hours."
    )
    profile: str | None = Field(
        default=None,
        description=(
            "Optional profile name: the event lands preferably in the busy hours of this "
            "profile inside the delay window (sessions happen when students are awake)."
        ),
    )

    def resolve(
        self, field: Literal["median", "p90"], rate_hours: Mapping[str, float]
    ) -> timedelta | None:
        """The median or p90 as a duration; a rate reference is read from `rate_hours` (rate
        name -> hours: the base values, or the effective ones under a scenario). None if the
        delay has none or the rate is missing."""
        value = getattr(self, field)
        if isinstance(value, RateRef):
            hours = rate_hours.get(value.rate)
            return None if hours is None else timedelta(hours=hours)
        return value

    def rate_refs(self) -> Iterator[tuple[str, RateRef]]:
        """The (field name, reference) pairs that read a duration from a rate."""
        for name in ("median", "p90"):
            value = getattr(self, name)
            if isinstance(value, RateRef):
                yield name, value


class Outcome(ConfigModel):
    """One exclusive outcome of a chain."""

    to: StreamName = Field(description="The stream of the outcome event (a chain-model stream).")
    probability: RateName = Field(description="Name of the rate (unit probability) it happens.")
    delay: Delay = Field(description="When it happens after the cause.")


class Remainder(ConfigModel):
    """The chain's 'nothing is recorded' outcome; its probability is 1 - the listed outcomes."""

    description: str = Field(min_length=1, description="What happens in reality.")


class Chain(ConfigModel):
    """A lifecycle step: exactly one outcome follows each event of `from` (or the remainder)."""

    id: KebabId = Field(description="Identifier, unique among chains and cascades.")
    from_stream: StreamName = Field(alias="from", description="The causing stream.")
    description: str = Field(min_length=1, description="The lifecycle step in words.")
    outcomes: tuple[Outcome, ...] = Field(min_length=1, description="The exclusive outcomes.")
    remainder: Remainder | None = Field(
        default=None,
        description="If set, the outcomes may sum below 1: the rest records nothing.",
    )


class Condition(ConfigModel):
    """A test on a field of the causing event (enum or boolean fields)."""

    field: str = Field(description="Field name in the causing event's data.")
    op: Literal["eq", "ne", "lt", "le", "gt", "ge", "in"] = Field(
        description="Comparison; lt/le/gt/ge need numeric enum values; `in` needs a list."
    )
    value: Scalar | tuple[Scalar, ...] = Field(description="Value (a list for `in`).")

    def holds(self, actual: object) -> bool:
        """Whether a causing event whose field has the value `actual` passes the test."""
        if self.op == "in":
            return isinstance(self.value, tuple) and actual in self.value
        if self.op in ("eq", "ne"):
            return (actual == self.value) == (self.op == "eq")
        if not _is_number(actual) or not _is_number(self.value):
            return False
        compare = {
            "lt": float.__lt__,
            "le": float.__le__,
            "gt": float.__gt__,
            "ge": float.__ge__,
        }[self.op]
        return compare(float(actual), float(self.value))


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class Cascade(ConfigModel):
    """An independent follow-up: each event of `from` may cause one event of `to`."""

    id: KebabId = Field(description="Identifier, unique among chains and cascades.")
    from_stream: StreamName = Field(alias="from", description="The causing stream.")
    to: StreamName = Field(description="The caused stream (a chain-model stream).")
    probability: RateName = Field(description="Name of the rate (unit probability).")
    delay: Delay = Field(description="When it happens after the cause.")
    condition: Condition | None = Field(
        default=None, description="Only causing events that pass this test can cascade."
    )
    child_data: FrozenMap[str, Scalar] = Field(
        default_factory=dict,
        description="Fixed values for fields of the caused event (e.g. a ticket's category).",
    )
    description: str = Field(min_length=1, description="The causal story.")


class Target(ConfigModel):
    """What a modifier or coupling acts on: a stream's rate/value or a named rate."""

    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["stream"]}, {"required": ["rate"]}]}
    )

    stream: StreamName | None = Field(
        default=None,
        description=(
            "A stream: a Poisson root's rate, a gauge's value, or - for a chain-model stream, "
            "multipliers only - the probability of every rule that produces it."
        ),
    )
    rate: RateName | None = Field(
        default=None,
        description=(
            "A named rate of baseline-metrics.json: changes every chain outcome, cascade or "
            "delay that reads it."
        ),
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> "Target":
        if (self.stream is None) == (self.rate is None):
            raise ValueError("give exactly one of 'stream' or 'rate'")
        return self

    def __str__(self) -> str:
        return f"stream '{self.stream}'" if self.stream else f"rate '{self.rate}'"


class Coupling(ConfigModel):
    """A supply/demand correlation: the target follows the driver's load."""

    id: KebabId = Field(description="Identifier.")
    driver: StreamName = Field(description="The stream whose load drives the target.")
    target: Target = Field(description="The stream rate/value or rate that follows.")
    elasticity: float = Field(
        description=(
            "target x (driver / driver's baseline) ^ elasticity; negative: moves the other way."
        )
    )
    window: Duration = Field(description="Window over which the driver's load is measured.")
    description: str = Field(min_length=1, description="The business reason.")


class Capacity(ConfigModel):
    """The most the tutors can serve: an outcome of a chain that saturates as demand nears it.

    Per day the outcome is capped at the active tutors' sessions (population: tutors x
    activeTutorShare x sessionCapPerActiveTutorPerDay, growing with the marketplace). As what
    the chain's events ask for over a day nears that, the outcome's probability falls and the
    chain's other outcomes take up the rest."""

    id: KebabId = Field(description="Identifier.")
    chain: KebabId = Field(description="The chain whose outcome is limited.")
    outcome: StreamName = Field(description="The limited outcome (a stream of that chain).")
    window: Duration = Field(
        description=(
            "How far back demand is measured against its expectation: short enough that a "
            "surge meets the limit within hours."
        )
    )
    description: str = Field(min_length=1, description="The business reason.")


class Dependency(ConfigModel):
    """A temporal precondition on one entity: `first` must have happened before `then`."""

    id: KebabId = Field(description="Identifier.")
    entity: Entity = Field(description="The entity both events carry an id of.")
    first: StreamName = Field(description="The stream that must come first for that entity.")
    then: StreamName = Field(description="The stream that may only follow.")
    description: str = Field(min_length=1, description="The business rule.")


class RelationshipsFile(ConfigModel):
    """stream-relationships.json: chains, cascades, couplings, capacities and dependencies."""

    schema_: str = Field(alias="$schema", description="Path of this file's JSON Schema.")
    chains: tuple[Chain, ...] = Field(description="Lifecycle chains with exclusive outcomes.")
    cascades: tuple[Cascade, ...] = Field(description="Independent probabilistic follow-ups.")
    couplings: tuple[Coupling, ...] = Field(description="Supply/demand correlations.")
    capacities: tuple[Capacity, ...] = Field(
        default=(), description="Outcomes limited by what the supply can serve."
    )
    dependencies: tuple[Dependency, ...] = Field(description="Temporal preconditions.")


@dataclass(frozen=True)
class Edge:
    """One way an event of `source` can cause an event of `target`: a chain outcome or a cascade.

    The uniform view the flow computation, the checks and a generator walk; `outcome_index` is
    the outcome's position in its chain (None for a cascade).
    """

    rule_id: str
    kind: Literal["chain", "cascade"]
    source: str
    target: str
    probability: str
    delay: Delay
    condition: Condition | None
    outcome_index: int | None

    @property
    def entry(self) -> str:
        """How problems name the rule: "chain 'booking-response'"."""
        return f"{self.kind} '{self.rule_id}'"

    def field(self, name: str) -> str:
        """The JSON path of one of the rule's fields, as problems spell it."""
        return name if self.outcome_index is None else f"outcomes[{self.outcome_index}].{name}"


def edges(relationships: RelationshipsFile) -> Iterator[Edge]:
    """Every chain outcome and cascade as an edge, chains first, in file order."""
    for chain in relationships.chains:
        for index, outcome in enumerate(chain.outcomes):
            yield Edge(
                chain.id,
                "chain",
                chain.from_stream,
                outcome.to,
                outcome.probability,
                outcome.delay,
                None,
                index,
            )
    for cascade in relationships.cascades:
        yield Edge(
            cascade.id,
            "cascade",
            cascade.from_stream,
            cascade.to,
            cascade.probability,
            cascade.delay,
            cascade.condition,
            None,
        )
