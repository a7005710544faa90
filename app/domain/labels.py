"""Ground-truth windows: where a cause changed a stream's expectation, by how much, and how
visible that is in the stream's own noise.

A stream-hour belongs to a cause's window when the cause moves the stream's expectation by
more than `WINDOW_THRESHOLD` (the flow's expectation with every cause acting against the same
without this one; `app/domain/counterfactual.py`). Consecutive such hours with the same sign
make one window (gaps up to `MAX_GAP_HOURS` are bridged; a scenario's windows are also cut
where its phase changes). Each window carries:

- `expected`: the ratio with/without over the window (sums for counts, means for gauges), the
  hour where it is strongest, and the absolute change (events added or removed; for a gauge,
  the mean change in its unit);
- `sigma`: that change in units of the stream's noise over the window (for counts the Poisson
  spread of the expected count, for gauges the noise of their hourly value), and `peakSigma`,
  the same for the strongest hour alone;
- `slotSigma`: the change at its strongest hour in standard deviations of the stream's value
  at that hour of the day and type of day over the baseline month (the spread normalization
  scores against: one deviation is 20 points of the 0-100 scale). This is what a detector is
  up against: besides the sampling noise, everything else the month holds (other events, the
  anomalies, the calendar), so a 5% change of a stream of thousands an hour, many Poisson
  sigma, is still no change anyone can tell apart. A slot is never taken to vary less than the
  hour's own noise (a quiet night's count of nothing did not vary over the month, and one
  event there is no 100-sigma change);
- `slotHours`: how many of its hours the cause moves by `CLEAR_SLOT_SIGMA` slot deviations or
  more (the normalized score by 40 points);
- `detectability`: what it takes to see the change.
  `clear`: `sigma` reaches `CLEAR_SIGMA` and `slotHours` reaches `CLEAR_HOURS`: it stands out
  of the series itself, and a seasonal detector that knows nothing of the model finds it;
  `visible`: `sigma` reaches `CLEAR_SIGMA` but few of its hours stand out of the month's
  spread: plain to a detector that knows what to expect (the model's expectation, or a
  forecast as good), drowned for one that learns the season from the series alone;
  `subtle`: under `CLEAR_SIGMA` of its own noise: deliberately hard for any detector;
- `observed`: the data's own ratio and sigma against the expectation without the cause (the
  other causes and the noise are in it), where the data has the hours.

A red herring's windows are its named streams over its declared impact window, with no
expected change; `confoundedBy` lists the causal windows (not the calendar) that overlap it on
the same stream, where a detector's alarm is no false alarm.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from app.domain.calendar import HOUR, day_type, hour_grid, hour_of_day
from app.domain.catalog import DELAYING_FAULTS
from app.domain.causes import Cause, StateAction
from app.domain.counterfactual import CauseEffect
from app.domain.generation.gauges import sample_interval
from app.domain.model import MarketModel
from app.domain.simulation_state import ManualModifier
from app.domain.timerange import iso

WINDOW_THRESHOLD = 0.05
"""A cause's window holds the hours where it moves a stream's expectation by more than 5%
(the same bar a scenario must get under to count as settled)."""
CLEAR_SIGMA = 3.0
CLEAR_SLOT_SIGMA = 2.0
CLEAR_HOURS = 3
"""A clear window has at least this many hours the cause alone moves by CLEAR_SLOT_SIGMA slot
deviations: a detector judges hours, and one strong hour among the noise is easily missed
(scored with 18 detector variants on the default seed: 77% of windows with one such hour
found, 85% of those with three)."""
MAX_GAP_HOURS = 2
RATIO_CAP = 1e6
_TINY = 1e-9


@dataclass(frozen=True)
class Window:
    """One labelled window of one cause on one stream."""

    id: str
    cause: Cause
    stream: str
    start: datetime
    end: datetime
    named: bool
    phase: str | None
    expected: Mapping[str, float]
    sigma: float
    peak_sigma: float
    slot_sigma: float
    slot_hours: int
    without: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False, compare=False)
    """The expectation without the cause, hour by hour: what the data is measured against."""
    change: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False, compare=False)
    """What the cause adds to the expectation, hour by hour."""
    observed: Mapping[str, float] | None = None
    confounded_by: tuple[str, ...] = ()
    ongoing: bool = False
    """The window reaches the end of the hours computed (the range's end, or now): the
    change may go on after it."""
    decoupled_from: tuple[str, ...] = ()
    """A correlation break's: the streams whose events the stream stopped following."""
    kind: str | None = None
    """What a detector meets here, when the window says it itself (a scenario's fault of
    delivery); otherwise its cause's shape, if any."""

    @property
    def causal(self) -> bool:
        return self.cause.causal and self.cause.acts

    @property
    def detectability(self) -> str:
        if not self.causal:
            return "none"
        if abs(self.sigma) < CLEAR_SIGMA:
            return "subtle"
        return "clear" if self.slot_hours >= CLEAR_HOURS else "visible"

    def overlaps(self, other: Window) -> bool:
        return self.stream == other.stream and self.start < other.end and other.start < self.end

    def to_json(self) -> dict[str, Any]:
        cause = self.cause
        ratio = self.expected["ratio"]
        found = {
            "id": self.id,
            "stream": self.stream,
            "start": iso(self.start),
            "end": iso(self.end),
            "label": cause.kind,
            "causal": self.causal,
            "source": dict(cause.source),
            "named": self.named,
            "lagSeconds": (self.start - cause.occurred_at).total_seconds(),
            "expectedDirection": (
                None if not self.causal else "increase" if ratio >= 1 else "decrease"
            ),
            "effectSize": _round(ratio - 1),
            "expected": {key: _round(value) for key, value in self.expected.items()},
            "sigma": _round(self.sigma, 2),
            "peakSigma": _round(self.peak_sigma, 2),
            "slotSigma": _round(self.slot_sigma, 2),
            "slotHours": self.slot_hours,
            "detectability": self.detectability,
            "observed": dict(self.observed) if self.observed is not None else None,
        }
        if (self.kind or cause.shape) is not None:
            found["kind"] = self.kind or cause.shape
        if self.phase is not None:
            found["phase"] = self.phase
        if self.ongoing:
            found["ongoing"] = True
        if self.decoupled_from:
            found["decoupledFrom"] = list(self.decoupled_from)
        if not self.causal:
            found["confounded"] = bool(self.confounded_by)
            found["confoundedBy"] = list(self.confounded_by)
        return found


@dataclass(frozen=True)
class Noise:
    """What a stream's noise is per hour: Poisson for counts, `relative x level` for gauges;
    and its spread per slot over the baseline month (`slots[stream, day type, hour]`)."""

    entity: np.ndarray
    relative: np.ndarray
    slots: np.ndarray

    @classmethod
    def of(cls, model: MarketModel, slots: np.ndarray) -> Noise:
        relative = np.zeros(model.stream_count)
        for gauge in model.gauges:
            relative[gauge.stream] = max(gauge.noise, 1e-6)
        entity = np.array([model.is_entity(s) for s in range(model.stream_count)])
        return cls(entity, relative, slots)

    def slot_spread(self, stream: int, start: datetime, hours: int) -> np.ndarray:
        grid = hour_grid(start, hours)
        return self.slots[stream, day_type(grid), hour_of_day(grid)]


def cause_windows(
    model: MarketModel, effect: CauseEffect, grid_start: datetime, grid_hours: int, noise: Noise
) -> list[Window]:
    """The windows of one acting cause, on every stream it moved by more than the
    threshold."""
    cause = effect.cause
    ratio = _ratio(effect.with_all, effect.without)
    change = ratio - 1
    affected = np.abs(change) > WINDOW_THRESHOLD
    named = set(cause.named)
    cuts = _phase_cuts(cause, grid_start, effect.first, effect.hours)
    reaches_end = effect.first + effect.hours == grid_hours
    windows = []
    for stream in np.flatnonzero(affected.any(axis=1)):
        name = model.names[stream]
        for number, (lo, hi) in enumerate(_runs(change[stream], affected[stream], cuts)):
            first = effect.first + lo
            windows.append(
                _window(
                    model,
                    noise,
                    effect,
                    int(stream),
                    (lo, hi),
                    window_id=f"{cause.id}:{name}:{number + 1}",
                    start=grid_start + first * HOUR,
                    named=name in named,
                    ongoing=reaches_end and hi == effect.hours,
                )
            )
    return windows


def _window(model, noise, effect, stream, span, *, window_id, start, named, ongoing) -> Window:
    lo, hi = span
    with_all = effect.with_all[stream, lo:hi]
    without = effect.without[stream, lo:hi]
    figures = _figures(noise, stream, with_all, without, noise.slot_spread(stream, start, hi - lo))
    return Window(
        id=window_id,
        cause=effect.cause,
        stream=model.names[stream],
        start=start,
        end=start + (hi - lo) * HOUR,
        named=named,
        phase=_phase(effect.cause, start),
        expected=figures["expected"],
        sigma=figures["sigma"],
        peak_sigma=figures["peakSigma"],
        slot_sigma=figures["slotSigma"],
        slot_hours=figures["slotHours"],
        without=without,
        change=with_all - without,
        ongoing=ongoing,
    )


def _figures(
    noise: Noise,
    stream: int,
    with_all: np.ndarray,
    without: np.ndarray,
    slot_spread: np.ndarray,
) -> dict[str, Any]:
    hourly = _ratio(with_all[None, :], without[None, :])[0]
    strongest = int(np.argmax(np.abs(np.log(np.maximum(hourly, _TINY)))))
    difference = with_all - without
    spread = _spread(noise, stream, without)
    in_slot = np.abs(difference) / np.maximum(slot_spread, spread)
    if noise.entity[stream]:
        ratio = _scalar_ratio(with_all.sum(), without.sum())
        absolute = difference.sum()
        sigma = difference.sum() / np.sqrt(max(without.sum(), 1.0))
    else:
        ratio = _scalar_ratio(with_all.mean(), without.mean())
        absolute = difference.mean()
        sigma = difference.sum() / max(np.sqrt((spread**2).sum()), _TINY)
    return {
        "expected": {
            "ratio": float(ratio),
            "peakRatio": float(hourly[strongest]),
            "absolute": float(absolute),
        },
        "sigma": float(sigma),
        "peakSigma": float(np.max(np.abs(difference) / np.maximum(spread, _TINY))),
        "slotSigma": float(np.max(in_slot)),
        "slotHours": int((in_slot >= CLEAR_SLOT_SIGMA).sum()),
    }


def _spread(noise: Noise, stream: int, expected: np.ndarray) -> np.ndarray:
    """The noise of each hour's value around `expected`."""
    if noise.entity[stream]:
        return np.sqrt(np.maximum(expected, 1.0))
    return noise.relative[stream] * np.maximum(np.abs(expected), _TINY)


def observe(
    windows: Iterable[Window],
    model: MarketModel,
    grid_start: datetime,
    observed: np.ndarray,
    noise: Noise,
) -> list[Window]:
    """The windows with what the data (`observed`, per stream and hour of the grid, NaN
    where it has no complete hour) shows over them, against the expectation without their
    cause."""
    found = []
    for window in windows:
        stream = model.index[window.stream]
        first = int((window.start - grid_start) / HOUR)
        data = observed[stream, first : first + window.without.size]
        found.append(replace(window, observed=_observed(noise, stream, data, window.without)))
    return found


def _observed(
    noise: Noise, stream: int, observed: np.ndarray, without: np.ndarray
) -> dict[str, float] | None:
    known = ~np.isnan(observed)
    if not known.any():
        return None
    data, base = observed[known], without[known]
    spread = _spread(noise, stream, base)
    if noise.entity[stream]:
        ratio = _scalar_ratio(data.sum(), base.sum())
        sigma = (data.sum() - base.sum()) / np.sqrt(max(base.sum(), 1.0))
    else:
        ratio = _scalar_ratio(data.mean(), base.mean())
        sigma = (data - base).sum() / max(np.sqrt((spread**2).sum()), _TINY)
    return {"ratio": _round(ratio), "sigma": _round(sigma, 2), "hours": int(known.sum())}


def herring_windows(
    model: MarketModel, cause: Cause, grid_start: datetime, expected: np.ndarray
) -> list[Window]:
    """A red herring's windows: its named streams over its declared window, where it changes
    nothing (`expected` is the flow's expectation over the grid, with or without it alike)."""
    first = max(0, int(np.floor((cause.start - grid_start) / HOUR)))
    last = min(expected.shape[1], int(np.ceil((cause.end - grid_start) / HOUR)))
    if last <= first:
        return []
    return [
        _unmoved_window(model, cause, name, grid_start, (first, last), expected)
        for name in cause.named
    ]


def spread_windows(
    model: MarketModel, cause: Cause, grid_start: datetime, expected: np.ndarray
) -> list[Window]:
    """A change of a gauge's samples, not of what it measures (a `variance`, a `flatline`, or
    a gap: `missing` on a gauge): its stream over the modifier's span, where its expectation
    does not move. `expected.spreadRatio` is the noise's ratio (0 for a flatline); `sigma` what
    a test of the samples' spread over the window gives, `|ln spreadRatio| x sqrt((n - 1) /
    2)` for its n samples (`peakSigma` the same for an hour's), and for a flatline of three
    samples or more `RATIO_CAP` (no noise at all: a certainty). A gap has
    `expected.sampleShare` 0 (none of its samples arrive) and `RATIO_CAP` once three or more
    are missed. No hour's mean moves, so no window of these is ever `clear`."""
    span = _modifier_span(cause, grid_start, expected)
    if span is None:
        return []
    modifier, start, end = span
    interval = sample_interval(model, model.index[modifier.stream])
    gap = modifier.type == "missing"
    ratio = 0.0 if modifier.type in ("flatline", "missing") else modifier.value
    sigma = _spread_sigma(ratio, (end - start).total_seconds() / interval)
    unmoved = dict(UNMOVED) | ({"sampleShare": 0.0} if gap else {"spreadRatio": ratio})
    return [
        _span_window(
            model,
            cause,
            grid_start,
            expected,
            span,
            unmoved=unmoved,
            sigma=sigma,
            peak_sigma=min(sigma, _spread_sigma(ratio, 3600 / interval)),
        )
    ]


def decoupling_windows(
    model: MarketModel, cause: Cause, grid_start: datetime, expected: np.ndarray
) -> list[Window]:
    """A correlation break where it moves no expectation (its stream's causes run as
    expected, so the plain expectation it takes is what they would have sent): its stream
    over the modifier's span, `decoupledFrom` its causes' streams, no expected change and
    `sigma` 0 (`subtle`): no level tells it, only a comparison with the causes as they move.
    Where the causes do move (another cause acts on them), the break's level windows say by
    how much."""
    span = _modifier_span(cause, grid_start, expected)
    if span is None:
        return []
    stream = model.index[span[0].stream]
    return [
        _span_window(
            model, cause, grid_start, expected, span, decoupled_from=causes_of(model, stream)
        )
    ]


@dataclass(frozen=True)
class FaultSpan:
    """A fault of delivery on a stream over [start, end): a manual modifier's, or a
    scenario run's while it is active."""

    stream: str
    fault: str
    value: float
    start: datetime
    end: datetime

    @classmethod
    def of_modifier(cls, modifier: ManualModifier) -> FaultSpan:
        return cls(modifier.stream, modifier.type, modifier.value, modifier.start, modifier.end)

    @property
    def delay(self) -> timedelta:
        """How long after the span the feed still shows it (held-back events arriving)."""
        return timedelta(minutes=self.value) if self.fault in DELAYING_FAULTS else ZERO


def delivery_windows(
    model: MarketModel, cause: Cause, fault: FaultSpan, grid_start: datetime, expected: np.ndarray
) -> list[Window]:
    """A fault of delivery: what happened is unchanged (no expectation moves, and the hourly
    history counts what happened), what the feed delivers is not. Its stream over the span
    where the feed shows it: the fault's span, and for a held-back delivery the delay after
    it too. `expected` says what the feed does (`delaySeconds` for `late`,
    `maxDelaySeconds` for `out-of-order`, `duplicateShare`, `skewSeconds`); `sigma` is how far
    the feed's count of events moves against its Poisson spread over the window: a share `s`
    of duplicates adds `s x sqrt(n)` for the window's n expected events, a late delivery
    empties the feed for its delay (`sqrt(n)` for the n events due then). An out-of-order or
    skewed delivery moves no count (`sigma` 0, `subtle`): only the events' order or their
    stamps tell it. The window carries the fault as its `kind`."""
    grid_end = grid_start + expected.shape[1] * HOUR
    start, end = max(fault.start, grid_start), min(fault.end + fault.delay, grid_end)
    if end <= start:
        return []
    feed_sigma = 0.0
    if fault.fault == "duplicate":
        due = _expected_count(model, fault.stream, (start, end), grid_start, expected)
        feed_sigma = fault.value * float(np.sqrt(due))
    elif fault.fault == "late":
        emptied = (start, min(start + fault.delay, fault.end, end))
        feed_sigma = float(
            np.sqrt(_expected_count(model, fault.stream, emptied, grid_start, expected))
        )
    hours = max((end - start) / HOUR, 1.0)
    window = _unmoved_window(
        model,
        cause,
        fault.stream,
        grid_start,
        _hours(grid_start, start, end),
        expected,
        unmoved=dict(UNMOVED) | _fault_detail(fault),
        sigma=float(feed_sigma),
        peak_sigma=float(feed_sigma / np.sqrt(hours)),
        ongoing=fault.end + fault.delay > grid_end,
    )
    return [replace(window, id=f"{cause.id}:{fault.stream}:{fault.fault}", kind=fault.fault)]


def _fault_detail(fault: FaultSpan) -> dict[str, float]:
    return {
        "late": {"delaySeconds": fault.value * 60},
        "out-of-order": {"maxDelaySeconds": fault.value * 60},
        "duplicate": {"duplicateShare": fault.value},
        "clock-skew": {"skewSeconds": fault.value * 60},
    }[fault.fault]


def _expected_count(
    model: MarketModel,
    name: str,
    span: tuple[datetime, datetime],
    grid_start: datetime,
    expected: np.ndarray,
) -> float:
    """The events (a gauge: the samples) a stream is expected to deliver over the span,
    within the grid."""
    start, end = span
    stream = model.index[name]
    if end <= start:
        return 0.0
    if not model.is_entity(stream):
        return (end - start).total_seconds() / sample_interval(model, stream)
    first, last = _hours(grid_start, start, end)
    hourly = expected[stream, first:last]
    covered = [
        (min(end, grid_start + (h + 1) * HOUR) - max(start, grid_start + h * HOUR)) / HOUR
        for h in range(first, last)
    ]
    return float(np.dot(hourly, covered))


ZERO = timedelta(0)
UNMOVED: Mapping[str, float] = {"ratio": 1.0, "peakRatio": 1.0, "absolute": 0.0}
"""The expected effect of a cause that moves no expectation."""


def _modifier_span(
    cause: Cause, grid_start: datetime, expected: np.ndarray
) -> tuple[ManualModifier, datetime, datetime] | None:
    """A modifier cause's modifier and its span within the grid (None when it has no
    modifier or none of its span is in the grid)."""
    modifier = cause.action.modifier if isinstance(cause.action, StateAction) else None
    grid_end = grid_start + expected.shape[1] * HOUR
    start, end = max(cause.start, grid_start), min(cause.end, grid_end)
    if modifier is None or end <= start:
        return None
    return modifier, start, end


def _span_window(
    model: MarketModel,
    cause: Cause,
    grid_start: datetime,
    expected: np.ndarray,
    span: tuple[ManualModifier, datetime, datetime],
    **measures: Any,
) -> Window:
    """A modifier's window on its own stream over its span (`_unmoved_window`), going on
    when the span runs past the grid."""
    modifier, start, end = span
    grid_end = grid_start + expected.shape[1] * HOUR
    hours = _hours(grid_start, start, end)
    return _unmoved_window(
        model, cause, modifier.stream, grid_start, hours, expected,
        ongoing=cause.end > grid_end, **measures,
    )  # fmt: skip


def _hours(grid_start: datetime, start: datetime, end: datetime) -> tuple[int, int]:
    """The grid's hours that `start`..`end` touches, as (first, last) (last excluded)."""
    return int((start - grid_start) // HOUR), int(np.ceil((end - grid_start) / HOUR))


def _unmoved_window(
    model: MarketModel,
    cause: Cause,
    stream: str,
    grid_start: datetime,
    hours: tuple[int, int],
    expected: np.ndarray,
    *,
    unmoved: Mapping[str, float] = UNMOVED,
    sigma: float = 0.0,
    peak_sigma: float = 0.0,
    ongoing: bool = False,
    decoupled_from: tuple[str, ...] = (),
) -> Window:
    """A window of `cause` on `stream` over the grid's `hours`, where it moves no
    expectation: no change, measured against the flow's own expectation."""
    first, last = hours
    return Window(
        id=f"{cause.id}:{stream}:1",
        cause=cause,
        stream=stream,
        start=grid_start + first * HOUR,
        end=grid_start + last * HOUR,
        named=True,
        phase=None,
        expected=dict(unmoved),
        sigma=sigma,
        peak_sigma=peak_sigma,
        slot_sigma=0.0,
        slot_hours=0,
        without=expected[model.index[stream], first:last],
        change=np.zeros(last - first),
        ongoing=ongoing,
        decoupled_from=decoupled_from,
    )


def causes_of(model: MarketModel, stream: int) -> tuple[str, ...]:
    """The streams whose events make `stream`'s (by the model's rules)."""
    return tuple(sorted({model.names[r.source] for r in model.rules if r.target == stream}))


def _spread_sigma(ratio: float, samples: float) -> float:
    if ratio == 0:
        return RATIO_CAP if samples >= 3 else 0.0
    return abs(float(np.log(ratio))) * float(np.sqrt(max(samples - 1, 0.0) / 2))


def confound(windows: Sequence[Window]) -> list[Window]:
    """The windows with each red herring's `confoundedBy`: the causal windows of other
    causes (the calendar aside: it is the expected background) overlapping it."""
    causal = [w for w in windows if w.causal and w.cause.kind != "calendar"]
    by_stream: dict[str, list[Window]] = {}
    for window in causal:
        by_stream.setdefault(window.stream, []).append(window)
    found = []
    for window in windows:
        if window.causal:
            found.append(window)
            continue
        others = sorted(
            {w.cause.id for w in by_stream.get(window.stream, ()) if w.overlaps(window)}
        )
        found.append(replace(window, confounded_by=tuple(others)))
    return found


def _runs(change: np.ndarray, affected: np.ndarray, cuts: Iterable[int]) -> list[tuple[int, int]]:
    """Spans [lo, hi) of affected hours with one sign, gaps up to MAX_GAP_HOURS bridged,
    cut at `cuts` (hour offsets where a phase changes)."""
    cut_set = set(cuts)
    spans: list[list[int]] = []
    sign = 0
    for hour in np.flatnonzero(affected):
        hour = int(hour)
        this = 1 if change[hour] > 0 else -1
        if (
            spans
            and this == sign
            and hour - spans[-1][1] <= MAX_GAP_HOURS
            and not any(spans[-1][1] <= c <= hour and c > spans[-1][0] for c in cut_set)
        ):
            spans[-1][1] = hour + 1
        else:
            spans.append([hour, hour + 1])
            sign = this
    return [(lo, hi) for lo, hi in spans]


def _phase_cuts(cause: Cause, grid_start: datetime, first: int, hours: int) -> list[int]:
    """Hour offsets (within the cause's reach) where a scenario run changes phase."""
    run = cause.action.run if isinstance(cause.action, StateAction) else None
    if run is None:
        return []
    moments = [run.settles_from] + ([run.settled_at] if run.settled_at else [])
    cuts = []
    for moment in moments:
        offset = int(np.ceil((moment - grid_start) / HOUR)) - first
        if 0 < offset < hours:
            cuts.append(offset)
    return cuts


def _phase(cause: Cause, start: datetime) -> str | None:
    run = cause.action.run if isinstance(cause.action, StateAction) else None
    if run is None:
        return None
    return run.phase(start + timedelta(minutes=30))


def _ratio(with_all: np.ndarray, without: np.ndarray) -> np.ndarray:
    """with / without, hour by hour: 1 where both are nothing, `RATIO_CAP` where the cause
    makes something of nothing (and never more)."""
    ratio = np.divide(with_all, without, out=np.ones_like(with_all), where=np.abs(without) > _TINY)
    from_nothing = (np.abs(without) <= _TINY) & (np.abs(with_all) > _TINY)
    ratio[from_nothing] = RATIO_CAP
    return np.minimum(ratio, RATIO_CAP)


def _scalar_ratio(with_all: float, without: float) -> float:
    return float(_ratio(np.array([with_all]), np.array([without]))[0])


def _round(value: float, digits: int = 4) -> float:
    return round(float(value), digits) + 0.0
