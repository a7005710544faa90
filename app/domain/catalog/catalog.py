"""The Catalog: the validated config as one immutable object with its lookups built once."""

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeVar

from .baseline_metrics import (
    Anomalies,
    BaselineMetrics,
    Calendar,
    GaugeBaseline,
    Growth,
    PoissonBaseline,
    Population,
    Profile,
    Rate,
    StreamBaseline,
)
from .cadences import CadenceGroup
from .flow import Flow
from .library import EventTemplate, Magnitudes
from .problems import ConfigProblem
from .relationships import (
    Capacity,
    Cascade,
    Chain,
    Coupling,
    Dependency,
    Edge,
    RelationshipsFile,
)
from .scenarios import Scenario
from .streams import Stream

T = TypeVar("T")


@dataclass(frozen=True)
class Catalog:
    """Everything config/ says, validated. Build it with `load_catalog`.

    Mappings are read-only and keep the files' order. `problems` lists what was wrong with the
    scenarios that were skipped; everything else in the catalog is valid.
    """

    streams: Mapping[str, Stream]
    cadences: Mapping[str, CadenceGroup]
    metrics: BaselineMetrics
    relationships: RelationshipsFile
    magnitudes: Magnitudes
    templates: Mapping[str, EventTemplate]
    scenarios: Mapping[str, Scenario]
    problems: tuple[ConfigProblem, ...]
    flow: Flow
    edges: tuple[Edge, ...]
    _by_domain: Mapping[str, tuple[Stream, ...]] = field(repr=False)
    _by_cadence: Mapping[str, tuple[Stream, ...]] = field(repr=False)
    _chains_from: Mapping[str, tuple[Chain, ...]] = field(repr=False)
    _cascades_from: Mapping[str, tuple[Cascade, ...]] = field(repr=False)
    _edges_into: Mapping[str, tuple[Edge, ...]] = field(repr=False)
    _effects_of: Mapping[str, tuple[str, ...]] = field(repr=False)
    _templates_by_type: Mapping[str, tuple[EventTemplate, ...]] = field(repr=False)
    _rules: Mapping[str, Chain | Cascade] = field(repr=False)

    def __repr__(self) -> str:
        return (
            f"Catalog({len(self.streams)} streams, {len(self.edges)} rules, "
            f"{len(self.scenarios)} scenarios, {len(self.templates)} templates, "
            f"{len(self.problems)} problems)"
        )

    @classmethod
    def build(
        cls,
        streams: Iterable[Stream],
        cadences: Mapping[str, CadenceGroup],
        metrics: BaselineMetrics,
        relationships: RelationshipsFile,
        magnitudes: Magnitudes,
        templates: Iterable[EventTemplate],
        scenarios: Iterable[Scenario],
        problems: Iterable[ConfigProblem],
        flow: Flow,
        edges: Iterable[Edge],
    ) -> "Catalog":
        """Index validated parts; called by `load_catalog` once the checks passed."""
        streams = tuple(streams)
        templates = tuple(templates)
        edges = tuple(edges)
        return cls(
            streams=_by_key(streams, lambda s: s.name),
            cadences=MappingProxyType(dict(cadences)),
            metrics=metrics,
            relationships=relationships,
            magnitudes=magnitudes,
            templates=_by_key(templates, lambda t: t.id),
            scenarios=_by_key(scenarios, lambda s: s.id),
            problems=tuple(problems),
            flow=flow,
            edges=edges,
            _by_domain=_grouped(streams, lambda s: s.domain),
            _by_cadence=_grouped(streams, lambda s: s.cadence),
            _chains_from=_grouped(relationships.chains, lambda c: c.from_stream),
            _cascades_from=_grouped(relationships.cascades, lambda c: c.from_stream),
            _edges_into=_grouped(edges, lambda e: e.target),
            _effects_of=effects_by_stream(edges),
            _templates_by_type=_grouped(templates, lambda t: t.type),
            _rules=_by_key((*relationships.chains, *relationships.cascades), lambda r: r.id),
        )

    # Streams -------------------------------------------------------------------------------------

    def stream(self, name: str) -> Stream:
        """The stream called `name`; KeyError if there is none."""
        return _lookup(self.streams, name, "stream")

    def streams_in_domain(self, domain: str) -> tuple[Stream, ...]:
        """The streams of one domain (customer, tutor, ...), in file order."""
        return self._by_domain.get(domain, ())

    def streams_with_cadence(self, cadence: str) -> tuple[Stream, ...]:
        """The streams of one cadence group (high, medium, low), in file order."""
        return self._by_cadence.get(cadence, ())

    def baseline(self, name: str) -> StreamBaseline:
        """The stream's baseline model: PoissonBaseline, ChainBaseline or GaugeBaseline."""
        return _lookup(self.metrics.streams, name, "stream")

    @property
    def roots(self) -> tuple[str, ...]:
        """The Poisson root streams: where every flow of events starts."""
        return tuple(n for n, m in self.metrics.streams.items() if isinstance(m, PoissonBaseline))

    @property
    def gauges(self) -> tuple[str, ...]:
        """The sample streams, measured around a base value."""
        return tuple(n for n, m in self.metrics.streams.items() if isinstance(m, GaugeBaseline))

    # Rules ---------------------------------------------------------------------------------------

    def chains_from(self, name: str) -> tuple[Chain, ...]:
        """The chains an event of `name` starts: draw one outcome (or the remainder) of each."""
        return self._chains_from.get(name, ())

    def cascades_from(self, name: str) -> tuple[Cascade, ...]:
        """The cascades an event of `name` may trigger, each independently."""
        return self._cascades_from.get(name, ())

    def edges_into(self, name: str) -> tuple[Edge, ...]:
        """Every chain outcome and cascade that produces `name`."""
        return self._edges_into.get(name, ())

    def effects_of(self, name: str) -> tuple[str, ...]:
        """The streams whose events `name`'s events make (by chain or cascade)."""
        return self._effects_of.get(name, ())

    def rule(self, rule_id: str) -> Chain | Cascade:
        """The chain or cascade with this id (ids are unique across both)."""
        return _lookup(self._rules, rule_id, "rule")

    @property
    def chains(self) -> tuple[Chain, ...]:
        """All chains, in file order."""
        return self.relationships.chains

    @property
    def cascades(self) -> tuple[Cascade, ...]:
        """All cascades, in file order."""
        return self.relationships.cascades

    @property
    def couplings(self) -> tuple[Coupling, ...]:
        """All supply/demand couplings."""
        return self.relationships.couplings

    @property
    def capacities(self) -> tuple[Capacity, ...]:
        """The outcomes limited by what the supply can serve."""
        return self.relationships.capacities

    @property
    def dependencies(self) -> tuple[Dependency, ...]:
        """All temporal dependencies."""
        return self.relationships.dependencies

    # Baseline numbers ----------------------------------------------------------------------------

    @property
    def population(self) -> Population:
        """Students, tutors, pools and the volume targets."""
        return self.metrics.population

    @property
    def rates(self) -> Mapping[str, Rate]:
        """The named business rates."""
        return self.metrics.rates

    def rate(self, name: str) -> float:
        """The value of the rate called `name`."""
        return _lookup(self.metrics.rates, name, "rate").value

    def rate_values(self) -> dict[str, float]:
        """A fresh {name: value} of every rate: the base a generator applies modifiers to."""
        return {name: rate.value for name, rate in self.metrics.rates.items()}

    @property
    def profiles(self) -> Mapping[str, Profile]:
        """The time-of-day profiles."""
        return self.metrics.profiles

    def profile(self, name: str) -> Profile:
        """The profile called `name`."""
        return _lookup(self.metrics.profiles, name, "profile")

    @property
    def calendar(self) -> Calendar:
        """The academic calendar."""
        return self.metrics.calendar

    @property
    def growth(self) -> Growth:
        """Monthly growth of the Poisson roots."""
        return self.metrics.growth

    @property
    def anomalies(self) -> Anomalies:
        """The natural variance spikes of the baseline."""
        return self.metrics.anomalies

    def expected_daily_volume(self, name: str) -> float:
        """Expected events per day of an entity stream (weekly mean, no calendar or growth)."""
        return _lookup(self.flow.daily, name, "entity stream")

    # Scenarios and external events ---------------------------------------------------------------

    def scenario(self, scenario_id: str) -> Scenario:
        """The valid scenario with this id; KeyError if unknown or skipped as invalid."""
        return _lookup(self.scenarios, scenario_id, "scenario")

    def template(self, template_id: str) -> EventTemplate:
        """The external-event template with this id."""
        return _lookup(self.templates, template_id, "template")

    def templates_of_type(self, event_type: str) -> tuple[EventTemplate, ...]:
        """The templates of one category (marketing, product, ...)."""
        return self._templates_by_type.get(event_type, ())


def _by_key(items: Iterable[T], key: Callable[[T], str]) -> Mapping[str, T]:
    return MappingProxyType({key(item): item for item in items})


def effects_by_stream(edges: Iterable[Edge]) -> Mapping[str, tuple[str, ...]]:
    """Per stream, the streams its events make (each rule's target, in file order)."""
    return MappingProxyType(
        {source: tuple(e.target for e in group) for source, group in
         _grouped(edges, lambda e: e.source).items()}
    )  # fmt: skip


def _grouped(items: Iterable[T], key: Callable[[T], str]) -> Mapping[str, tuple[T, ...]]:
    groups: dict[str, list[T]] = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    return MappingProxyType({name: tuple(group) for name, group in groups.items()})


def _lookup(mapping: Mapping[str, T], key: str, kind: str) -> T:
    try:
        return mapping[key]
    except KeyError:
        raise KeyError(f"unknown {kind} '{key}'") from None
