"""Checks of streams.json, stream-cadences.json, baseline-metrics.json and the event library,
each against itself and against the stream catalog. Every check returns problems; none raises."""

from collections import Counter
from collections.abc import Iterable, Mapping

from ._base import (
    CADENCE_NAMES,
    CADENCES_FILE,
    LIBRARY_FILE,
    METRICS_FILE,
    STREAMS_FILE,
)
from .baseline_metrics import (
    HOURS_PER_DAY,
    BaselineMetrics,
    ChainBaseline,
    GaugeBaseline,
    PoissonBaseline,
    Profile,
)
from .cadences import CadencesFile
from .library import LibraryFile, Timing
from .problems import ConfigProblem
from .streams import EnumField, NumberField, Stream, StreamsFile

PROFILE_MEAN_TOLERANCE = 0.05
STUDENTS_PER_TUTOR = (1.0, 8.0)
SUM_TOLERANCE = 1e-6
AGGREGATION_OF_METRIC = {
    "count": "sum",
    "amount": "sum",
    "rate": "mean",
    "duration": "mean",
    "gauge": "mean",
}


def duplicates(names: Iterable[str]) -> set[str]:
    """The names that occur more than once."""
    return {name for name, count in Counter(names).items() if count > 1}


# streams.json ------------------------------------------------------------------------------------


def check_streams(file: StreamsFile) -> list[ConfigProblem]:
    """Names unique, domain = first segment, shape/metric/aggregation agree, fields sane."""
    problems = [
        ConfigProblem(STREAMS_FILE, f"stream '{name}'", "name", "duplicate stream name")
        for name in sorted(duplicates(stream.name for stream in file.streams))
    ]
    for stream in file.streams:
        problems += _check_stream(stream)
    return problems


def _check_stream(stream: Stream) -> list[ConfigProblem]:
    entry = f"stream '{stream.name}'"
    found: list[tuple[str, str]] = []
    first_segment = stream.name.split(".")[0]
    if stream.domain != first_segment:
        found.append(("domain", f"'{stream.domain}' differs from the name's '{first_segment}'"))
    if stream.shape == "entity" and stream.metric != "count":
        found.append(("metric", "an entity stream counts events: its metric must be 'count'"))
    if stream.shape == "sample" and stream.metric == "count":
        found.append(("metric", "a sample measures a value: rate, duration, amount or gauge"))
    if stream.metric == "count" and stream.unit != "events/h":
        found.append(("unit", f"a count is in 'events/h', not '{stream.unit}'"))
    expected = AGGREGATION_OF_METRIC[stream.metric]
    if stream.aggregation != expected:
        found.append(
            ("aggregation", f"a '{stream.metric}' aggregates by '{expected}' into 12-hour buckets")
        )
    if stream.bounds.max is not None and stream.bounds.max < stream.bounds.min:
        found.append(("bounds.max", "max is below min"))
    if stream.shape == "entity" and not stream.id_fields():
        found.append(("fields", "an entity stream carries at least one id field"))
    for name, spec in stream.fields.items():
        found += [(f"fields.{name}.{field}", message) for field, message in _check_field(spec)]
    return [ConfigProblem(STREAMS_FILE, entry, field, message) for field, message in found]


def _check_field(spec: object) -> list[tuple[str, str]]:
    if isinstance(spec, EnumField):
        found = []
        if spec.weights is not None and len(spec.weights) != len(spec.values):
            found.append(("weights", f"{len(spec.weights)} weights for {len(spec.values)} values"))
        if duplicates(str(value) for value in spec.values):
            found.append(("values", "values repeat"))
        return found
    if isinstance(spec, NumberField):
        return _check_number_field(spec)
    return []


def _check_number_field(spec: NumberField) -> list[tuple[str, str]]:
    if spec.max < spec.min:
        return [("max", "max is below min")]
    if spec.dist != "uniform" and spec.mean is None:
        return [("mean", f"a {spec.dist} distribution needs a mean")]
    if spec.mean is not None and not spec.min <= spec.mean <= spec.max:
        return [("mean", f"mean {spec.mean} lies outside [{spec.min}, {spec.max}]")]
    if spec.dist == "lognormal" and spec.min < 0:
        return [("min", "a lognormal value cannot be negative")]
    return []


# stream-cadences.json ----------------------------------------------------------------------------


def check_cadences(file: CadencesFile, streams: Mapping[str, Stream]) -> list[ConfigProblem]:
    """All three groups exist, intervals are ordered, every stream's group exists."""
    problems = []
    for name in CADENCE_NAMES:
        if name not in file.groups:
            problems.append(
                ConfigProblem(CADENCES_FILE, f"cadence group '{name}'", "", "group is missing")
            )
    for name, group in file.groups.items():
        entry = f"cadence group '{name}'"
        if group.interval.min.total_seconds() <= 0:
            problems.append(ConfigProblem(CADENCES_FILE, entry, "interval.min", "must be > 0"))
        if group.interval.max < group.interval.min:
            problems.append(ConfigProblem(CADENCES_FILE, entry, "interval.max", "below min"))
        if group.stagger.max_offset > group.interval.max:
            problems.append(
                ConfigProblem(
                    CADENCES_FILE, entry, "stagger.maxOffset", "exceeds the longest interval"
                )
            )
    for topic in sorted(duplicates(group.topic for group in file.groups.values())):
        problems.append(ConfigProblem(CADENCES_FILE, "", "groups", f"topic '{topic}' repeats"))
    for stream in streams.values():
        if stream.cadence not in file.groups:
            problems.append(
                ConfigProblem(
                    STREAMS_FILE,
                    f"stream '{stream.name}'",
                    "cadence",
                    f"unknown cadence group '{stream.cadence}'",
                )
            )
    return problems


# baseline-metrics.json ---------------------------------------------------------------------------


def check_metrics(metrics: BaselineMetrics, streams: Mapping[str, Stream]) -> list[ConfigProblem]:
    """Every stream has one baseline of the right kind; profiles, rates, calendar are sane."""
    return [
        *_check_stream_baselines(metrics, streams),
        *_check_gauge_loads(metrics, streams),
        *_check_population(metrics, streams),
        *_check_rates(metrics),
        *_check_profiles(metrics.profiles),
        *_check_calendar(metrics),
        *_check_anomalies(metrics),
    ]


def _check_stream_baselines(
    metrics: BaselineMetrics, streams: Mapping[str, Stream]
) -> list[ConfigProblem]:
    problems = []
    for name in streams:
        if name not in metrics.streams:
            problems.append(
                ConfigProblem(
                    METRICS_FILE,
                    f"stream baseline '{name}'",
                    "",
                    "missing: every stream needs exactly one baseline model",
                )
            )
    for name, model in metrics.streams.items():
        entry = f"stream baseline '{name}'"
        stream = streams.get(name)
        if stream is None:
            problems.append(ConfigProblem(METRICS_FILE, entry, "", f"unknown stream '{name}'"))
            continue
        problems += [
            ConfigProblem(METRICS_FILE, entry, field, message)
            for field, message in _baseline_problems(model, stream, metrics)
        ]
    return problems


def _baseline_problems(
    model: object, stream: Stream, metrics: BaselineMetrics
) -> list[tuple[str, str]]:
    if stream.shape == "entity" and isinstance(model, GaugeBaseline):
        return [("model", "an entity stream is 'poisson' or 'chain', not 'gauge'")]
    if stream.shape == "sample" and not isinstance(model, GaugeBaseline):
        return [("model", "a sample stream is a 'gauge'")]
    if isinstance(model, ChainBaseline):
        return []
    assert isinstance(model, PoissonBaseline | GaugeBaseline)
    found = []
    if model.profile not in metrics.profiles:
        found.append(("profile", f"unknown profile '{model.profile}'"))
    if isinstance(model, GaugeBaseline):
        low, high = stream.bounds.min, stream.bounds.max
        if model.base < low or (high is not None and model.base > high):
            found.append(("base", f"{model.base} lies outside the stream's bounds"))
    return found


def _check_gauge_loads(
    metrics: BaselineMetrics, streams: Mapping[str, Stream]
) -> list[ConfigProblem]:
    """A gauge's load names another known stream, and loads never form a loop."""
    problems = []
    drivers: dict[str, str] = {}
    for name, model in metrics.streams.items():
        if not isinstance(model, GaugeBaseline) or model.load is None:
            continue
        entry = f"stream baseline '{name}'"
        if model.load.stream not in streams:
            problems.append(
                ConfigProblem(
                    METRICS_FILE, entry, "load.stream", f"unknown stream '{model.load.stream}'"
                )
            )
        elif model.load.stream == name:
            problems.append(
                ConfigProblem(METRICS_FILE, entry, "load.stream", "a gauge cannot be its own load")
            )
        else:
            drivers[name] = model.load.stream
    for name in drivers:
        seen = [name]
        while seen[-1] in drivers and drivers[seen[-1]] not in seen:
            seen.append(drivers[seen[-1]])
        if seen[-1] in drivers and drivers[seen[-1]] == name:
            loop = " -> ".join([*seen, name])
            problems.append(
                ConfigProblem(
                    METRICS_FILE, f"stream baseline '{name}'", "load.stream", f"loads loop: {loop}"
                )
            )
    return problems


def _check_population(
    metrics: BaselineMetrics, streams: Mapping[str, Stream]
) -> list[ConfigProblem]:
    population = metrics.population
    found: list[tuple[str, str]] = []
    ratio = population.students / population.tutors
    low, high = STUDENTS_PER_TUTOR
    if not low <= ratio <= high:
        found.append(("tutors", f"{ratio:.1f} students per tutor, expected {low:g}-{high:g}"))
    shares = sum(cohort.share for cohort in population.student_cohorts)
    if abs(shares - 1) > SUM_TOLERANCE:
        found.append(("studentCohorts", f"shares sum to {shares:g}, not 1"))
    for cohort in sorted(duplicates(c.cohort for c in population.student_cohorts)):
        found.append(("studentCohorts", f"cohort '{cohort}' repeats"))
    for index, cohort in enumerate(population.student_cohorts):
        message = rate_problem(metrics, cohort.churn_rate, "perMonth")
        if message:
            found.append((f"studentCohorts[{index}].churnRate", message))
    for field, name in (
        ("sessionStream", population.session_stream),
        ("churnStream", population.churn_stream),
    ):
        if name not in streams:
            found.append((field, f"unknown stream '{name}'"))
        elif streams[name].shape != "entity":
            found.append((field, f"'{name}' is a sample stream; a volume needs an entity stream"))
    problems = [ConfigProblem(METRICS_FILE, "population", f, m) for f, m in found]
    return problems + _check_pools(metrics, streams)


def _check_pools(metrics: BaselineMetrics, streams: Mapping[str, Stream]) -> list[ConfigProblem]:
    """`source: population` ids need a pool of existing entities to draw from."""
    problems = []
    for stream in streams.values():
        for name, spec in stream.id_fields().items():
            if spec.source == "population" and metrics.population.pool_size(spec.entity) is None:
                problems.append(
                    ConfigProblem(
                        STREAMS_FILE,
                        f"stream '{stream.name}'",
                        f"fields.{name}.source",
                        f"no population pool of '{spec.entity}' (pools: student, tutor, "
                        "subscription, campaign): use 'new' or 'parent'",
                    )
                )
    return problems


def rate_problem(metrics: BaselineMetrics, name: str, unit: str) -> str | None:
    """Why `name` cannot serve as a rate of `unit`, or None if it can."""
    rate = metrics.rates.get(name)
    if rate is None:
        return f"unknown rate '{name}'"
    if rate.unit != unit:
        return f"rate '{name}' is in '{rate.unit}', expected '{unit}'"
    return None


def _check_rates(metrics: BaselineMetrics) -> list[ConfigProblem]:
    problems = []
    for name, rate in metrics.rates.items():
        entry = f"rate '{name}'"
        if rate.unit in ("probability", "perMonth") and rate.value > 1:
            problems.append(
                ConfigProblem(METRICS_FILE, entry, "value", f"a {rate.unit} lies in [0, 1]")
            )
        if rate.unit == "hours" and rate.value <= 0:
            problems.append(ConfigProblem(METRICS_FILE, entry, "value", "hours must be > 0"))
    return problems


def _check_profiles(profiles: Mapping[str, Profile]) -> list[ConfigProblem]:
    problems = []
    for name, profile in profiles.items():
        for field, values in (("weekday", profile.weekday), ("weekend", profile.weekend)):
            mean = sum(values) / HOURS_PER_DAY
            if abs(mean - 1) > PROFILE_MEAN_TOLERANCE:
                problems.append(
                    ConfigProblem(
                        METRICS_FILE,
                        f"profile '{name}'",
                        field,
                        f"the 24 values average {mean:.3f}; keep the mean within "
                        f"1 +/- {PROFILE_MEAN_TOLERANCE} (the level belongs in rates)",
                    )
                )
    return problems


def _check_calendar(metrics: BaselineMetrics) -> list[ConfigProblem]:
    problems = [
        ConfigProblem(METRICS_FILE, f"calendar period '{name}'", "id", "duplicate period id")
        for name in sorted(duplicates(period.id for period in metrics.calendar.periods))
    ]
    for period in metrics.calendar.periods:
        entry = f"calendar period '{period.id}'"
        by_dates = period.start is not None and period.end is not None
        partial = (period.start is None) != (period.end is None)
        if partial or by_dates == (period.rule is not None):
            problems.append(
                ConfigProblem(METRICS_FILE, entry, "", "give either 'start' and 'end' or 'rule'")
            )
        for profile in period.multipliers:
            if profile not in metrics.profiles:
                field, message = f"multipliers.{profile}", f"unknown profile '{profile}'"
                problems.append(ConfigProblem(METRICS_FILE, entry, field, message))
    return problems


def _check_anomalies(metrics: BaselineMetrics) -> list[ConfigProblem]:
    magnitude = metrics.anomalies.magnitude
    if magnitude.max < magnitude.min:
        return [ConfigProblem(METRICS_FILE, "anomalies", "magnitude.max", "below min")]
    return []


# external-events-library.json --------------------------------------------------------------------


def check_library(file: LibraryFile, streams: Mapping[str, Stream]) -> list[ConfigProblem]:
    """Template ids unique, impacted streams known, timing fields fit the pattern."""
    magnitudes = file.magnitudes
    problems = []
    if not magnitudes.low < magnitudes.medium < magnitudes.high:
        problems.append(
            ConfigProblem(LIBRARY_FILE, "magnitudes", "", "expected low < medium < high")
        )
    problems += [
        ConfigProblem(LIBRARY_FILE, f"template '{name}'", "id", "duplicate template id")
        for name in sorted(duplicates(template.id for template in file.templates))
    ]
    for template in file.templates:
        entry = f"template '{template.id}'"
        impacts = template.expected_impact.streams
        for index, impact in enumerate(impacts):
            if impact.stream not in streams:
                problems.append(
                    ConfigProblem(
                        LIBRARY_FILE,
                        entry,
                        f"expectedImpact.streams[{index}].stream",
                        f"unknown stream '{impact.stream}'",
                    )
                )
        for name in sorted(duplicates(impact.stream for impact in impacts)):
            problems.append(
                ConfigProblem(
                    LIBRARY_FILE, entry, "expectedImpact.streams", f"stream '{name}' repeats"
                )
            )
        problems += [
            ConfigProblem(LIBRARY_FILE, entry, f"timing.{field}", message)
            for field, message in _timing_problems(template.timing)
        ]
    return problems


def _timing_problems(timing: Timing) -> list[tuple[str, str]]:
    found = []
    if (timing.pattern == "calendar") != (timing.months is not None):
        found.append(("months", "months are given exactly for the calendar pattern"))
    if timing.cluster_size is not None:
        if timing.pattern != "clustered":
            found.append(("clusterSize", "only the clustered pattern has a cluster size"))
        elif timing.cluster_size.max < timing.cluster_size.min:
            found.append(("clusterSize.max", "below min"))
    return found
