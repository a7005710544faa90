"""Expected volumes of the flow model: what the roots and the rules produce on an average day.

Roots emit `ratePerHour x 24 x weekly mean of their profile` events a day (before calendar and
growth); every rule passes `probability x share of causing events that meet its condition` of
its source's volume to its target. With R the root volumes and P the rule matrix, the volumes
solve x = R + P^T x. The spectral radius of P (its largest eigenvalue in absolute value) must stay
below 1: at 1 or more, some loop of rules gives back at least one event for each event that
enters it, and the volumes grow without bound. A loop's radius is its probability product to
the power 1/length (a 3-rule loop of product 1.82 has radius 1.22).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from .baseline_metrics import HOURS_PER_DAY, PoissonBaseline, Profile, Rate, StreamBaseline
from .relationships import Condition, Edge
from .streams import BooleanField, EnumField, Stream


@dataclass(frozen=True)
class Flow:
    """Expected events per day (weekly average) of each entity stream; the spectral radius of
    the rule matrix (>= 1: the flow explodes and every volume is infinite)."""

    daily: Mapping[str, float]
    spectral_radius: float


def condition_share(condition: Condition | None, source: Stream) -> float:
    """The share of the source's events that pass the condition (1 without a condition)."""
    if condition is None:
        return 1.0
    spec = source.fields.get(condition.field)
    if isinstance(spec, BooleanField):
        p = spec.probability
        return p * condition.holds(True) + (1 - p) * condition.holds(False)
    if isinstance(spec, EnumField):
        weights = spec.weights or (1.0,) * len(spec.values)
        passing = sum(w for v, w in zip(spec.values, weights, strict=True) if condition.holds(v))
        return passing / sum(weights)
    raise ValueError(f"condition on field {condition.field!r}: not an enum or boolean field")


def compute_flow(
    streams: Mapping[str, Stream],
    baselines: Mapping[str, StreamBaseline],
    profiles: Mapping[str, Profile],
    rates: Mapping[str, Rate],
    rules: Iterable[Edge],
) -> Flow:
    """Solve the steady-state daily volumes; expects a config whose references all resolve."""
    names = [name for name, stream in streams.items() if stream.shape == "entity"]
    index = {name: i for i, name in enumerate(names)}
    roots = np.zeros(len(names))
    for name in names:
        model = baselines[name]
        if isinstance(model, PoissonBaseline):
            weekly_mean = profiles[model.profile].weekly_mean
            roots[index[name]] = model.rate_per_hour * HOURS_PER_DAY * weekly_mean
    matrix = np.zeros((len(names), len(names)))
    for rule in rules:
        share = condition_share(rule.condition, streams[rule.source])
        matrix[index[rule.source], index[rule.target]] += rates[rule.probability].value * share
    spectral_radius = float(max(abs(np.linalg.eigvals(matrix)), default=0.0)) if names else 0.0
    if spectral_radius >= 1:
        return Flow({name: float("inf") for name in names}, spectral_radius)
    daily = np.linalg.solve(np.eye(len(names)) - matrix.T, roots)
    return Flow({name: float(daily[index[name]]) for name in names}, spectral_radius)
