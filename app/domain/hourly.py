"""The hourly flow: every stream's value, hour by hour, from the roots through the rules.

Roots draw Poisson counts; each rule passes a binomial share of its source's events to its
target, spread over the following hours by the rule's delay kernel; an exclusive chain splits
its source's events among its outcomes (multinomially). Counts are conserved: every caused
event has one cause, and the events whose delay reaches past the end are reported as pending.
Gauges sample a value around their level, following their load.

Without a random generator the same code computes expectations (floats instead of draws): the
"expected" run that couplings and gauges compare the realized run against.

A loop of rules (declined booking -> search again -> booking) is done in sweeps: the events
that a loop-closing rule causes feed the next sweep, which only carries those extra events
downstream. Couplings and gauges are set in the first sweep (the later sweeps add about 3% to
the loop's streams). A loop closed by a coupling or a gauge's load (payments load the gateway,
whose latency raises payment failures) reads that driver from a preliminary expected run
under the same conditions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from app.domain.calendar import HOUR, hour_grid
from app.domain.capacity import CapacitySpec, daily_around, sum_before, within_capacity
from app.domain.effects import Adjust, Effects, Release
from app.domain.model import ChainGroup, CouplingSpec, Gauge, MarketModel, Rule
from app.domain.timerange import utc

MAX_SWEEPS = 12
SWEEP_TOLERANCE = 1e-9
"""Sweeps stop once the events a loop still sends round are this share of all events: an
expectation's loop never empties (it shrinks by the loop's gain each sweep), a draw's does."""
_FEW_OFFSETS = 4


@dataclass(frozen=True)
class HourlyRun:
    """Values per stream and hour (rows follow `MarketModel.names`), plus the events of each
    rule still pending (due after the last hour), in total and per hour after the end."""

    start: datetime
    values: np.ndarray
    pending: np.ndarray
    overflow: dict[int, np.ndarray]


@dataclass(frozen=True)
class Conditions:
    """What bends the flow, hour by hour (ones and empties mean the plain baseline).

    `stream_factor[s, h]` multiplies a root's rate, a gauge's value, or the probability of
    every rule that produces a chain stream. `rate_factor[name][h]` multiplies a named rate."""

    stream_factor: np.ndarray | None = None
    rate_factor: dict[str, np.ndarray] | None = None
    effects: Sequence[Effects] | None = None
    """Alternatively (or as well), the effects in force at each hour (see app/domain/effects)."""
    releases: Sequence[Release] = ()
    """Caused events held back and let go later (a scenario's backlog)."""


class _Adjustments:
    """Per-hour arrays of an `Adjust` for one target: factor, add, override (NaN: none), weight,
    and the hours its stream is decoupled from its causes."""

    def __init__(self, hours: int) -> None:
        self.factor = np.ones(hours)
        self.add = np.zeros(hours)
        self.override = np.full(hours, np.nan)
        self.weight = np.zeros(hours)
        self.decoupled = np.zeros(hours, dtype=bool)

    def set(self, h: int, adjust: Adjust) -> None:
        self.factor[h], self.add[h] = adjust.factor, adjust.add
        self.decoupled[h] = adjust.decoupled
        if adjust.override is not None:
            self.override[h], self.weight[h] = adjust.override, adjust.weight

    def apply(self, base: np.ndarray) -> np.ndarray:
        value = base * self.factor + self.add
        overridden = ~np.isnan(self.override)
        value[overridden] += (self.override[overridden] - value[overridden]) * self.weight[
            overridden
        ]
        return value


def _adjustments(effects: Sequence[Effects], hours: int):
    streams: dict[int, _Adjustments] = {}
    rates: dict[str, _Adjustments] = {}
    for h, at_hour in enumerate(effects):
        for stream, adjust in at_hour.streams.items():
            streams.setdefault(stream, _Adjustments(hours)).set(h, adjust)
        for name, adjust in at_hour.rates.items():
            rates.setdefault(name, _Adjustments(hours)).set(h, adjust)
    return streams, rates


def simulate(
    model: MarketModel,
    start: datetime,
    hours: int,
    *,
    rng: np.random.Generator | None = None,
    expected: HourlyRun | None = None,
    conditions: Conditions = Conditions(),
    preliminary: HourlyRun | None = None,
) -> HourlyRun:
    """Run the flow over `hours` hours from `start`.

    With `rng`, values are drawn (and `expected`, the plain run without rng, is needed:
    couplings and gauge loads compare against it); without, they are expectations.
    `preliminary` is the expectation under the same conditions, if the caller has it: links
    that close a loop read their drivers from it (it is computed when missing)."""
    if rng is not None and expected is None:
        raise ValueError("a drawn run needs the expected run to compare loads against")
    lagged = None
    if model.loops.lagged and expected is not None:
        if preliminary is None:
            preliminary = _Flow(model, start, hours, None, expected, conditions, None).run()
        lagged = preliminary.values
    return _Flow(model, start, hours, rng, expected, conditions, lagged).run()


class _Flow:
    def __init__(
        self,
        model: MarketModel,
        start: datetime,
        hours: int,
        rng: np.random.Generator | None,
        expected: HourlyRun | None,
        conditions: Conditions,
        lagged: np.ndarray | None,
    ) -> None:
        self.model = model
        self.start = start
        self.hours = hours
        self.rng = rng
        self.grid = hour_grid(start, hours)
        shape = (model.stream_count, hours)
        self.expected = expected.values if expected is not None else None
        self.factor = (
            conditions.stream_factor if conditions.stream_factor is not None else np.ones(shape)
        )
        self.rate_factor = dict(conditions.rate_factor or {})
        self.stream_adjust, self.rate_adjust = _adjustments(conditions.effects or (), hours)
        self._releases = _released_hours(conditions.releases, start, hours)
        self.coupled_stream = np.ones(shape)
        self.values = np.zeros(shape)
        self.added = np.zeros(shape)
        self.arrivals = np.zeros(shape)
        self.deferred = np.zeros(shape)
        self.pending = np.zeros(len(model.rules))
        self.overflow: dict[int, np.ndarray] = {}
        self.lagged = lagged
        self._kernels: dict[int, np.ndarray] = {}
        self._shares: dict[str, list[np.ndarray]] = {}
        self._cascade_probability: dict[int, np.ndarray] = {}
        self._landings: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._asked: dict[str, np.ndarray] = {}

    def _driver_values(self, stream: int, lagged: bool) -> np.ndarray:
        """A driver's values: as computed so far, or (for a link that closes a loop) from the
        preliminary run; without one, the driver is taken to be as expected."""
        if not lagged:
            return self.values[stream]
        source = self.lagged if self.lagged is not None else self.expected
        return source[stream]

    # Draws: random with a generator, expectations without --------------------------------------

    def _poisson(self, lam: np.ndarray) -> np.ndarray:
        return lam if self.rng is None else self.rng.poisson(lam).astype(float)

    def _binomial(self, n: np.ndarray, p: np.ndarray) -> np.ndarray:
        p = np.clip(p, 0.0, 1.0)
        if self.rng is None:
            return n * p
        return self.rng.binomial(n.astype(np.int64), p).astype(float)

    # The sweeps ----------------------------------------------------------------------------------

    def run(self) -> HourlyRun:
        for index in self.model.loops.lagged_couplings:
            self._apply_coupling(self.model.couplings[index], lagged=True)
        for node in self.model.order:
            self._step(node, first_sweep=True)
        sweeps = 1
        while self._loop_open() and sweeps < MAX_SWEEPS:
            self.arrivals, self.deferred = self.deferred, np.zeros_like(self.deferred)
            for node in self.model.chain_order:
                self._step(node, first_sweep=False)
            sweeps += 1
        return HourlyRun(self.start, self.values, self.pending, self.overflow)

    def _loop_open(self) -> bool:
        return self.deferred.sum() > max(SWEEP_TOLERANCE * self.values.sum(), 1e-9)

    def _step(self, node: tuple[str, int], first_sweep: bool) -> None:
        kind, stream = node
        if kind == "rules":
            self._apply_rules(stream)
            return
        if first_sweep:
            self.added[stream] = self._own_values(stream)
        else:
            self.added[stream] = self.arrivals[stream]
            self.added[stream, self._decoupled_hours(stream)] = 0.0
        self.values[stream] += self.added[stream]
        if first_sweep:
            self._update_couplings(stream)

    def _own_values(self, stream: int) -> np.ndarray:
        root = self.model.root_of.get(stream)
        if root is not None:
            lam = self._adjusted(stream, self.model.root_rate(root, self.grid))
            return self._poisson(np.maximum(lam * self.coupled_stream[stream], 0.0))
        gauge = self.model.gauge_of.get(stream)
        if gauge is not None:
            return self._gauge_values(gauge)
        arrivals = self.arrivals[stream].copy()
        decoupled = self._decoupled_hours(stream)
        if decoupled.any():
            arrivals[decoupled] = self._poisson(self.expected[stream, decoupled])
        return arrivals

    def _decoupled_hours(self, stream: int) -> np.ndarray:
        """The hours a caused stream does not follow its causes (a correlation break): it
        takes the plain expectation of the hour instead of what its causes send."""
        adjust = self.stream_adjust.get(stream)
        if adjust is None or self.expected is None:
            return np.zeros(self.hours, dtype=bool)
        return adjust.decoupled

    def _adjusted(self, stream: int, base: np.ndarray) -> np.ndarray:
        value = base * self.factor[stream]
        adjust = self.stream_adjust.get(stream)
        return adjust.apply(value) if adjust is not None else value

    def _gauge_values(self, gauge: Gauge) -> np.ndarray:
        level = self._adjusted(gauge.stream, self.model.gauge_level(gauge, self.grid))
        level = np.maximum(level, 0.0) * self.coupled_stream[gauge.stream]
        if gauge.load is not None and self.expected is not None:
            lagged = gauge.stream in self.model.loops.lagged_loads
            load = _trailing_sum(self._driver_values(gauge.load, lagged), gauge.load_hours)
            plain = _trailing_sum(self.expected[gauge.load], gauge.load_hours)
            level = level * _ratio(load, plain) ** gauge.elasticity
        if self.rng is not None and gauge.noise > 0:
            level = level * (1.0 + gauge.noise * self.rng.standard_normal(self.hours))
        return np.clip(level, gauge.low, gauge.high)

    def _update_couplings(self, driver: int) -> None:
        """Apply the couplings this stream drives (those not closing a loop)."""
        for index, coupling in enumerate(self.model.couplings):
            if coupling.driver == driver and index not in self.model.loops.lagged_couplings:
                self._apply_coupling(coupling, lagged=False)

    def _apply_coupling(self, coupling: CouplingSpec, lagged: bool) -> None:
        """target x (driver over the trailing window / expected over it) ^ elasticity."""
        if self.expected is None:
            return
        window = coupling.window_hours
        ratio = _ratio(
            _trailing_sum(self._driver_values(coupling.driver, lagged), window),
            _trailing_sum(self.expected[coupling.driver], window),
        )
        factor = ratio**coupling.elasticity
        if coupling.target_stream is not None:
            self.coupled_stream[coupling.target_stream] *= factor
        else:
            name = coupling.target_rate
            self.rate_factor[name] = self.rate_factor.get(name, 1.0) * factor

    # Rules ---------------------------------------------------------------------------------------

    def _rate(self, rule: Rule) -> np.ndarray:
        """The rule's named rate per hour: couplings and explicit changes included."""
        p = self.model.rates[rule.rate] * self.rate_factor.get(rule.rate, 1.0) * np.ones(self.hours)
        adjust = self.rate_adjust.get(rule.rate)
        return np.clip(adjust.apply(p), 0.0, 1.0) if adjust is not None else p

    def _within_capacity(self, capacity: CapacitySpec, probabilities: np.ndarray) -> np.ndarray:
        """A chain's outcome probabilities once its capacity has served what it can
        (`app.domain.capacity`). The demand is read from the preliminary run when there is one:
        it holds the requests a saturated day sends round the loop again (a declined student
        books anew), which this run's first sweep does not have yet."""
        if capacity.chain not in self._asked:
            source = self.lagged if self.lagged is not None else self.values
            demand = source[capacity.demand]
            plain = self.expected[capacity.demand] if self.expected is not None else demand
            window = capacity.window_hours
            ratio = _ratio(sum_before(demand, window), sum_before(plain, window))
            limit = self.model.capacity_limit(capacity, self.grid)
            self._asked[capacity.chain] = ratio * daily_around(plain) / limit
        return within_capacity(probabilities, capacity, self._asked[capacity.chain])

    def _probability(self, rule: Rule) -> np.ndarray:
        p = self._rate(rule)
        target = self.factor[rule.target]
        if rule.target in self.stream_adjust:
            target = target * self.stream_adjust[rule.target].factor
        return np.minimum(p * rule.share * target, 1.0)

    def _apply_rules(self, stream: int) -> None:
        """The rules the stream's new events start. Probabilities are final once the sweep
        reaches a stream's rules (the couplings that change them come first in the order),
        so later sweeps reuse them."""
        events = self.added[stream]
        if not events.any():
            return
        for group in self.model.chains_from[stream]:
            self._split_chain(group, events)
        for rule in self.model.cascades_from[stream]:
            if rule.index not in self._cascade_probability:
                self._cascade_probability[rule.index] = self._probability(rule)
            p = self._cascade_probability[rule.index]
            self._spread(rule, self._binomial(events, p))

    def _split_chain(self, group: ChainGroup, events: np.ndarray) -> None:
        rules = [self.model.rules[i] for i in group.rules]
        remaining = events
        for rule, share in zip(rules, self._chain_shares(group, rules), strict=True):
            outcome = self._binomial(remaining, share)
            self._spread(rule, outcome)
            remaining = remaining - outcome

    def _chain_shares(self, group: ChainGroup, rules: list[Rule]) -> list[np.ndarray]:
        """Each outcome's share of the events the outcomes before it left over."""
        if group.rule_id not in self._shares:
            base = np.array([self.model.rates[r.rate] for r in rules])
            rates = np.vstack([self._rate(r) for r in rules])
            probabilities = exclusive_probabilities(
                base,
                np.vstack([self._probability(r) for r in rules]),
                group.has_remainder,
                fixed=~np.isclose(rates, base[:, None]),
            )
            capacity = self.model.capacities.get(group.rule_id)
            if capacity is not None:
                probabilities = self._within_capacity(capacity, probabilities)
            shares = []
            left = np.ones(self.hours)
            for p in probabilities:
                shares.append(np.divide(p, left, out=np.zeros_like(p), where=left > 1e-12))
                left = left - p
            self._shares[group.rule_id] = shares
        return self._shares[group.rule_id]

    def _spread(self, rule: Rule, events: np.ndarray) -> None:
        """Place the events a rule causes in the hours their delays lead to (those a backlog
        holds, in the hours it lets them go)."""
        released = np.zeros(self.hours + rule.kernel.size)
        for release in self._releases.get(rule.target, ()):
            held = self._binomial(events, release.held)
            events = events - held
            released += self._let_go(held.sum(), release.share, released.size)
        if self.rng is None:
            landed = self._expected_landings(rule, events)
        else:
            landed = self._drawn_landings(rule, events)
        landed = landed + released
        target = self.deferred if rule.index in self.model.loops.deferred_rules else self.arrivals
        target[rule.target] += landed[: self.hours]
        beyond = landed[self.hours :]
        self.pending[rule.index] += beyond.sum()
        if rule.index in self.overflow:
            self.overflow[rule.index] = self.overflow[rule.index] + beyond
        else:
            self.overflow[rule.index] = beyond

    def _let_go(self, total: float, share: np.ndarray, size: int) -> np.ndarray:
        """`total` events spread over the hours of a release (`share` of it in each hour),
        as many hours as the landing array has (the last takes what lies beyond)."""
        if total <= 0:
            return np.zeros(size)
        portion = np.zeros(size)
        kept = min(size, share.size)
        portion[:kept] = share[:kept]
        portion[-1] += share[kept:].sum()
        if self.rng is None:
            return total * portion
        return self.rng.multinomial(round(total), portion).astype(float)

    def _expected_landings(self, rule: Rule, events: np.ndarray) -> np.ndarray:
        """Expected landings: each hour's events times the kernel, added at their offsets.

        With a landing profile the kernel of source hour h is `kernel[k] x w[h + k] / n[h]`
        (n normalizes each row), so the landings at hour t are `w[t]` times the plain
        convolution of `events / n` with the kernel: one 1-D convolution, not hours x width
        products."""
        width = rule.kernel.size
        landed = np.zeros(self.hours + width)
        if rule.landing_profile is None:
            landed[: self.hours + width - 1] = np.convolve(events, rule.kernel)
            return landed
        weights, norms = self._landing(rule)
        landed[: self.hours + width - 1] = np.convolve(events / norms, rule.kernel)
        return landed * weights

    def _drawn_landings(self, rule: Rule, events: np.ndarray) -> np.ndarray:
        kernel = self._kernel(rule)
        width = kernel.shape[-1]
        if width <= _FEW_OFFSETS:
            return self._draw_offsets_by_hour(events, kernel)
        return self._draw_offsets_by_event(events, kernel)

    def _draw_offsets_by_hour(self, events: np.ndarray, kernel: np.ndarray) -> np.ndarray:
        """Multinomial split of each hour's events over a few offsets (sequential binomials)."""
        width = kernel.shape[-1]
        landed = np.zeros(self.hours + width)
        remaining = events
        left = np.ones(self.hours)
        for k in range(width):
            q = kernel[..., k]
            share = np.divide(q, left, out=np.zeros(self.hours), where=left > 1e-12)
            moved = self._binomial(remaining, np.minimum(share, 1.0))
            landed[k : k + self.hours] += moved
            remaining = remaining - moved
            left = left - q
        return landed

    def _draw_offsets_by_event(self, events: np.ndarray, kernel: np.ndarray) -> np.ndarray:
        """Draw each event's offset from its hour's kernel by inverse CDF, all at once: row r
        of the cumulative kernels is shifted by r, so one sorted array serves every row."""
        width = kernel.shape[-1]
        counts = events.astype(np.int64)
        source = np.repeat(np.arange(self.hours), counts)
        cdf = np.cumsum(np.atleast_2d(kernel), axis=1)
        cdf[:, -1] = 1.0
        rows = source if cdf.shape[0] > 1 else np.zeros_like(source)
        shifted = (cdf + np.arange(cdf.shape[0])[:, None]).ravel()
        u = self.rng.random(source.size)
        offsets = np.searchsorted(shifted, rows + u, side="right") - rows * width
        offsets = np.minimum(offsets, width - 1)
        return np.bincount(source + offsets, minlength=self.hours + width).astype(float)

    def _kernel(self, rule: Rule) -> np.ndarray:
        """The hour-offset kernel, per source hour when landings prefer a profile's hours."""
        if rule.landing_profile is None:
            return rule.kernel
        if rule.index not in self._kernels:
            self._kernels[rule.index] = self._landing_kernel(rule)
        return self._kernels[rule.index]

    def _landing_kernel(self, rule: Rule) -> np.ndarray:
        weights, norms = self._landing(rule)
        offsets = np.arange(self.hours)[:, None] + np.arange(rule.kernel.size)[None, :]
        return rule.kernel[None, :] * weights[offsets] / norms[:, None]

    def _landing(self, rule: Rule) -> tuple[np.ndarray, np.ndarray]:
        """A landing profile's weight at each hour of the span and past it, and for each
        source hour the sum that normalizes its row of the kernel."""
        if rule.index not in self._landings:
            width = rule.kernel.size
            weights = self.model.landing_weights(
                rule.landing_profile, self.start, self.hours + width
            )
            norms = np.correlate(weights, rule.kernel, mode="valid")[: self.hours]
            self._landings[rule.index] = (weights, norms)
        return self._landings[rule.index]


@dataclass(frozen=True)
class _HourlyRelease:
    """A release on the hour grid: the share of each source hour's events it holds, and
    the share of the held events it lets go in each hour (from the grid's start on)."""

    held: np.ndarray
    share: np.ndarray


def _released_hours(
    releases: Sequence[Release], start: datetime, hours: int
) -> dict[int, list[_HourlyRelease]]:
    found: dict[int, list[_HourlyRelease]] = {}
    for release in releases:
        held = _overlap(_edges(start, hours), release.held_from, release.held_until)
        span = max(int(np.ceil((release.end - start) / HOUR)), 1)
        share = _overlap(_edges(start, span), release.start, release.end)
        if held.any() and share.sum() > 0:
            found.setdefault(release.stream, []).append(_HourlyRelease(held, share / share.sum()))
    return found


def _edges(start: datetime, hours: int) -> np.ndarray:
    """The `hours + 1` hour boundaries from `start`, as UTC microseconds."""
    return _micro(start) + np.arange(hours + 1) * np.timedelta64(3_600_000_000, "us")


def _micro(moment: datetime) -> np.datetime64:
    return np.datetime64(utc(moment).replace(tzinfo=None), "us")


def _overlap(edges: np.ndarray, low: datetime, high: datetime) -> np.ndarray:
    """The share of each hour between consecutive `edges` that lies in [low, high)."""
    low64, high64 = _micro(low), _micro(high)
    first = np.maximum(edges[:-1], low64)
    last = np.minimum(edges[1:], high64)
    seconds = np.maximum((last - first).astype("timedelta64[us]").astype(float), 0.0)
    return seconds / 3.6e9


def exclusive_probabilities(
    base: np.ndarray, effective: np.ndarray, has_remainder: bool, fixed: np.ndarray | None = None
) -> np.ndarray:
    """Outcome probabilities per hour (columns) that still sum to 1 (or below, with a
    remainder).

    The `fixed` outcomes (default: those moved away from their base) keep their value; the
    others (and the remainder) share what is left in proportion to their effective values. So
    a rate a scenario sets explicitly holds, and a multiplier on another outcome's stream only
    reweights the rest."""
    base = base[:, None]
    fixed = ~np.isclose(effective, base) if fixed is None else fixed
    remainder = max(0.0, 1.0 - base.sum()) if has_remainder else 0.0
    fixed_total = np.where(fixed, effective, 0.0).sum(axis=0)
    free_weight = np.where(fixed, 0.0, effective).sum(axis=0) + remainder
    scale = np.divide(
        np.maximum(1.0 - fixed_total, 0.0),
        free_weight,
        out=np.zeros_like(fixed_total),
        where=free_weight > 1e-12,
    )
    result = np.where(fixed, effective, effective * scale)
    total = result.sum(axis=0)
    too_much = total > 1.0
    result[:, too_much] /= total[too_much]
    if not has_remainder:
        short = (total < 1.0) & (total > 0)
        result[:, short] /= total[short]
    return result


def _trailing_sum(values: np.ndarray, window: int) -> np.ndarray:
    cumulative = np.concatenate([[0.0], np.cumsum(values)])
    ends = np.arange(1, values.size + 1)
    return cumulative[ends] - cumulative[np.maximum(ends - window, 0)]


def _ratio(actual: np.ndarray, expected: np.ndarray) -> np.ndarray:
    return np.divide(actual, expected, out=np.ones_like(actual), where=expected > 1e-9)
