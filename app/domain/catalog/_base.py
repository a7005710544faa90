"""Building blocks shared by every config model: the base model, durations, frozen maps, names."""

import re
from collections.abc import Mapping
from datetime import timedelta
from types import MappingProxyType
from typing import Annotated, Literal, TypeVar, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
    TypeAdapter,
    WithJsonSchema,
    WrapSerializer,
)
from pydantic.alias_generators import to_camel

Domain = Literal["customer", "tutor", "session", "support", "marketing", "system"]
DOMAINS: tuple[str, ...] = get_args(Domain)
CadenceName = Literal["high", "medium", "low"]
CADENCE_NAMES: tuple[str, ...] = get_args(CadenceName)

STREAM_NAME_PATTERN = rf"^({'|'.join(DOMAINS)})(\.[a-z][a-z0-9]*){{1,3}}$"
RATE_NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
KEBAB_ID_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"

StreamName = Annotated[str, StringConstraints(pattern=STREAM_NAME_PATTERN)]
"""A stream name: `domain.entity.action`, two to four lowercase dot-separated segments."""
RateName = Annotated[str, StringConstraints(pattern=RATE_NAME_PATTERN)]
"""The name of a business rate in baseline-metrics.json `rates` (snake_case)."""
KebabId = Annotated[str, StringConstraints(pattern=KEBAB_ID_PATTERN)]
"""An identifier in kebab-case ("payment-outage")."""


class ConfigModel(BaseModel):
    """Base of every config model: frozen, strict, unknown keys refused, camelCase in JSON."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        strict=True,
        alias_generator=to_camel,
        populate_by_name=True,
    )


# Durations ---------------------------------------------------------------------------------------

# ISO-8601 durations without years or months (their length varies): PnW, PnDTnHnMnS.
_ISO_DURATION = re.compile(r"^-?P(?=\d|T\d)(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")
_LAX_TIMEDELTA = TypeAdapter(timedelta)
_DURATION_SCHEMA = {
    "type": "string",
    "format": "duration",
    "pattern": _ISO_DURATION.pattern.replace("^-?P", "^P"),
    "examples": ["PT30M", "PT6H", "P3D"],
}


def _parse_iso_duration(value: object) -> timedelta:
    """Accept only ISO-8601 strings: a bare number of seconds in a config is a likely mistake."""
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str) or not _ISO_DURATION.match(value):
        raise ValueError(
            f"expected an ISO-8601 duration such as 'PT30M', 'PT6H' or 'P3D' "
            f"(no years or months), got {value!r}"
        )
    return _LAX_TIMEDELTA.validate_python(value)


def _non_negative(value: timedelta) -> timedelta:
    if value < timedelta(0):
        raise ValueError("a duration here cannot be negative")
    return value


Duration = Annotated[
    timedelta,
    BeforeValidator(_parse_iso_duration),
    AfterValidator(_non_negative),
    WithJsonSchema(_DURATION_SCHEMA),
]
"""A non-negative ISO-8601 duration ("PT6H", "P3D") parsed into a timedelta."""

SignedDuration = Annotated[
    timedelta,
    BeforeValidator(_parse_iso_duration),
    WithJsonSchema(
        {**_DURATION_SCHEMA, "pattern": _ISO_DURATION.pattern, "examples": ["PT2H", "-PT30M"]}
    ),
]
"""An ISO-8601 duration that may be negative ("-PT30M": half an hour before)."""


# Frozen maps -------------------------------------------------------------------------------------

K = TypeVar("K")
V = TypeVar("V")

FrozenMap = Annotated[
    Mapping[K, V],
    AfterValidator(MappingProxyType),
    WrapSerializer(lambda value, handler: handler(dict(value))),
]
"""A JSON object validated into a read-only mapping (insertion order kept)."""


def format_duration(value: timedelta) -> str:
    """Render a timedelta as the ISO-8601 string the config uses ("PT6H")."""
    return _LAX_TIMEDELTA.dump_python(value, mode="json")


# File names --------------------------------------------------------------------------------------

STREAMS_FILE = "streams.json"
METRICS_FILE = "baseline-metrics.json"
CADENCES_FILE = "stream-cadences.json"
RELATIONSHIPS_FILE = "stream-relationships.json"
SCENARIOS_FILE = "scenario-definitions.json"
LIBRARY_FILE = "external-events-library.json"
CONFIG_FILES: tuple[str, ...] = (
    STREAMS_FILE,
    METRICS_FILE,
    CADENCES_FILE,
    RELATIONSHIPS_FILE,
    SCENARIOS_FILE,
    LIBRARY_FILE,
)


def schema_ref(config_file: str) -> str:
    """The `$schema` value a config file must carry: ./schemas/<name>.schema.json."""
    return f"./schemas/{config_file.removesuffix('.json')}.schema.json"
