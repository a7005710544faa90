"""The marketplace model compiled for computation: the catalog's streams, rules and couplings
as numbers and arrays, plus the time curves (profiles, calendar, growth) they follow.

Built once from a validated catalog; both generators read it: the hourly one that makes the
baseline and the live one that makes events.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any, Literal

import numpy as np

from app.domain.calendar import HOUR, day_type, hour_grid, hour_of_day
from app.domain.capacity import CapacitySpec
from app.domain.catalog import (
    Catalog,
    ChainBaseline,
    Delay,
    GaugeBaseline,
    PoissonBaseline,
    condition_share,
)
from app.domain.delays import DelayModel

DAYS_PER_MONTH = 365.25 / 12

NodeKind = Literal["counts", "rules"]
Node = tuple[NodeKind, int]
"""A step of the computation: a stream's own values ("counts"), or the rules its events start
("rules"). Splitting the two lets a coupling sit between a stream and its own rules (booking
requests pull tutor availability, which sets how those requests are answered)."""


Link = tuple[Literal["rule", "load", "coupling"], int] | None


@dataclass
class Loops:
    """The links that close loops in the computation graph."""

    deferred_rules: set[int] = field(default_factory=set)
    lagged_couplings: set[int] = field(default_factory=set)
    lagged_loads: set[int] = field(default_factory=set)

    def add(self, link: Link) -> None:
        if link is None:
            raise ValueError("a stream's rules cannot loop back into its own values")
        kind, index = link
        {"rule": self.deferred_rules, "coupling": self.lagged_couplings, "load": self.lagged_loads}[
            kind
        ].add(index)

    @property
    def lagged(self) -> bool:
        return bool(self.lagged_couplings or self.lagged_loads)


@dataclass(frozen=True)
class Rule:
    """A chain outcome or a cascade, compiled: stream indexes, base probability, delay."""

    index: int
    rule_id: str
    kind: Literal["chain", "cascade"]
    source: int
    target: int
    rate: str
    share: float
    """The share of the source's events that pass the rule's condition (1 without one)."""
    delay: DelayModel
    kernel: np.ndarray
    landing_profile: str | None
    spec: Delay
    """The configured delay, to rebuild `delay` when a scenario changes a rate it reads."""


@dataclass(frozen=True)
class ChainGroup:
    """The exclusive outcomes of one chain (and its remainder, when it has one)."""

    rule_id: str
    source: int
    rules: tuple[int, ...]
    has_remainder: bool


@dataclass(frozen=True)
class Root:
    stream: int
    rate_per_hour: float
    profile: str
    seasonal: bool


@dataclass(frozen=True)
class Gauge:
    stream: int
    base: float
    noise: float
    profile: str
    seasonal: bool
    load: int | None
    elasticity: float
    low: float
    high: float
    load_hours: int = 1
    """Hours of the load it follows, the current one included."""


@dataclass(frozen=True)
class CouplingSpec:
    coupling_id: str
    driver: int
    target_stream: int | None
    target_rate: str | None
    elasticity: float
    window_hours: int


class MarketModel:
    """The compiled marketplace. `anchor` is where growth is 1 (the end of the baseline)."""

    def __init__(self, catalog: Catalog, anchor: datetime) -> None:
        self.catalog = catalog
        self.anchor = anchor.astimezone(UTC)
        self.names: tuple[str, ...] = tuple(catalog.streams)
        self.index = {name: i for i, name in enumerate(self.names)}
        self.rates: dict[str, float] = catalog.rate_values()
        self.growth_rate = catalog.growth.monthly_rate
        self.roots = tuple(self._roots())
        self.gauges = tuple(self._gauges())
        self.rules = tuple(self._rules())
        self.chains = tuple(self._chain_groups())
        self.cascades = tuple(r.index for r in self.rules if r.kind == "cascade")
        self.couplings = tuple(self._couplings())
        self.capacities = {spec.chain: spec for spec in self._capacities()}
        """The capacities, by the chain whose outcome each limits."""
        self.order, self.loops = self._processing_order()
        self.cause_fields = self._cause_fields()
        """Per stream, the fields of its events' data that their effects read."""
        self._calendar_curves: dict[tuple[str, int, int, str | None], np.ndarray] = {}

    # Compilation -------------------------------------------------------------------------------

    def _roots(self) -> Iterable[Root]:
        for name, model in self.catalog.metrics.streams.items():
            if isinstance(model, PoissonBaseline):
                yield Root(self.index[name], model.rate_per_hour, model.profile, model.seasonal)

    def _gauges(self) -> Iterable[Gauge]:
        for name, model in self.catalog.metrics.streams.items():
            if isinstance(model, GaugeBaseline):
                bounds = self.catalog.stream(name).bounds
                yield Gauge(
                    stream=self.index[name],
                    base=model.base,
                    noise=model.noise,
                    profile=model.profile,
                    seasonal=model.seasonal,
                    load=self.index[model.load.stream] if model.load else None,
                    elasticity=model.load.elasticity if model.load else 0.0,
                    load_hours=model.load.hours if model.load else 1,
                    low=bounds.min,
                    high=np.inf if bounds.max is None else bounds.max,
                )

    def _rules(self) -> Iterable[Rule]:
        rate_hours = {n: r.value for n, r in self.catalog.rates.items() if r.unit == "hours"}
        for i, edge in enumerate(self.catalog.edges):
            delay = DelayModel.of(edge.delay, rate_hours)
            yield Rule(
                index=i,
                rule_id=edge.rule_id,
                kind=edge.kind,
                source=self.index[edge.source],
                target=self.index[edge.target],
                rate=edge.probability,
                share=condition_share(edge.condition, self.catalog.stream(edge.source)),
                delay=delay,
                kernel=delay.hour_kernel(),
                landing_profile=edge.delay.profile,
                spec=edge.delay,
            )

    def _chain_groups(self) -> Iterable[ChainGroup]:
        for chain in self.catalog.chains:
            members = tuple(
                r.index for r in self.rules if r.kind == "chain" and r.rule_id == chain.id
            )
            yield ChainGroup(
                chain.id, self.index[chain.from_stream], members, chain.remainder is not None
            )

    def _cause_fields(self) -> dict[int, tuple[str, ...]]:
        """Per source stream, the fields of its data that its rules' targets inherit and its
        rules' conditions read."""
        fields: dict[int, set[str]] = {}
        for edge in self.catalog.edges:
            kept = fields.setdefault(self.index[edge.source], set())
            kept.update(self.catalog.stream(edge.target).inherited_fields())
            if edge.condition is not None:
                kept.add(edge.condition.field)
        return {stream: tuple(sorted(names)) for stream, names in fields.items()}

    def causing_data(self, stream: int, data: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """What a cause keeps of its event's data while its effects are pending (up to 15
        days): the fields they inherit or are decided on (`cause_fields`), None when they
        read none. A restart holds a couple of hundred thousand pending effects: whole bodies,
        decoded from the log's JSON, were most of the scheduler's memory."""
        return self.causing_bodies(stream, [data])[0]

    def causing_bodies(
        self, stream: int, bodies: Sequence[Mapping[str, Any] | None]
    ) -> list[dict[str, Any] | None]:
        """`causing_data` of each of one stream's bodies, in one pass (a round's causes)."""
        names = self.cause_fields.get(stream)
        if not names:
            return [None] * len(bodies)
        return [
            None if data is None else {name: data[name] for name in names if name in data}
            for data in bodies
        ]

    def _couplings(self) -> Iterable[CouplingSpec]:
        for coupling in self.catalog.couplings:
            stream = coupling.target.stream
            yield CouplingSpec(
                coupling_id=coupling.id,
                driver=self.index[coupling.driver],
                target_stream=self.index[stream] if stream else None,
                target_rate=coupling.target.rate,
                elasticity=coupling.elasticity,
                window_hours=max(1, round(coupling.window / HOUR)),
            )

    def _capacities(self) -> Iterable[CapacitySpec]:
        chains = {chain.id: chain for chain in self.catalog.chains}
        for capacity in self.catalog.capacities:
            chain = chains[capacity.chain]
            targets = [outcome.to for outcome in chain.outcomes]
            yield CapacitySpec(
                capacity_id=capacity.id,
                chain=chain.id,
                outcome=targets.index(capacity.outcome),
                demand=self.index[chain.from_stream],
                per_day=self.catalog.population.session_capacity_per_day,
                window_hours=max(1, round(capacity.window / HOUR)),
            )

    def _dependencies(self) -> dict[Node, list[tuple[Node, Link]]]:
        """Edges of the computation graph, each with what makes it: a rule, a gauge's load,
        a coupling, or (None) a stream's values feeding its own rules."""
        graph: dict[Node, list[tuple[Node, Link]]] = {}

        def add(a: Node, b: Node, link: Link) -> None:
            graph.setdefault(a, []).append((b, link))
            graph.setdefault(b, [])

        for s in range(len(self.names)):
            add(("counts", s), ("rules", s), None)
        for rule in self.rules:
            add(("rules", rule.source), ("counts", rule.target), ("rule", rule.index))
        for gauge in self.gauges:
            if gauge.load is not None:
                add(("counts", gauge.load), ("counts", gauge.stream), ("load", gauge.stream))
        for i, coupling in enumerate(self.couplings):
            if coupling.target_stream is not None:
                add(
                    ("counts", coupling.driver), ("counts", coupling.target_stream), ("coupling", i)
                )
            else:
                for rule in self.rules:
                    if rule.rate == coupling.target_rate:
                        add(("counts", coupling.driver), ("rules", rule.source), ("coupling", i))
        return graph

    def _processing_order(self) -> tuple[tuple[Node, ...], Loops]:
        """A topological order of the computation, and the links that close loops.

        A loop of rules (a declined booking sends the student back to search) is done in
        sweeps: its closing rules are "deferred" and their events feed a further sweep. A loop
        closed by a coupling or a load (payments load the gateway, whose latency raises payment
        failures) is "lagged": that link reads its driver from a preliminary run."""
        graph = self._dependencies()
        starts = [("counts", root.stream) for root in self.roots] + sorted(graph)
        state: dict[Node, int] = {}
        closing: set[tuple[Node, Node]] = set()
        loops = Loops()

        def visit(node: Node) -> None:
            state[node] = 1
            for nxt, link in graph[node]:
                if state.get(nxt) == 1:
                    closing.add((node, nxt))
                    loops.add(link)
                elif nxt not in state:
                    visit(nxt)
            state[node] = 2

        for node in starts:
            if node not in state:
                visit(node)
        indegree = dict.fromkeys(graph, 0)
        for node, edges in graph.items():
            for nxt, _ in edges:
                if (node, nxt) not in closing:
                    indegree[nxt] += 1
        ready = [n for n in sorted(graph) if indegree[n] == 0]
        order: list[Node] = []
        while ready:
            node = ready.pop(0)
            order.append(node)
            for nxt, _ in graph[node]:
                if (node, nxt) in closing:
                    continue
                indegree[nxt] -= 1
                if indegree[nxt] == 0:
                    ready.append(nxt)
        return tuple(order), loops

    @cached_property
    def ancestors(self) -> tuple[frozenset[int], ...]:
        """For each stream, the streams whose events lead to it through rules."""
        parents: dict[int, set[int]] = {i: set() for i in range(self.stream_count)}
        for rule in self.rules:
            parents[rule.target].add(rule.source)
        found = []
        for stream in range(self.stream_count):
            seen: set[int] = set()
            todo = list(parents[stream])
            while todo:
                parent = todo.pop()
                if parent not in seen:
                    seen.add(parent)
                    todo.extend(parents[parent])
            seen.discard(stream)
            found.append(frozenset(seen))
        return tuple(found)

    @cached_property
    def root_of(self) -> dict[int, Root]:
        return {root.stream: root for root in self.roots}

    @cached_property
    def gauge_of(self) -> dict[int, Gauge]:
        return {gauge.stream: gauge for gauge in self.gauges}

    @cached_property
    def chains_from(self) -> dict[int, tuple[ChainGroup, ...]]:
        """Per stream, the exclusive chains its events start."""
        return {s: tuple(g for g in self.chains if g.source == s) for s in range(self.stream_count)}

    @cached_property
    def cascades_from(self) -> dict[int, tuple[Rule, ...]]:
        """Per stream, the cascades its events start."""
        return {
            s: tuple(self.rules[i] for i in self.cascades if self.rules[i].source == s)
            for s in range(self.stream_count)
        }

    @cached_property
    def chain_order(self) -> tuple[Node, ...]:
        """The processing order's steps of chain streams (what a further sweep revisits)."""
        return tuple(node for node in self.order if self.is_chain(node[1]))

    @cached_property
    def reaches(self) -> tuple[frozenset[int], ...]:
        """For each stream, itself and every stream a change in it can move: through rules,
        gauge loads and couplings (a coupling on a rate moves the streams its rules make)."""
        children: dict[int, set[int]] = {i: set() for i in range(self.stream_count)}
        for rule in self.rules:
            children[rule.source].add(rule.target)
        for gauge in self.gauges:
            if gauge.load is not None:
                children[gauge.load].add(gauge.stream)
        for coupling in self.couplings:
            if coupling.target_stream is not None:
                children[coupling.driver] |= self.outcomes_moved_with(coupling.target_stream)
            else:
                children[coupling.driver] |= self.rate_targets(coupling.target_rate)
        found = []
        for stream in range(self.stream_count):
            seen = {stream}
            todo = list(children[stream])
            while todo:
                child = todo.pop()
                if child not in seen:
                    seen.add(child)
                    todo.extend(children[child])
            found.append(frozenset(seen))
        return tuple(found)

    @cached_property
    def feeding_groups(self) -> tuple[frozenset[str], ...]:
        """For each stream, the cadence groups whose generation it depends on: its own and
        those of every stream that leads to it through rules (their effects can come in dated
        back, when they run behind)."""
        cadence = [self.catalog.stream(name).cadence for name in self.names]
        return tuple(
            frozenset({cadence[s], *(cadence[a] for a in self.ancestors[s])})
            for s in range(self.stream_count)
        )

    def rate_targets(self, rate: str) -> frozenset[int]:
        """The streams a change of a named rate moves directly: the targets of the rules that
        read it, with every other outcome of their exclusive chains (which share the rest)."""
        found: set[int] = set()
        for rule in self.rules:
            if rule.rate == rate:
                found |= self.outcomes_moved_with(rule.target)
        return frozenset(found)

    def outcomes_moved_with(self, stream: int) -> frozenset[int]:
        """The stream and, when it is an outcome of an exclusive chain, the chain's other
        outcomes: a change in its probability is shared out among them."""
        found = {stream}
        for group in self.chains:
            targets = {self.rules[i].target for i in group.rules}
            if stream in targets:
                found |= targets
        return frozenset(found)

    def _label(self, node: Node) -> str:
        return f"{node[0]} of {self.names[node[1]]}"

    # Time curves -------------------------------------------------------------------------------

    def profile_curve(self, profile: str, grid: np.ndarray) -> np.ndarray:
        """The profile's multiplier at each hour of `grid` (weekend level included)."""
        table = self._profile_tables[profile]
        return table[day_type(grid), hour_of_day(grid)]

    def own_profile(self, stream: int) -> str | None:
        """The daily profile a root or a gauge follows; None for a caused stream (its day is
        its causes')."""
        own = self.root_of.get(stream) or self.gauge_of.get(stream)
        return own.profile if own is not None else None

    def day_of(self, profile: str, moment: datetime) -> np.ndarray:
        """The profile's 24 hourly multipliers on the type of day `moment` falls on."""
        return self._profile_tables[profile][int(day_type(hour_grid(moment, 1))[0])]

    @cached_property
    def _profile_tables(self) -> dict[str, np.ndarray]:
        tables = {}
        for name, profile in self.catalog.profiles.items():
            weekday = np.array(profile.weekday)
            weekend = np.array(profile.weekend) * profile.weekend_multiplier
            tables[name] = np.vstack([weekday, weekend])
        return tables

    def calendar_curve(
        self, profile: str, grid: np.ndarray, without: str | None = None
    ) -> np.ndarray:
        """The academic calendar's factor for this profile at each hour of `grid` (`without`
        one of its periods).

        The calendar ramps linearly over days, so it is evaluated at each midnight and
        interpolated in between (and remembered per profile and span)."""
        key = (profile, int(grid[0].astype(np.int64)), grid.size, without)
        if key not in self._calendar_curves:
            self._calendar_curves[key] = self._evaluate_calendar(profile, grid, without)
        return self._calendar_curves[key]

    def _evaluate_calendar(self, profile: str, grid: np.ndarray, without: str | None) -> np.ndarray:
        days = grid.astype("datetime64[D]")
        first, last = days[0], days[-1] + np.timedelta64(1, "D")
        midnights = np.arange(first, last + np.timedelta64(1, "D"))
        calendar = self.catalog.calendar
        factors = np.array([
            calendar.multiplier(profile, _to_datetime(day), without) for day in midnights
        ])  # fmt: skip
        x = (grid - first.astype("datetime64[h]")).astype(float) / 24.0
        return np.interp(x, np.arange(midnights.size, dtype=float), factors)

    def growth_curve(self, grid: np.ndarray) -> np.ndarray:
        """Compound growth at each hour, 1 at the anchor."""
        anchor = np.datetime64(self.anchor.replace(tzinfo=None), "h")
        months = (grid - anchor).astype(float) / (24.0 * DAYS_PER_MONTH)
        return (1.0 + self.growth_rate) ** months

    def capacity_limit(self, capacity: CapacitySpec, grid: np.ndarray) -> np.ndarray:
        """A capacity's limit per day at each hour: the supply grows with the marketplace."""
        return capacity.per_day * self.growth_curve(grid)

    def root_rate(self, root: Root, grid: np.ndarray) -> np.ndarray:
        """Expected events per hour of a root, before modifiers and couplings."""
        rate = root.rate_per_hour * self.profile_curve(root.profile, grid) * self.growth_curve(grid)
        if root.seasonal:
            rate = rate * self.calendar_curve(root.profile, grid)
        return rate

    def gauge_level(self, gauge: Gauge, grid: np.ndarray) -> np.ndarray:
        """A gauge's value at baseline load, before modifiers, noise and couplings."""
        level = gauge.base * self.profile_curve(gauge.profile, grid)
        if gauge.seasonal:
            level = level * self.calendar_curve(gauge.profile, grid)
        return level

    def landing_weights(self, profile: str, start: datetime, hours: int) -> np.ndarray:
        """How welcome a caused event is at each hour (a profile's busy hours), normalized to a
        mean of 1 over the span."""
        curve = self.profile_curve(profile, hour_grid(start, hours))
        return curve / curve.mean()

    @property
    def stream_count(self) -> int:
        return len(self.names)

    def is_entity(self, stream: int) -> bool:
        return self.catalog.stream(self.names[stream]).shape == "entity"

    def is_chain(self, stream: int) -> bool:
        return isinstance(self.catalog.baseline(self.names[stream]), ChainBaseline)


def _to_datetime(day: np.datetime64) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=int(day.astype(np.int64)))
