"""streams.json: the catalog of streams and the fields of each stream's events."""

from typing import Annotated, Literal

from pydantic import Field

from ._base import CadenceName, ConfigModel, Domain, FrozenMap, StreamName

Entity = Literal[
    "student",
    "tutor",
    "booking",
    "session",
    "payment",
    "refund",
    "ticket",
    "chat",
    "campaign",
    "subscription",
    "payout",
    "application",
    "search",
    "referral",
    "deploy",
]
Scalar = str | int | float | bool
FIELD_NAME_PATTERN = r"^[a-z][A-Za-z0-9]*$"


class IdField(ConfigModel):
    """An id of a marketplace entity carried by the event."""

    type: Literal["id"] = Field(description="Field kind: an entity id.")
    entity: Entity = Field(description="The entity the id names.")
    source: Literal["population", "new", "parent"] = Field(
        description=(
            "Where the id comes from: `population` picks an existing entity of the pool sized "
            "in baseline-metrics.json `population`; `new` mints an id (this event creates the "
            "entity); `parent` inherits it from the causing event's field of the same name "
            "(drawn from the pool, if the entity has one, when the cause has no such field)."
        )
    )
    description: str | None = Field(default=None, description="What the id stands for here.")


class EnumField(ConfigModel):
    """One value out of a fixed list, drawn with relative weights."""

    type: Literal["enum"] = Field(description="Field kind: one of a fixed list of values.")
    values: tuple[str | int, ...] = Field(min_length=1, description="The possible values.")
    weights: tuple[Annotated[float, Field(gt=0)], ...] | None = Field(
        default=None,
        description="Relative weight of each value (same length as `values`); equal if omitted.",
    )
    inherit: bool = Field(
        default=False,
        description="Copy the value from the causing event's field of the same name.",
    )
    description: str | None = Field(default=None, description="What the value means.")


class NumberField(ConfigModel):
    """A number drawn from a distribution and clamped to [min, max]."""

    type: Literal["integer", "number"] = Field(
        description="Field kind: `integer` (rounded) or `number`."
    )
    min: float = Field(description="Smallest value.")
    max: float = Field(description="Largest value.")
    dist: Literal["uniform", "normal", "lognormal"] = Field(
        default="uniform", description="Distribution of the drawn values."
    )
    mean: float | None = Field(
        default=None, description="Mean of the distribution (required for normal and lognormal)."
    )
    sd: float | None = Field(
        default=None,
        gt=0,
        description="Standard deviation (normal, lognormal); default: (max - min) / 6.",
    )
    inherit: bool = Field(
        default=False,
        description="Copy the value from the causing event's field of the same name.",
    )
    description: str | None = Field(default=None, description="What the number measures.")


class BooleanField(ConfigModel):
    """A flag that is true with a given probability."""

    type: Literal["boolean"] = Field(description="Field kind: true or false.")
    probability: float = Field(ge=0, le=1, description="Probability that the flag is true.")
    inherit: bool = Field(
        default=False,
        description="Copy the value from the causing event's field of the same name.",
    )
    description: str | None = Field(default=None, description="What the flag says.")


class StringField(ConfigModel):
    """Free text, generated from the examples."""

    type: Literal["string"] = Field(description="Field kind: free text.")
    examples: tuple[str, ...] = Field(default=(), description="Typical values.")
    inherit: bool = Field(
        default=False,
        description="Copy the value from the causing event's field of the same name.",
    )
    description: str | None = Field(default=None, description="What the text holds.")


FieldSpec = Annotated[
    IdField | EnumField | NumberField | BooleanField | StringField, Field(discriminator="type")
]


class Bounds(ConfigModel):
    """The range a stream's value can take."""

    min: float = Field(description="Smallest possible value (0 for counts).")
    max: float | None = Field(default=None, description="Largest possible value, if any.")


class Stream(ConfigModel):
    """One data stream of the marketplace."""

    name: StreamName = Field(description="`domain.entity.action`, e.g. customer.booking.requested.")
    domain: Domain = Field(description="The business domain; equals the name's first segment.")
    description: str = Field(min_length=1, description="What one event or sample means.")
    shape: Literal["entity", "sample"] = Field(
        description=(
            "`entity`: one event per occurrence, carrying ids; "
            "`sample`: a periodic measurement with a value."
        )
    )
    cadence: CadenceName = Field(
        description="The cadence group of stream-cadences.json that ticks this stream."
    )
    unit: str = Field(min_length=1, description='Unit of the value, e.g. "events/h", "ms", "%".')
    metric: Literal["count", "rate", "duration", "amount", "gauge"] = Field(
        description=(
            "What the value is: `count` (events per hour, every entity stream); for samples "
            "`rate` (a share or a throughput), `duration`, `amount` (money) or `gauge` (a level)."
        )
    )
    aggregation: Literal["sum", "mean"] = Field(
        description=(
            "How hourly values combine into 12-hour buckets: `sum` for counts and amounts, "
            "`mean` for rates, durations and gauges."
        )
    )
    bounds: Bounds = Field(description="The range of the value.")
    fields: FrozenMap[Annotated[str, Field(pattern=FIELD_NAME_PATTERN)], FieldSpec] = Field(
        description="The fields of the event's `data` body, by name (camelCase)."
    )

    def id_fields(self) -> dict[str, IdField]:
        """The id fields of the event body, by field name."""
        return {name: spec for name, spec in self.fields.items() if isinstance(spec, IdField)}

    def inherited_fields(self) -> dict[str, FieldSpec]:
        """The fields whose value an event copies from its causing event's field of the same
        name: ids whose source is `parent`, other fields marked `inherit`."""
        return {
            name: spec
            for name, spec in self.fields.items()
            if (isinstance(spec, IdField) and spec.source == "parent")
            or (not isinstance(spec, IdField) and spec.inherit)
        }


class StreamsFile(ConfigModel):
    """streams.json: every stream of the marketplace."""

    schema_: str = Field(alias="$schema", description="Path of this file's JSON Schema.")
    streams: tuple[Stream, ...] = Field(min_length=1, description="The streams, in display order.")
