"""The simulation's state and its history."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Response, jsonify

from app.api import bp
from app.api.bodies import SpeedChange, parse
from app.api.errors import ApiError
from app.api.openapi import documented
from app.api.params import invalid, parse_streams, query, time_range
from app.api.schemas import BaselineStatistics, Clock, Diff, History, HistoryParams, StreamsParam
from app.domain.baseline import GENERATOR_VERSION
from app.domain.clock import SimClock
from app.domain.history import RESOLUTIONS
from app.domain.timerange import iso
from app.extensions import simulation
from app.services import BaselineMissing, HistoryQuery, set_speed

DEFAULT_WINDOW = timedelta(days=7)
MAX_SPAN = timedelta(days=60)


def baseline_missing(exc: BaselineMissing) -> ApiError:
    return ApiError(503, "baseline_missing", str(exc), "run `marketsim seed`, then retry")


def _clock_body(clock: SimClock) -> dict:
    return {
        "speed": clock.speed,
        "currentSimulationTime": iso(clock.now(simulation().wall())),
        "anchorWall": iso(clock.anchor_wall),
        "anchorSimulated": iso(clock.anchor_simulated),
    }


@bp.get("/simulation/clock")
@documented(tag="simulation", responses={200: Clock})
def get_clock() -> Response:
    """The simulation clock: speed and anchors (simulated = anchor + (wall - anchor) x speed)."""
    return jsonify(_clock_body(simulation().clock()))


@bp.post("/simulation/clock")
@documented(tag="simulation", body=SpeedChange, responses={200: Clock}, errors=(429,))
def set_clock() -> Response:
    """Change the clock's speed from now on; the change is a `control.clock` event."""
    speed = parse(SpeedChange).speed
    return jsonify(_clock_body(set_speed(simulation().store, speed, simulation().wall)))


def _history_query(now: datetime) -> HistoryQuery:
    params = query(HistoryParams)
    start, end = time_range(params, now, DEFAULT_WINDOW)
    if end - start > MAX_SPAN:
        raise invalid("start", "the range is longer than 60 days", "ask for 60 days or less")
    streams = parse_streams("streams", params.streams, simulation().catalog)
    return HistoryQuery(start, end, streams, RESOLUTIONS[params.resolution])


@bp.get("/simulation/history")
@documented(tag="simulation", query=HistoryParams, responses={200: History}, errors=(503,))
def history() -> Response:
    """Values per stream and time (baseline, then live), normalized, with external events."""
    sim = simulation()
    query = _history_query(sim.now())
    try:
        return jsonify(sim.history(query))
    except BaselineMissing as exc:
        raise baseline_missing(exc) from None


@bp.get("/simulation/diff")
@documented(tag="simulation", query=HistoryParams, responses={200: Diff}, errors=(503,))
def diff() -> Response:
    """What retroactive events changed in history, per stream and hour."""
    sim = simulation()
    query = _history_query(sim.now())
    try:
        return jsonify(sim.diff(query))
    except BaselineMissing as exc:
        raise baseline_missing(exc) from None


@bp.get("/baseline/statistics")
@documented(
    tag="simulation", query=StreamsParam, responses={200: BaselineStatistics}, errors=(503,)
)
def baseline_statistics() -> Response:
    """The baseline's statistics per stream, with the slots normalization compares against."""
    sim = simulation()
    streams = parse_streams("streams", query(StreamsParam).streams, sim.catalog)
    try:
        view = sim.baseline
    except BaselineMissing as exc:
        raise baseline_missing(exc) from None
    return jsonify(
        {
            "calculatedFrom": f"{iso(view.start)}/{iso(view.end)}",
            "generatorVersion": GENERATOR_VERSION,
            "streams": {name: view.statistics[name] for name in streams},
        }
    )
