"""Shapes in scenario definitions: a run's spike, variance, ... act as the manual modifier of
their type would while the run is active, and each is labelled with its kind, its source the
run."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from app.domain.calendar import HOUR
from app.domain.catalog import Catalog, load_catalog
from app.domain.causes import run_cause, shape_causes
from app.domain.ground_truth import label
from app.domain.labels import Noise
from app.domain.model import MarketModel
from app.domain.simulation_state import Run, SimulationState
from app.domain.state_effects import StateEffects, scenario_shapes
from app.domain.timerange import iso
from tests.unit.domain.catalog_support import copy_config, edit
from tests.unit.domain.test_generator import STEP, MemoryLog, fresh, run

DEPTH = "system.queue.depth"
APP_OPENS = "customer.app.opened"
SPIKE = {"stream": APP_OPENS, "type": "spike", "value": 4, "after": "PT1H", "duration": "PT20M"}
TREND = {"stream": APP_OPENS, "type": "trend", "value": 3, "after": "PT2H", "duration": "PT4H"}


@pytest.fixture(scope="module")
def model(catalog, quiet_view) -> MarketModel:
    return MarketModel(catalog, anchor=quiet_view.end)


@pytest.fixture(scope="module")
def noise(model) -> Noise:
    return Noise.of(model, np.ones((model.stream_count, 2, 24)))


def with_shapes(tmp_path: Path, scenario_id: str, *shapes: dict) -> Catalog:
    """The shipped catalog with `scenario_id`'s shapes replaced."""
    config = copy_config(tmp_path)

    def change(document) -> None:
        entry = next(s for s in document["scenarios"] if s["id"] == scenario_id)
        entry["shapes"] = list(shapes)

    edit(config, "scenario-definitions.json", change)
    return load_catalog(config)


def test_a_runs_shape_acts_as_a_modifier_of_its_type_while_the_run_is_active(model, quiet_view):
    """payment-outage widens the job queue's noise threefold for its three hours."""
    start = quiet_view.end + HOUR
    run = Run(61, "payment-outage", start, start + 3 * HOUR)
    effects = StateEffects(SimulationState(runs=(run,)), model)
    depth = model.index[DEPTH]

    assert effects.at(start + HOUR).stream(depth).spread == 3.0
    assert effects.at(start + HOUR).stream_sources[depth] == 61
    assert effects.at(start + 3 * HOUR).stream(depth).spread == 1.0  # settling: it is over
    stopped = Run(61, "payment-outage", start, start + 3 * HOUR, settling_from=start + HOUR)
    assert StateEffects(SimulationState(runs=(stopped,)), model).at(
        start + 2 * HOUR
    ).stream(depth).spread == 1.0  # fmt: skip


def test_a_shape_starts_after_its_offset_and_a_stopped_run_ends_it_on_its_planned_slope(
    tmp_path, quiet_view
):
    catalog = with_shapes(tmp_path, "quality-crisis", TREND)
    start = quiet_view.end
    stopped = Run(62, "quality-crisis", start, start + 48 * HOUR, settling_from=start + 4 * HOUR)

    (trend,) = scenario_shapes(stopped, catalog.scenario("quality-crisis"))

    assert (trend.start, trend.end, trend.planned_end) == (
        start + 2 * HOUR, start + 4 * HOUR, start + 6 * HOUR
    )  # fmt: skip
    assert trend.factor_at(start + 3 * HOUR) == 1.5  # a quarter of the way to x3
    assert trend.by_run and trend.kind == "trend"


def test_each_shape_is_a_cause_labelled_with_its_kind_and_the_run_behind_it(
    tmp_path, quiet_view, noise
):
    catalog = with_shapes(tmp_path, "payment-outage", SPIKE, {"stream": DEPTH, "type": "flatline"})
    model = MarketModel(catalog, anchor=quiet_view.end)
    start = quiet_view.end + HOUR
    run = Run(63, "payment-outage", start, start + 3 * HOUR)
    causes = [run_cause(model, run, start + 6 * HOUR), *shape_causes(model, run)]

    truth = label(model, causes, quiet_view.end, 6, noise)

    spike = [w.to_json() for w in truth.windows if w.cause.id == "run-63:shape-1"]
    flat = [w.to_json() for w in truth.windows if w.cause.id == "run-63:shape-2"]
    (opens,) = [w for w in spike if w["stream"] == APP_OPENS]
    assert {(w["kind"], w["label"]) for w in spike} == {("spike", "scenario")}  # and downstream
    assert opens["start"] == iso(start + HOUR) and opens["expected"]["ratio"] > 1.5
    assert opens["source"]["id"] == "run-63" and opens["source"]["type"] == "spike"
    assert [(w["stream"], w["kind"]) for w in flat] == [(DEPTH, "flatline")]
    assert flat[0]["expected"]["spreadRatio"] == 0.0
    run_windows = [w for w in truth.windows if w.cause.id == "run-63"]
    assert run_windows and APP_OPENS not in {w.stream for w in run_windows}  # the shape's own


@pytest.mark.slow
def test_the_generated_series_bursts_where_the_runs_spike_is(tmp_path, quiet_view):
    catalog = with_shapes(tmp_path, "payment-outage", SPIKE)
    model = MarketModel(catalog, anchor=quiet_view.end)
    run_at = quiet_view.end
    shaped = generated(model, quiet_view, Run(64, "payment-outage", run_at, run_at + 3 * HOUR))
    plain = generated(model, quiet_view)

    spike = (run_at + HOUR, run_at + HOUR + timedelta(minutes=20))
    ratio = count(shaped, APP_OPENS, *spike) / count(plain, APP_OPENS, *spike)
    assert 3.2 < ratio < 4.8
    before = (run_at, run_at + HOUR)
    assert count(shaped, APP_OPENS, *before) == pytest.approx(
        count(plain, APP_OPENS, *before), rel=0.1
    )


def generated(model, view, *runs: Run) -> MemoryLog:
    generator = fresh(model, view)
    generator.set_effects(StateEffects(SimulationState(runs=runs), model))
    log = MemoryLog()
    run(generator, log, steps=int(2 * HOUR / STEP))
    return log


def count(log: MemoryLog, stream: str, start, end) -> int:
    return sum(1 for e in log.events if e.stream == stream and start <= e.occurred_at < end)
