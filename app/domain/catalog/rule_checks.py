"""Checks of stream-relationships.json against the streams and the baseline, and of the flow of
volumes the rules produce. Every check returns problems; none raises."""

from collections.abc import Iterable, Mapping
from datetime import timedelta

from ._base import METRICS_FILE, RELATIONSHIPS_FILE, STREAMS_FILE
from .baseline_metrics import DAYS_PER_MONTH, BaselineMetrics, ChainBaseline, PoissonBaseline
from .checks import SUM_TOLERANCE, duplicates, rate_problem
from .flow import Flow
from .problems import ConfigProblem
from .relationships import Cascade, Condition, Delay, Edge, RelationshipsFile, Target
from .streams import BooleanField, EnumField, IdField, NumberField, Stream, StringField

Found = list[tuple[str, str]]
"""(field, message) pairs of one entry, turned into problems by the caller."""


def check_relationships(
    relationships: RelationshipsFile,
    rules: Iterable[Edge],
    streams: Mapping[str, Stream],
    metrics: BaselineMetrics,
) -> list[ConfigProblem]:
    """References resolve, chains are exclusive, fields inherit, no zero-delay loop."""
    rules = list(rules)
    problems = [
        *_check_ids(relationships),
        *_check_sources(relationships, streams),
        *_check_chains(relationships, metrics),
    ]
    for rule in rules:
        found = _edge_problems(rule, streams, metrics)
        problems += [ConfigProblem(RELATIONSHIPS_FILE, rule.entry, f, m) for f, m in found]
    for cascade in relationships.cascades:
        found = _cascade_data_problems(cascade, streams)
        problems += [
            ConfigProblem(RELATIONSHIPS_FILE, f"cascade '{cascade.id}'", f, m) for f, m in found
        ]
    if not problems:
        problems += _check_inheritance(rules, streams)
        problems += _check_chain_streams(rules, streams, metrics)
        problems += _check_zero_delay_cycles(rules)
    problems += _check_couplings(relationships, streams, metrics)
    problems += _check_capacities(relationships, metrics)
    problems += _check_dependencies(relationships, streams)
    return problems


def _check_ids(relationships: RelationshipsFile) -> list[ConfigProblem]:
    rule_ids = [c.id for c in relationships.chains] + [c.id for c in relationships.cascades]
    groups = (
        ("rule", rule_ids),
        ("coupling", [c.id for c in relationships.couplings]),
        ("capacity", [c.id for c in relationships.capacities]),
        ("dependency", [d.id for d in relationships.dependencies]),
    )
    return [
        ConfigProblem(RELATIONSHIPS_FILE, f"{label} '{name}'", "id", f"duplicate {label} id")
        for label, ids in groups
        for name in sorted(duplicates(ids))
    ]


def _check_sources(
    relationships: RelationshipsFile, streams: Mapping[str, Stream]
) -> list[ConfigProblem]:
    """A rule starts from an entity stream: samples are measurements, they cause nothing."""
    rules = [("chain", r.id, r.from_stream) for r in relationships.chains]
    rules += [("cascade", r.id, r.from_stream) for r in relationships.cascades]
    problems = []
    for kind, rule_id, source in rules:
        message = None
        if source not in streams:
            message = f"unknown stream '{source}'"
        elif streams[source].shape != "entity":
            message = f"'{source}' is a sample stream; only entity events cause events"
        if message:
            entry = f"{kind} '{rule_id}'"
            problems.append(ConfigProblem(RELATIONSHIPS_FILE, entry, "from", message))
    return problems


def _check_chains(
    relationships: RelationshipsFile, metrics: BaselineMetrics
) -> list[ConfigProblem]:
    """Exclusive outcomes sum to 1, or to at most 1 when the chain has a remainder."""
    problems = []
    for chain in relationships.chains:
        entry = f"chain '{chain.id}'"
        for target in sorted(duplicates(outcome.to for outcome in chain.outcomes)):
            problems.append(
                ConfigProblem(RELATIONSHIPS_FILE, entry, "outcomes", f"'{target}' repeats")
            )
        names = [outcome.probability for outcome in chain.outcomes]
        if any(name not in metrics.rates for name in names):
            continue  # reported per outcome
        total = sum(metrics.rates[name].value for name in names)
        listed = " + ".join(f"{name} {metrics.rates[name].value:g}" for name in names)
        if chain.remainder is None and abs(total - 1) > SUM_TOLERANCE:
            problems.append(
                ConfigProblem(
                    RELATIONSHIPS_FILE,
                    entry,
                    "outcomes",
                    f"exclusive outcomes must sum to 1, got {listed} = {total:.6g} "
                    "(or give the chain a 'remainder')",
                )
            )
        elif chain.remainder is not None and total > 1 + SUM_TOLERANCE:
            problems.append(
                ConfigProblem(
                    RELATIONSHIPS_FILE,
                    entry,
                    "outcomes",
                    f"outcomes sum above 1 ({listed} = {total:.6g}), nothing is left for the "
                    "remainder",
                )
            )
    return problems


def _edge_problems(rule: Edge, streams: Mapping[str, Stream], metrics: BaselineMetrics) -> Found:
    found: Found = []
    target = metrics.streams.get(rule.target)
    if rule.target not in streams:
        found.append((rule.field("to"), f"unknown stream '{rule.target}'"))
    elif target is not None and not isinstance(target, ChainBaseline):
        found.append(
            (
                rule.field("to"),
                f"'{rule.target}' has its own baseline model '{target.model}': a rule may only "
                "produce a chain-model stream",
            )
        )
    message = rate_problem(metrics, rule.probability, "probability")
    if message:
        found.append((rule.field("probability"), message))
    found += [
        (rule.field(f"delay.{field}"), message)
        for field, message in delay_problems(rule.delay, metrics)
    ]
    if rule.condition is not None and rule.source in streams:
        found += [
            (f"condition.{field}", message)
            for field, message in _condition_problems(rule.condition, streams[rule.source])
        ]
    return found


def delay_problems(delay: Delay, metrics: BaselineMetrics) -> Found:
    """Ordered bounds, the median a distribution needs, known rates and profile."""
    found: Found = []
    if delay.max < delay.min:
        found.append(("max", f"max {delay.max} is below min {delay.min}"))
    for field, ref in delay.rate_refs():
        message = rate_problem(metrics, ref.rate, "hours")
        if message:
            found.append((f"{field}.rate", message))
    if delay.profile is not None and delay.profile not in metrics.profiles:
        found.append(("profile", f"unknown profile '{delay.profile}'"))
    if delay.dist != "uniform" and delay.median is None:
        found.append(("median", f"a {delay.dist} delay needs a median"))
    if delay.p90 is not None and delay.dist != "lognormal":
        found.append(("p90", "only a lognormal delay takes a p90"))
    hours = {name: rate.value for name, rate in metrics.rates.items() if rate.unit == "hours"}
    median = delay.resolve("median", hours)
    p90 = delay.resolve("p90", hours)
    for field, value in (("median", median), ("p90", p90)):
        if value is not None and not delay.min <= value <= delay.max:
            found.append((field, f"{value} lies outside [{delay.min}, {delay.max}]"))
    if median is not None and p90 is not None and p90 < median:
        found.append(("p90", "p90 is below the median"))
    return found


def _condition_problems(condition: Condition, source: Stream) -> Found:
    spec = source.fields.get(condition.field)
    if spec is None:
        return [("field", f"'{source.name}' has no field '{condition.field}'")]
    if not isinstance(spec, EnumField | BooleanField):
        return [("field", f"'{condition.field}' is a {spec.type}; conditions test enum or boolean")]
    values = condition.value if isinstance(condition.value, tuple) else (condition.value,)
    if (condition.op == "in") != isinstance(condition.value, tuple):
        return [("value", "'in' takes a list of values; the other operators one value")]
    allowed = spec.values if isinstance(spec, EnumField) else (True, False)
    unknown = [value for value in values if not _one_of(value, allowed)]
    if unknown:
        return [("value", f"{unknown[0]!r} is not a value of '{condition.field}': {list(allowed)}")]
    if condition.op in ("lt", "le", "gt", "ge") and not all(
        _is_number(value) for value in (*allowed, *values)
    ):
        return [("op", f"'{condition.op}' compares numbers; '{condition.field}' is not numeric")]
    return []


def _one_of(value: object, allowed: Iterable[object]) -> bool:
    """Equality that does not take True for 1 (JSON keeps them apart)."""
    return any(type(value) is type(other) and value == other for other in allowed)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _cascade_data_problems(cascade: Cascade, streams: Mapping[str, Stream]) -> Found:
    target = streams.get(cascade.to)
    if target is None:
        return []
    found: Found = []
    for name, value in cascade.child_data.items():
        spec = target.fields.get(name)
        field = f"childData.{name}"
        if spec is None:
            found.append((field, f"'{cascade.to}' has no field '{name}'"))
        elif isinstance(spec, IdField):
            found.append((field, "ids are generated, not fixed"))
        elif isinstance(spec, EnumField) and not _one_of(value, spec.values):
            found.append((field, f"{value!r} is not one of {list(spec.values)}"))
        elif isinstance(spec, BooleanField) and not isinstance(value, bool):
            found.append((field, "expected true or false"))
        elif isinstance(spec, NumberField) and not (
            _is_number(value) and spec.min <= value <= spec.max  # type: ignore[operator]
        ):
            found.append((field, f"expected a number in [{spec.min}, {spec.max}]"))
        elif isinstance(spec, StringField) and not isinstance(value, str):
            found.append((field, "expected a string"))
    return found


def _same_kind(child: object, parent: object) -> bool:
    if isinstance(child, IdField):
        return isinstance(parent, IdField) and parent.entity == child.entity
    if isinstance(child, EnumField):
        return isinstance(parent, EnumField) and set(parent.values) <= set(child.values)
    return type(child) is type(parent)


def _check_inheritance(rules: list[Edge], streams: Mapping[str, Stream]) -> list[ConfigProblem]:
    """Every field a stream inherits exists, of the same kind, on every stream that causes it."""
    problems = []
    targets = {rule.target for rule in rules}
    for stream in streams.values():
        inherited = stream.inherited_fields()
        if inherited and stream.name not in targets:
            name = next(iter(inherited))
            problems.append(
                ConfigProblem(
                    STREAMS_FILE,
                    f"stream '{stream.name}'",
                    f"fields.{name}",
                    "inherits from its causing event, but no rule produces this stream",
                )
            )
    for rule in rules:
        parent = streams[rule.source]
        for name, spec in streams[rule.target].inherited_fields().items():
            if not _same_kind(spec, parent.fields.get(name)):
                problems.append(
                    ConfigProblem(
                        RELATIONSHIPS_FILE,
                        rule.entry,
                        rule.field("to"),
                        f"'{rule.target}' inherits field '{name}' from its cause, but "
                        f"'{rule.source}' has no matching '{name}'",
                    )
                )
    return problems


def _check_chain_streams(
    rules: list[Edge], streams: Mapping[str, Stream], metrics: BaselineMetrics
) -> list[ConfigProblem]:
    """A chain-model stream is produced by a rule and reachable from a Poisson root."""
    produced = {rule.target for rule in rules}
    reached = {name for name, m in metrics.streams.items() if isinstance(m, PoissonBaseline)}
    frontier = list(reached)
    while frontier:
        source = frontier.pop()
        for rule in rules:
            if rule.source == source and rule.target not in reached:
                reached.add(rule.target)
                frontier.append(rule.target)
    problems = []
    for name, model in metrics.streams.items():
        if not isinstance(model, ChainBaseline) or name not in streams:
            continue
        if name not in produced:
            message = "chain-model, but no chain or cascade produces it"
        elif name not in reached:
            message = "chain-model, but not reachable from any Poisson root: nothing produces it"
        else:
            continue
        problems.append(ConfigProblem(METRICS_FILE, f"stream baseline '{name}'", "model", message))
    return problems


def _check_zero_delay_cycles(rules: list[Edge]) -> list[ConfigProblem]:
    """A loop of rules that can all fire at once would produce unbounded events in no time."""
    instant = [rule for rule in rules if rule.delay.min == timedelta(0)]
    problems = []
    reported: set[frozenset[str]] = set()
    for start in instant:
        path = _path_back(start, instant)
        if path is None or frozenset(r.rule_id for r in path) in reported:
            continue
        reported.add(frozenset(r.rule_id for r in path))
        loop = " -> ".join([path[0].source, *(r.target for r in path)])
        problems.append(
            ConfigProblem(
                RELATIONSHIPS_FILE,
                start.entry,
                start.field("delay.min"),
                f"zero-delay cycle {loop}: give one of its rules a minimum delay above zero",
            )
        )
    return problems


def _path_back(start: Edge, rules: list[Edge]) -> list[Edge] | None:
    """A chain of rules from start's target back to start's source, or None."""
    paths: list[list[Edge]] = [[start]]
    seen = {start.target}
    while paths:
        path = paths.pop()
        if path[-1].target == start.source:
            return path
        for rule in rules:
            if rule.source == path[-1].target and rule.target not in seen:
                seen.add(rule.target)
                paths.append([*path, rule])
    return None


def target_problem(
    target: Target, streams: Mapping[str, Stream], metrics: BaselineMetrics
) -> tuple[str, str] | None:
    """Why a modifier or coupling cannot act on `target`, as (field, message), or None."""
    if target.stream is not None:
        return None if target.stream in streams else ("stream", f"unknown stream '{target.stream}'")
    assert target.rate is not None
    rate = metrics.rates.get(target.rate)
    if rate is None:
        return ("rate", f"unknown rate '{target.rate}'")
    if not rate.adjustable:
        return ("rate", f"rate '{target.rate}' is a constant and cannot be changed")
    return None


def _check_couplings(
    relationships: RelationshipsFile, streams: Mapping[str, Stream], metrics: BaselineMetrics
) -> list[ConfigProblem]:
    problems = []
    for coupling in relationships.couplings:
        entry = f"coupling '{coupling.id}'"
        if coupling.driver not in streams:
            problems.append(
                ConfigProblem(
                    RELATIONSHIPS_FILE, entry, "driver", f"unknown stream '{coupling.driver}'"
                )
            )
        elif coupling.driver == coupling.target.stream:
            message = "a stream cannot drive itself"
            problems.append(ConfigProblem(RELATIONSHIPS_FILE, entry, "target.stream", message))
        found = target_problem(coupling.target, streams, metrics)
        if found:
            problems.append(
                ConfigProblem(RELATIONSHIPS_FILE, entry, f"target.{found[0]}", found[1])
            )
    return problems


def _check_capacities(
    relationships: RelationshipsFile, metrics: BaselineMetrics
) -> list[ConfigProblem]:
    """A capacity limits an outcome of a chain, and leaves room above the baseline's sessions."""
    problems = []
    chains = {chain.id: chain for chain in relationships.chains}
    for capacity in relationships.capacities:
        entry = f"capacity '{capacity.id}'"
        chain = chains.get(capacity.chain)
        if chain is None:
            message = f"unknown chain '{capacity.chain}'"
            problems.append(ConfigProblem(RELATIONSHIPS_FILE, entry, "chain", message))
            continue
        if capacity.outcome not in {outcome.to for outcome in chain.outcomes}:
            message = f"chain '{chain.id}' has no outcome '{capacity.outcome}'"
            problems.append(ConfigProblem(RELATIONSHIPS_FILE, entry, "outcome", message))
    population = metrics.population
    if relationships.capacities and (
        population.session_cap_per_active_tutor_per_day
        <= population.sessions_per_active_tutor_per_day
    ):
        message = (
            f"{population.session_cap_per_active_tutor_per_day:g} leaves no room above the "
            f"{population.sessions_per_active_tutor_per_day:g} sessions an active tutor gives on "
            "average: raise it"
        )
        problems.append(
            ConfigProblem(METRICS_FILE, "population", "sessionCapPerActiveTutorPerDay", message)
        )
    return problems


def _check_dependencies(
    relationships: RelationshipsFile, streams: Mapping[str, Stream]
) -> list[ConfigProblem]:
    problems = []
    for dependency in relationships.dependencies:
        entry = f"dependency '{dependency.id}'"
        for field in ("first", "then"):
            name = getattr(dependency, field)
            stream = streams.get(name)
            if stream is None:
                message = f"unknown stream '{name}'"
            elif not any(s.entity == dependency.entity for s in stream.id_fields().values()):
                message = f"'{name}' carries no {dependency.entity} id"
            else:
                continue
            problems.append(ConfigProblem(RELATIONSHIPS_FILE, entry, field, message))
        if dependency.first == dependency.then:
            problems.append(
                ConfigProblem(RELATIONSHIPS_FILE, entry, "then", "a stream cannot precede itself")
            )
    return problems


# The flow ----------------------------------------------------------------------------------------


def check_flow(flow: Flow, metrics: BaselineMetrics) -> list[ConfigProblem]:
    """The rules do not explode, and the volumes they produce match the population."""
    if flow.spectral_radius >= 1:
        return [
            ConfigProblem(
                RELATIONSHIPS_FILE,
                "",
                "",
                f"the rules explode (spectral radius {flow.spectral_radius:.3f} >= 1): a loop of "
                "chains and cascades gives back at least one event for each event entering it, "
                "so volumes grow without bound; lower a probability on the loop",
            )
        ]
    population = metrics.population
    tolerance = population.volume_tolerance
    problems = []
    sessions = flow.daily[population.session_stream]
    target = population.sessions_per_day
    if abs(_relative_gap(sessions, target)) > tolerance:
        problems.append(
            ConfigProblem(
                METRICS_FILE,
                "population",
                "sessionsPerActiveTutorPerDay",
                f"the flow gives {sessions:.0f} {population.session_stream}/day but "
                f"{population.tutors} tutors x {population.active_tutor_share:g} active x "
                f"{population.sessions_per_active_tutor_per_day:g} = {target:.0f} "
                f"(off by {_relative_gap(sessions, target):+.1%}, tolerance {tolerance:.0%}): "
                "adjust the root rates or the chain probabilities",
            )
        )
    churn = flow.daily[population.churn_stream] * DAYS_PER_MONTH
    expected = population.students * sum(
        cohort.share * metrics.rates[cohort.churn_rate].value
        for cohort in population.student_cohorts
    )
    if abs(_relative_gap(churn, expected)) > tolerance:
        problems.append(
            ConfigProblem(
                METRICS_FILE,
                "population",
                "studentCohorts",
                f"the flow gives {churn:.0f} {population.churn_stream}/month but the cohorts' "
                f"churn is {expected:.0f}/month (off by {_relative_gap(churn, expected):+.1%}, "
                f"tolerance {tolerance:.0%})",
            )
        )
    return problems


def _relative_gap(actual: float, expected: float) -> float:
    """(actual - expected) / expected; infinite when only the expectation is zero."""
    if expected == 0:
        return 0.0 if actual == 0 else float("inf")
    return actual / expected - 1


def check_rates_used(
    metrics: BaselineMetrics, rules: Iterable[Edge], relationships: RelationshipsFile
) -> list[ConfigProblem]:
    """Every rate is read somewhere: an unused number is a number nobody keeps true."""
    used = {cohort.churn_rate for cohort in metrics.population.student_cohorts}
    for rule in rules:
        used.add(rule.probability)
        used.update(ref.rate for _, ref in rule.delay.rate_refs())
    used.update(c.target.rate for c in relationships.couplings if c.target.rate)
    return [
        ConfigProblem(
            METRICS_FILE,
            f"rate '{name}'",
            "",
            "not used by any chain, cascade, delay, coupling or cohort",
        )
        for name in metrics.rates
        if name not in used
    ]
