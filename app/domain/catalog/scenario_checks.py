"""Checks of one scenario against the catalog. A scenario with problems is skipped, not fatal."""

from collections import Counter
from collections.abc import Mapping, Sequence

from ._base import SCENARIOS_FILE
from .baseline_metrics import BaselineMetrics, ChainBaseline
from .library import EventTemplate
from .problems import ConfigProblem
from .rule_checks import Found, target_problem
from .scenarios import (
    DeliveryFaultSpec,
    Modifier,
    Scenario,
    ScenarioCascade,
    Settling,
    ShapeSpec,
    fault_stream_problem,
    fault_value_problem,
    shape_duration_problem,
    shape_stream_problem,
    shape_value_problem,
)
from .streams import Stream


def check_scenario(
    scenario: Scenario,
    streams: Mapping[str, Stream],
    metrics: BaselineMetrics,
    templates: Mapping[str, EventTemplate],
    effects_of: Mapping[str, Sequence[str]] | None = None,
) -> list[ConfigProblem]:
    """Targets exist and accept their modifier type, events exist, settling is complete,
    faults of delivery fit their streams (`effects_of`: the streams each stream's events
    cause), shapes fit their streams and the scenario's time."""
    found: Found = []
    if scenario.duration.total_seconds() <= 0:
        found.append(("duration", "must be longer than zero"))
    for index, modifier in enumerate(scenario.modifiers):
        found += _prefixed(f"modifiers[{index}]", _modifier_problems(modifier, streams, metrics))
    for index, rule in enumerate(scenario.cascade_rules):
        found += _prefixed(
            f"cascadeRules[{index}]", _cascade_problems(rule, scenario, streams, metrics)
        )
    found += _override_conflicts(scenario.modifiers)
    for index, event in enumerate(scenario.events):
        if event.template not in templates:
            found.append((f"events[{index}].template", f"unknown template '{event.template}'"))
        if event.offset > scenario.duration:
            found.append((f"events[{index}].offset", "falls after the scenario's end"))
    found += _prefixed("settling", _settling_problems(scenario.settling, streams))
    for index, fault in enumerate(scenario.deliveries):
        found += _prefixed(
            f"deliveries[{index}]", _fault_problems(fault, streams, effects_of or {})
        )
    for index, shape in enumerate(scenario.shapes):
        found += _prefixed(f"shapes[{index}]", _shape_problems(shape, scenario, metrics))
    entry = f"scenario '{scenario.id}'"
    return [ConfigProblem(SCENARIOS_FILE, entry, field, message) for field, message in found]


def _prefixed(prefix: str, found: Found) -> Found:
    return [(f"{prefix}.{field}", message) for field, message in found]


def _modifier_problems(
    modifier: Modifier, streams: Mapping[str, Stream], metrics: BaselineMetrics
) -> Found:
    problem = target_problem(modifier.target, streams, metrics)
    if problem:
        return [(f"target.{problem[0]}", problem[1])]
    if modifier.type == "multiplier" and modifier.value <= 0:
        return [("value", f"a multiplier must be > 0, got {modifier.value:g}")]
    if modifier.target.stream is not None:
        return _stream_modifier_problems(modifier, streams[modifier.target.stream], metrics)
    assert modifier.target.rate is not None
    rate = metrics.rates[modifier.target.rate]
    if rate.unit == "probability":
        if modifier.type == "additive":
            return [("type", "use 'probabilityShift' to move a probability")]
        if modifier.type == "override" and not 0 <= modifier.value <= 1:
            return [("value", f"a probability lies in [0, 1], got {modifier.value:g}")]
        if modifier.type == "probabilityShift" and not -1 <= modifier.value <= 1:
            return [("value", f"a probability shift lies in [-1, 1], got {modifier.value:g}")]
        return []
    if modifier.type == "probabilityShift":
        return [("type", f"rate '{modifier.target.rate}' is in {rate.unit}, not a probability")]
    if modifier.type == "override" and modifier.value < 0:
        return [("value", "a rate cannot be negative")]
    return []


def _stream_modifier_problems(
    modifier: Modifier, stream: Stream, metrics: BaselineMetrics
) -> Found:
    model = metrics.streams[stream.name]
    if modifier.type == "probabilityShift":
        return [("type", "a probability shift targets a rate, not a stream")]
    if isinstance(model, ChainBaseline) and modifier.type != "multiplier":
        return [
            (
                "type",
                f"'{stream.name}' is produced by rules and has no rate of its own: only a "
                "multiplier applies (it scales the rules that produce it)",
            )
        ]
    low, high = stream.bounds.min, stream.bounds.max
    if modifier.type == "override" and (
        modifier.value < low or (high is not None and modifier.value > high)
    ):
        return [("value", f"{modifier.value:g} lies outside the stream's bounds")]
    return []


def _cascade_problems(
    rule: ScenarioCascade,
    scenario: Scenario,
    streams: Mapping[str, Stream],
    metrics: BaselineMetrics,
) -> Found:
    found = _modifier_problems(rule, streams, metrics)
    if rule.after > scenario.duration:
        found.append(("after", "starts after the scenario's end"))
    return found


def _override_conflicts(modifiers: tuple[Modifier, ...]) -> Found:
    """Two overrides of one target at the same precedence: which one wins is undefined."""
    keys = Counter((str(m.target), m.precedence) for m in modifiers if m.type == "override")
    return [
        ("modifiers", f"two overrides of {target} at the same precedence: give one a higher one")
        for (target, _), count in keys.items()
        if count > 1
    ]


def _settling_problems(settling: Settling, streams: Mapping[str, Stream]) -> Found:
    found: Found = []
    if settling.curve == "exponential" and settling.half_life is None:
        found.append(("halfLife", "an exponential settling needs a halfLife"))
    if settling.curve != "exponential" and settling.half_life is not None:
        found.append(("halfLife", "only an exponential settling has a halfLife"))
    if settling.half_life is not None and settling.half_life > settling.duration:
        found.append(("halfLife", "longer than the settling itself"))
    if settling.backlog is not None:
        if settling.curve != "immediate":
            found.append(("backlog", "only an immediate settling has a backlog"))
        for index, name in enumerate(settling.backlog.streams):
            if name not in streams:
                found.append((f"backlog.streams[{index}]", f"unknown stream '{name}'"))
    return found


def _fault_problems(
    fault: DeliveryFaultSpec,
    streams: Mapping[str, Stream],
    effects_of: Mapping[str, Sequence[str]],
) -> Found:
    if fault.stream not in streams:
        return [("stream", f"unknown stream '{fault.stream}'")]
    found: Found = []
    problem = fault_stream_problem(fault.type, fault.stream, effects_of.get(fault.stream, ()))
    if problem:
        found.append(("stream", problem))
    problem = fault_value_problem(fault.type, fault.value)
    if problem:
        found.append(("value", problem))
    return found


def _shape_problems(shape: ShapeSpec, scenario: Scenario, metrics: BaselineMetrics) -> Found:
    """The rules a manual modifier of the shape's type meets, and a start within the
    scenario's duration."""
    baseline = metrics.streams.get(shape.stream)
    if baseline is None:
        return [("stream", f"unknown stream '{shape.stream}'")]
    found: Found = []
    rises_and_falls = metrics.day_rises_and_falls(shape.stream)
    problem = shape_stream_problem(shape.type, shape.stream, baseline.model, rises_and_falls)
    if problem:
        found.append(problem)
    value_problem = shape_value_problem(shape.type, shape.value)
    if value_problem:
        found.append(("value", value_problem))
    if shape.after >= scenario.duration:
        found.append(("after", "starts after the scenario's end"))
    lasts = scenario.duration - shape.after if shape.duration is None else shape.duration
    duration_problem = shape_duration_problem(shape.type, lasts)
    if duration_problem or lasts.total_seconds() <= 0:
        found.append(("duration", duration_problem or "must be longer than zero"))
    return found
