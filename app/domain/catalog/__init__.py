"""The config catalog: config/*.json validated into frozen models, with lookups.

    from app.domain.catalog import load_catalog
    catalog = load_catalog(Path("config"))
    catalog.stream("customer.booking.requested"), catalog.baseline(...), catalog.chains_from(...)

Pure: stdlib, pydantic and numpy only. See config/README.md for what the files mean.
"""

from ._base import CONFIG_FILES, DOMAINS, format_duration
from .cadences import CadenceGroup, CadencesFile, Interval, Stagger
from .catalog import Catalog
from .flow import Flow, compute_flow, condition_share
from .library import (
    EVENT_TYPES,
    EventTemplate,
    ExpectedImpact,
    LibraryFile,
    Magnitudes,
    StreamImpact,
    Timing,
)
from .loader import load_catalog
from .metrics import (
    Anomalies,
    BaselineMetrics,
    Calendar,
    CalendarPeriod,
    ChainBaseline,
    GaugeBaseline,
    Growth,
    Load,
    NthWeekday,
    PoissonBaseline,
    Population,
    Profile,
    Rate,
    StreamBaseline,
    StudentCohort,
)
from .problems import ConfigError, ConfigProblem
from .relationships import (
    Capacity,
    Cascade,
    Chain,
    Condition,
    Coupling,
    Delay,
    Dependency,
    Edge,
    Outcome,
    RateRef,
    RelationshipsFile,
    Remainder,
    Target,
)
from .scenarios import Backlog, InjectedEvent, Modifier, Scenario, ScenarioCascade, Settling
from .schemas import json_schemas, render_schema, schema_path, write_schemas
from .streams import (
    BooleanField,
    Bounds,
    EnumField,
    FieldSpec,
    IdField,
    NumberField,
    Stream,
    StreamsFile,
    StringField,
)

__all__ = [
    "CONFIG_FILES",
    "DOMAINS",
    "EVENT_TYPES",
    "Anomalies",
    "Backlog",
    "BaselineMetrics",
    "BooleanField",
    "Bounds",
    "CadenceGroup",
    "CadencesFile",
    "Calendar",
    "CalendarPeriod",
    "Capacity",
    "Cascade",
    "Catalog",
    "Chain",
    "ChainBaseline",
    "Condition",
    "ConfigError",
    "ConfigProblem",
    "Coupling",
    "Delay",
    "Dependency",
    "Edge",
    "EnumField",
    "EventTemplate",
    "ExpectedImpact",
    "FieldSpec",
    "Flow",
    "GaugeBaseline",
    "Growth",
    "IdField",
    "InjectedEvent",
    "Interval",
    "LibraryFile",
    "Load",
    "Magnitudes",
    "Modifier",
    "NthWeekday",
    "NumberField",
    "Outcome",
    "PoissonBaseline",
    "Population",
    "Profile",
    "Rate",
    "RateRef",
    "RelationshipsFile",
    "Remainder",
    "Scenario",
    "ScenarioCascade",
    "Settling",
    "Stagger",
    "Stream",
    "StreamBaseline",
    "StreamImpact",
    "StreamsFile",
    "StringField",
    "StudentCohort",
    "Target",
    "Timing",
    "compute_flow",
    "condition_share",
    "format_duration",
    "json_schemas",
    "load_catalog",
    "render_schema",
    "schema_path",
    "write_schemas",
]
