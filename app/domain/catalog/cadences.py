"""stream-cadences.json: how often each group of streams ticks."""

from typing import Literal

from pydantic import Field

from ._base import CadenceName, ConfigModel, Duration, FrozenMap


class Interval(ConfigModel):
    """The range a group's tick interval is drawn from."""

    min: Duration = Field(description="Shortest interval between two ticks.")
    max: Duration = Field(description="Longest interval between two ticks.")


class Stagger(ConfigModel):
    """How the streams of one group are spread so that they never fire in sync."""

    method: Literal["name-hash", "random"] = Field(
        description=(
            "`name-hash`: each stream's phase is a stable hash of its name (reproducible); "
            "`random`: drawn from the run's seed."
        )
    )
    max_offset: Duration = Field(
        description="Largest phase offset of a stream inside the group's interval."
    )


class CadenceGroup(ConfigModel):
    """A frequency group: the scheduler ticks its streams every `interval`, with jitter."""

    description: str = Field(min_length=1, description="Which streams belong here and why.")
    interval: Interval = Field(description="Interval between ticks.")
    jitter: float = Field(
        ge=0, le=0.5, description="Each interval is scaled by a random factor in 1 +/- jitter."
    )
    stagger: Stagger = Field(description="Phase offsets of the group's streams.")
    topic: str = Field(description="The WebSocket topic of the group, e.g. `high-frequency`.")


class CadencesFile(ConfigModel):
    """stream-cadences.json: the three cadence groups."""

    schema_: str = Field(alias="$schema", description="Path of this file's JSON Schema.")
    groups: FrozenMap[CadenceName, CadenceGroup] = Field(
        description="The groups `high`, `medium` and `low`."
    )
