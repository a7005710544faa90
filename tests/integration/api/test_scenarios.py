"""Scenario control over HTTP: list, activate, conflict, stop, lifecycle, reset, modifiers."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.simulation_state import SETTLED, SETTLING
from app.domain.timerange import iso
from app.services.scenarios import advance_lifecycle


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def simulation_of(client):
    from app.extensions import simulation

    with client.application.app_context():
        return simulation()


def test_the_nine_scenarios_are_listed_with_name_description_and_duration(seeded_client):
    scenarios = seeded_client.get("/api/simulation/scenarios").json["scenarios"]

    assert len(scenarios) == 9
    assert {"id", "name", "description", "duration", "settling"} <= set(scenarios[0])
    assert {s["id"] for s in scenarios} >= {"payment-outage", "normal-operations"}


def test_a_scenarios_listing_says_which_anomalies_and_faults_it_makes(seeded_client):
    scenarios = seeded_client.get("/api/simulation/scenarios").json["scenarios"]
    by_id = {s["id"]: s for s in scenarios}

    assert by_id["payment-outage"]["shapes"] == [
        {
            "stream": "system.queue.depth",
            "type": "variance",
            "value": 3.0,
            "after": "PT0S",
            "duration": None,
        }
    ]
    assert by_id["support-overload"]["deliveries"] == [
        {"stream": "support.csat.submitted", "type": "late", "value": 30.0}
    ]
    assert by_id["normal-operations"]["shapes"] == by_id["normal-operations"]["deliveries"] == []


def test_activation_starts_a_run_and_records_its_events(seeded_client, seeded_store):
    response = seeded_client.post("/api/simulation/scenario", json={"scenarioId": "supply-crisis"})

    assert response.status_code == 201
    body = response.json
    assert body["success"] is True
    assert body["scenario"]["status"] == "active"
    assert body["scenario"]["scenarioId"] == "supply-crisis"
    assert body["estimatedDuration"].startswith("P1DT")  # a day active, then hours settling
    past = [e for e in body["events"] if not e["scheduled"]]
    future = [e for e in body["events"] if e["scheduled"]]
    now = datetime.now(UTC)
    assert parse(past[0]["timestamp"]) < now < parse(future[0]["timestamp"])
    logged = seeded_store.log.read_after(0, kinds=["scenario", "external", "control"])
    assert [e.type for e in logged] == [
        "scenario.activated", "external.event", "external.scheduled"
    ]  # fmt: skip
    assert all(e.correlation_id == logged[0].position for e in logged[1:])


def test_a_second_activation_is_a_409_naming_the_active_scenario(seeded_client):
    seeded_client.post("/api/simulation/scenario", json={"scenarioId": "supply-crisis"})

    response = seeded_client.post("/api/simulation/scenario", json={"scenarioId": "quality-crisis"})

    assert response.status_code == 409
    assert response.json["error"]["code"] == "scenario_active"
    assert "supply-crisis" in response.json["error"]["message"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"scenarioId": "alien-invasion"}, 404, "unknown_scenario"),
        ({}, 400, "invalid_field"),
        ({"scenarioId": 7}, 400, "invalid_field"),
        ({"scenarioId": "supply-crisis", "extra": 1}, 400, "invalid_field"),
    ],
)
def test_a_bad_activation_is_refused_and_writes_nothing(seeded_client, seeded_store, body,
                                                        status, code):  # fmt: skip
    response = seeded_client.post("/api/simulation/scenario", json=body)

    assert response.status_code == status
    assert response.json["error"]["code"] == code
    assert seeded_store.log.read_after(0) == []


def test_the_state_reports_the_running_scenario_and_its_time_remaining(seeded_client):
    seeded_client.post("/api/simulation/scenario", json={"scenarioId": "payment-outage"})

    state = seeded_client.get("/api/simulation/state").json

    assert state["status"] == "Running"
    assert state["activeScenario"]["name"] == "Payment Gateway Outage"
    assert 3 * 3600 - 60 < state["activeScenario"]["timeRemaining"] <= 3 * 3600
    assert state["activeModifiers"][0]["affectedStreams"]
    assert [e["template"] for e in state["activeEvents"]] == ["stripe-rate-limiting"]
    assert state["historicalMode"] == "baseline"


def test_stop_starts_settling_and_says_until_when(seeded_client):
    seeded_client.post("/api/simulation/scenario", json={"scenarioId": "exam-season-surge"})

    response = seeded_client.post("/api/simulation/stop")

    assert response.status_code == 200
    settling_until = parse(response.json["settlingUntil"])
    assert 0 < (settling_until - datetime.now(UTC)).total_seconds() <= 12 * 3600
    assert seeded_client.get("/api/simulation/state").json["status"] == "Settling"
    again = seeded_client.post("/api/simulation/stop")
    assert (again.status_code, again.json["error"]["code"]) == (409, "no_active_scenario")


def test_time_settles_a_scenario_and_records_each_transition(seeded_client, seeded_store, wall):
    seeded_client.post("/api/simulation/scenario", json={"scenarioId": "support-overload"})
    seeded_client.post("/api/simulation/clock", json={"speed": 100_000})  # a day per second
    simulation = simulation_of(seeded_client)
    wall.advance(timedelta(seconds=1.2))
    advance_lifecycle(simulation)
    advance_lifecycle(simulation)

    types = [e.type for e in seeded_store.log.read_after(0, kinds=["scenario"])]
    assert types[-2:] == [SETTLING, SETTLED]
    assert seeded_client.get("/api/simulation/state").json["status"] == "Baseline"


def test_scenarios_in_sequence_each_start_once_the_previous_one_stops(seeded_client):
    for scenario_id in ("supply-crisis", "payment-outage", "churn-pattern", "supply-crisis"):
        activation = seeded_client.post("/api/simulation/scenario",
                                        json={"scenarioId": scenario_id})  # fmt: skip
        assert activation.status_code == 201, activation.json
        assert seeded_client.post("/api/simulation/stop").status_code == 200

    state = seeded_client.get("/api/simulation/state").json
    assert state["status"] == "Settling"
    assert len(state["activeModifiers"]) >= 1


def test_reset_opens_a_new_epoch_and_keeps_the_old_one_in_the_log(seeded_client, seeded_store):
    seeded_client.post("/api/simulation/scenario", json={"scenarioId": "supply-crisis"})
    seeded_client.post("/api/simulation/clock", json={"speed": 60})

    response = seeded_client.post("/api/simulation/reset")

    assert response.status_code == 200
    assert response.json["epoch"] == 2
    state = seeded_client.get("/api/simulation/state").json
    assert (state["status"], state["epoch"], state["speed"]) == ("Baseline", 2, 1.0)
    assert state["activeModifiers"] == [] and state["activeEvents"] == []
    assert seeded_store.log.read_after(0, epoch=1, kinds=["scenario"])  # still queryable


@pytest.fixture
def client_of_an_older_baseline(postgres_server):
    """A service whose baseline ended 12 hours before the last 12-hour boundary: a reset now
    always has whole hours to restore after it, whatever the time of day."""
    from app.domain.catalog import load_catalog
    from app.settings import PROJECT_ROOT, Settings
    from app.store import Store
    from app.store.migrations import upgrade
    from app.web import create_app
    from seeds.baseline import build, default_end

    config_dir = PROJECT_ROOT / "config"
    baseline = build(
        load_catalog(config_dir), config_dir, seed=7, end=default_end() - timedelta(hours=12)
    )
    url = postgres_server.create_database()
    upgrade(url)
    store = Store.connect(url)
    store.baselines.write(baseline)
    yield create_app(Settings(database_url=url), store=store).test_client()
    store.close()
    postgres_server.drop_database(url)


def test_history_after_a_reset_joins_the_baseline_restored_hours_and_live(
    client_of_an_older_baseline,
):
    client = client_of_an_older_baseline
    client.post("/api/simulation/reset")

    body = client.get("/api/simulation/history?streams=session.started").json

    assert body["epoch"] == 2
    assert body["coverage"]["restored"] is not None
    times = [parse(p["timestamp"]) for p in body["streams"]["session.started"]]
    assert times == sorted(times)
    steps = {later - earlier for earlier, later in itertools.pairwise(times)}
    assert steps == {timedelta(hours=1)}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"stream": "customer.teleport", "type": "multiplier", "value": 2, "duration": "PT1H"},
         "stream"),
        ({"stream": "customer.booking.confirmed", "type": "additive", "value": 5,
          "duration": "PT1H"}, "type"),
        ({"stream": "customer.app.opened", "type": "multiplier", "value": 0, "duration": "PT1H"},
         "value"),
        ({"stream": "customer.app.opened", "type": "multiplier", "value": 2, "duration": "P90D"},
         "duration"),
        ({"stream": "customer.app.opened", "type": "squash", "value": 2, "duration": "PT1H"},
         "type"),
        ({"stream": "customer.app.opened", "type": "additive", "value": True, "duration": "PT1H"},
         "value"),
        ({"stream": "customer.app.opened", "type": "override", "value": False,
          "duration": "PT1H"}, "value"),
        ({"stream": "customer.app.opened", "type": "multiplier", "value": "2",
          "duration": "PT1H"}, "value"),
        ({"stream": "customer.app.opened", "type": "multiplier", "duration": "PT1H"}, "value"),
        ({"stream": "customer.app.opened", "type": "spike", "value": 5, "duration": "PT2H"},
         "duration"),
        ({"stream": "customer.app.opened", "type": "spike", "value": 1, "duration": "PT5M"},
         "value"),
        ({"stream": "customer.app.opened", "type": "trend", "value": 2, "duration": "PT30M"},
         "duration"),
        ({"stream": "customer.app.opened", "type": "missing", "value": 0, "duration": "PT1H"},
         "value"),
        ({"stream": "customer.app.opened", "type": "variance", "value": 3, "duration": "PT1H"},
         "type"),
        ({"stream": "system.queue.depth", "type": "flatline", "value": 3, "duration": "PT1H"},
         "value"),
        ({"stream": "system.queue.depth", "type": "variance", "value": 0, "duration": "PT1H"},
         "value"),
        ({"stream": "customer.app.opened", "type": "seasonality", "value": 3, "duration": "P2D"},
         "value"),
        ({"stream": "customer.app.opened", "type": "seasonality", "value": 1,
          "duration": "PT6H"}, "duration"),
        ({"stream": "support.response.time", "type": "seasonality", "value": 1,
          "duration": "P2D"}, "stream"),
        ({"stream": "session.scheduled", "type": "seasonality", "value": 1, "duration": "P2D"},
         "type"),
        ({"stream": "customer.app.opened", "type": "correlation-break", "duration": "PT2H"},
         "type"),
        ({"stream": "system.queue.depth", "type": "correlation-break", "duration": "PT2H"},
         "type"),
        ({"stream": "session.scheduled", "type": "correlation-break", "value": 1,
          "duration": "PT2H"}, "value"),
        ({"stream": "system.queue.depth", "type": "variance", "sigma": 2, "duration": "PT1H"},
         "sigma"),
        ({"stream": "customer.app.opened", "type": "spike", "value": 2, "sigma": 2,
          "duration": "PT10M"}, "sigma"),
        ({"stream": "customer.app.opened", "type": "multiplier", "sigma": 0,
          "duration": "PT1H"}, "sigma"),
        ({"stream": "customer.app.opened", "type": "multiplier", "sigma": -90,
          "duration": "PT1H"}, "sigma"),
        ({"stream": "customer.app.opened", "type": "late", "value": 30, "duration": "PT1H"},
         "stream"),
        ({"stream": "session.cancelled", "type": "late", "duration": "PT1H"}, "value"),
        ({"stream": "session.cancelled", "type": "out-of-order", "value": 2000,
          "duration": "PT1H"}, "value"),
        ({"stream": "customer.app.opened", "type": "duplicate", "value": 1.5,
          "duration": "PT1H"}, "value"),
        ({"stream": "customer.app.opened", "type": "clock-skew", "value": 0,
          "duration": "PT1H"}, "value"),
        ({"stream": "customer.app.opened", "type": "duplicate", "sigma": 2,
          "duration": "PT1H"}, "sigma"),
    ],
)  # fmt: skip
def test_a_bad_manual_modifier_is_refused_naming_the_field(seeded_client, body, field):
    response = seeded_client.post("/api/simulation/modifiers", json=body)

    assert response.status_code == 400
    assert f"field '{field}'" in response.json["error"]["message"]


def test_a_tenfold_manual_modifier_is_in_force_for_its_duration(seeded_client):
    response = seeded_client.post(
        "/api/simulation/modifiers",
        json={"stream": "customer.app.opened", "type": "multiplier", "value": 10,
              "duration": "PT2H"},
    )  # fmt: skip

    assert response.status_code == 201
    modifiers = seeded_client.get("/api/simulation/state").json["activeModifiers"]
    assert [(m["stream"], m["value"]) for m in modifiers] == [("customer.app.opened", 10.0)]


def test_a_missing_stream_is_labelled_missing_in_the_ground_truth(seeded_client, wall):
    response = seeded_client.post(
        "/api/simulation/modifiers",
        json={"stream": "customer.app.opened", "type": "missing", "duration": "PT3H"},
    )
    modifier = response.json["modifier"]
    wall.advance(timedelta(hours=1))  # simulated time runs at 1x here

    truth = seeded_client.get("/api/ground-truth?streams=customer.app.opened").json

    assert response.status_code == 201
    assert (modifier["kind"], modifier["value"]) == ("missing", None)
    windows = [w for w in truth["windows"] if w["source"]["id"] == modifier["id"]]
    assert windows and {w["kind"] for w in windows} == {"missing"}
    assert min(w["expected"]["peakRatio"] for w in windows) == 0.0  # a whole hour of nothing
    assert windows[0]["source"]["type"] == "missing"
    assert windows[0]["source"]["durationSeconds"] == 3 * 3600


def test_a_flattened_day_is_labelled_seasonality_where_it_moves_the_hours(seeded_client, wall):
    response = seeded_client.post(
        "/api/simulation/modifiers",
        json={"stream": "customer.app.opened", "type": "seasonality", "value": 1,
              "duration": "P1D"},
    )  # fmt: skip
    modifier = response.json["modifier"]
    wall.advance(timedelta(hours=24))

    truth = seeded_client.get("/api/ground-truth?streams=customer.app.opened").json

    assert response.status_code == 201
    assert (modifier["kind"], modifier["value"]) == ("seasonality", 1.0)
    windows = [w for w in truth["windows"] if w["source"]["id"] == modifier["id"]]
    assert {w["kind"] for w in windows} == {"seasonality"}
    ratios = [w["expected"]["ratio"] for w in windows]
    assert min(ratios) < 0.9 and max(ratios) > 1.1  # the busy hours fall, the quiet ones rise


def test_a_gap_in_a_gauges_samples_is_labelled_missing_and_moves_nothing_else(seeded_client, wall):
    response = seeded_client.post(
        "/api/simulation/modifiers",
        json={"stream": "system.queue.depth", "type": "missing", "duration": "PT2H"},
    )
    modifier = response.json["modifier"]
    wall.advance(timedelta(hours=1))

    truth = seeded_client.get("/api/ground-truth").json

    assert response.status_code == 201
    windows = [w for w in truth["windows"] if w["source"]["id"] == modifier["id"]]
    (window,) = windows  # what the gauge measures goes on: nothing downstream moves
    assert (window["stream"], window["kind"]) == ("system.queue.depth", "missing")
    assert (window["expected"]["ratio"], window["expected"]["sampleShare"]) == (1.0, 0.0)
    assert window["detectability"] == "visible"


def test_a_correlation_break_is_labelled_on_its_stream_with_the_streams_it_stopped_following(
    seeded_client, wall
):
    response = seeded_client.post(
        "/api/simulation/modifiers",
        json={"stream": "session.scheduled", "type": "correlation-break", "duration": "PT3H"},
    )
    modifier = response.json["modifier"]
    wall.advance(timedelta(hours=1))

    truth = seeded_client.get("/api/ground-truth?streams=session.scheduled").json

    assert response.status_code == 201
    assert (modifier["kind"], modifier["value"]) == ("correlation-break", None)
    windows = [w for w in truth["windows"] if w["source"]["id"] == modifier["id"]]
    assert windows and {w["kind"] for w in windows} == {"correlation-break"}
    assert all(w["decoupledFrom"] == ["customer.booking.confirmed"] for w in windows)


@pytest.mark.parametrize(
    ("stream", "kind", "value", "detail"),
    [
        ("session.cancelled", "late", 30, {"delaySeconds": 1800}),
        ("system.api.latency", "out-of-order", 5, {"maxDelaySeconds": 300}),
        ("session.scheduled", "duplicate", 0.2, {"duplicateShare": 0.2}),
        ("customer.app.opened", "clock-skew", -3, {"skewSeconds": -180}),
    ],
)
def test_a_fault_of_delivery_is_labelled_on_its_stream_with_what_the_feed_shows(
    seeded_client, wall, stream, kind, value, detail
):
    response = seeded_client.post(
        "/api/simulation/modifiers",
        json={"stream": stream, "type": kind, "value": value, "duration": "PT2H"},
    )
    modifier = response.json["modifier"]
    wall.advance(timedelta(hours=1))

    truth = seeded_client.get(f"/api/ground-truth?streams={stream}").json

    assert response.status_code == 201
    assert (modifier["kind"], modifier["value"]) == (kind, value)
    (window,) = [w for w in truth["windows"] if w["source"]["id"] == modifier["id"]]
    assert window["kind"] == kind and window["stream"] == stream
    assert window["expected"] | detail == window["expected"]
    assert window["expected"]["ratio"] == 1.0


def _two_hours_of(client, wall, scenario_id: str, stream: str) -> tuple[dict, dict]:
    """The activation's answer and `stream`'s ground truth two hours into the scenario."""
    activated = client.post("/api/simulation/scenario", json={"scenarioId": scenario_id}).json
    wall.advance(timedelta(hours=2))
    return activated, client.get(f"/api/ground-truth?streams={stream}").json


def test_a_scenarios_fault_of_delivery_is_labelled_on_its_stream_with_the_fault_as_kind(
    seeded_client, wall
):
    activated, truth = _two_hours_of(
        seeded_client, wall, "support-overload", "support.csat.submitted"
    )

    run_id = activated["scenario"]["id"]
    (window,) = [w for w in truth["windows"] if w.get("kind") == "late"]
    assert window["source"]["id"] == run_id and window["stream"] == "support.csat.submitted"
    assert window["expected"]["delaySeconds"] == 1800 and window["label"] == "scenario"


def test_a_scenarios_shape_is_labelled_on_its_stream_with_its_kind_and_the_run_as_source(
    seeded_client, wall
):
    activated, truth = _two_hours_of(seeded_client, wall, "payment-outage", "system.queue.depth")

    run_id = activated["scenario"]["id"]
    (window,) = [w for w in truth["windows"] if w.get("kind") == "variance"]
    assert window["source"]["id"] == run_id and window["stream"] == "system.queue.depth"
    assert window["expected"]["spreadRatio"] == 3.0 and window["label"] == "scenario"
    assert "system.queue.depth" in activated["scenario"]["affectedStreams"]
    (cause,) = [c for c in truth["causes"] if c["id"] == f"{run_id}:shape-1"]
    assert cause["kind"] == "scenario" and cause["source"]["type"] == "variance"


def test_a_change_given_in_sigma_is_that_many_of_the_streams_deviations_at_that_hour(
    seeded_client, wall
):
    now = datetime.fromisoformat(
        seeded_client.get("/api/simulation/state").json["currentSimulationTime"]
    )
    hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    response = seeded_client.post(
        "/api/simulation/modifiers",
        json={"stream": "customer.app.opened", "type": "multiplier", "sigma": 4,
              "duration": "PT1H", "start": hour.isoformat()},
    )  # fmt: skip
    modifier = response.json["modifier"]
    wall.advance(timedelta(hours=2))

    truth = seeded_client.get("/api/ground-truth?streams=customer.app.opened").json

    assert response.status_code == 201
    assert modifier["sigma"] == 4.0 and modifier["value"] > 1
    (window,) = [w for w in truth["windows"] if w["source"]["id"] == modifier["id"]]
    assert window["source"]["sigma"] == 4.0
    assert window["slotSigma"] == pytest.approx(4.0, abs=0.05)  # that hour: 4 deviations


def test_a_flatline_is_labelled_on_its_gauge_with_its_spread(seeded_client, wall):
    modifier = seeded_client.post(
        "/api/simulation/modifiers",
        json={"stream": "system.queue.depth", "type": "flatline", "duration": "PT2H"},
    ).json["modifier"]
    wall.advance(timedelta(hours=1))

    truth = seeded_client.get("/api/ground-truth?streams=system.queue.depth").json

    (window,) = [w for w in truth["windows"] if w["source"]["id"] == modifier["id"]]
    assert (window["kind"], window["expected"]["spreadRatio"]) == ("flatline", 0.0)
    assert (window["expected"]["ratio"], window["detectability"]) == (1.0, "visible")
    assert window["ongoing"] is True


def test_a_modifier_can_start_later_and_is_scheduled_until_then(seeded_client, wall):
    now = parse(seeded_client.get("/api/simulation/clock").json["currentSimulationTime"])
    later = now + timedelta(hours=2)

    response = seeded_client.post(
        "/api/simulation/modifiers",
        json={"stream": "customer.app.opened", "type": "spike", "value": 5,
              "duration": "PT15M", "start": iso(later)},
    )  # fmt: skip

    modifier = response.json["modifier"]
    assert response.status_code == 201
    assert (modifier["status"], parse(modifier["startTime"])) == ("scheduled", later)
    assert parse(modifier["endsAt"]) == later + timedelta(minutes=15)
    (listed,) = seeded_client.get("/api/simulation/state").json["activeModifiers"]
    assert listed["status"] == "scheduled"
    wall.advance(timedelta(hours=2, minutes=5))
    (listed,) = seeded_client.get("/api/simulation/state").json["activeModifiers"]
    assert listed["status"] == "active"


@pytest.mark.parametrize("start", ["2020-01-01T00:00:00Z", "next tuesday", "2099-01-01T00:00:00Z"])
def test_a_modifier_cannot_start_in_the_past_far_ahead_or_at_no_time(seeded_client, start):
    response = seeded_client.post(
        "/api/simulation/modifiers",
        json={"stream": "customer.app.opened", "type": "multiplier", "value": 2,
              "duration": "PT1H", "start": start},
    )  # fmt: skip

    assert response.status_code == 400
    assert "field 'start'" in response.json["error"]["message"]
    assert response.json["error"]["hint"]
    assert seeded_client.get("/api/simulation/state").json["activeModifiers"] == []


def applied_modifier(client) -> dict:
    return client.post(
        "/api/simulation/modifiers",
        json={"stream": "customer.app.opened", "type": "multiplier", "value": 10,
              "duration": "PT2H"},
    ).json["modifier"]  # fmt: skip


def test_a_modifier_ended_early_leaves_the_state_and_its_window_ends_there(
    seeded_client, seeded_store
):
    modifier = applied_modifier(seeded_client)

    response = seeded_client.post(f"/api/simulation/modifiers/{modifier['id']}/end")

    assert response.status_code == 200
    ended = response.json["modifier"]
    assert (ended["id"], ended["status"], ended["timeRemaining"]) == (modifier["id"], "ended", 0)
    assert parse(modifier["startTime"]) <= parse(ended["endsAt"]) < parse(modifier["endsAt"])
    assert seeded_client.get("/api/simulation/state").json["activeModifiers"] == []
    (logged,) = seeded_store.log.read_after(0, kinds=["scenario"])[1:]
    assert (logged.type, f"mod-{logged.correlation_id}") == ("modifier.ended", modifier["id"])
    truth = seeded_client.get("/api/ground-truth?streams=customer.app.opened").json
    (cause,) = [c for c in truth["causes"] if c["id"] == modifier["id"]]
    assert parse(cause["end"]) == parse(ended["endsAt"])
    last_hour = parse(ended["endsAt"]).replace(minute=0, second=0, microsecond=0)
    windows = [w for w in truth["windows"] if w["source"]["id"] == modifier["id"]]
    assert all(parse(w["end"]) <= last_hour + timedelta(hours=1) for w in windows)


def test_ending_a_modifier_twice_is_a_409_and_records_nothing_more(seeded_client, seeded_store):
    modifier = applied_modifier(seeded_client)
    seeded_client.post(f"/api/simulation/modifiers/{modifier['id']}/end")
    recorded = seeded_store.log.read_after(0, kinds=["scenario"])

    response = seeded_client.post(f"/api/simulation/modifiers/{modifier['id']}/end")

    assert response.status_code == 409
    assert response.json["error"]["code"] == "modifier_over"
    assert response.json["error"]["hint"]
    assert seeded_store.log.read_after(0, kinds=["scenario"]) == recorded


@pytest.mark.parametrize("modifier_id", ["mod-999999", "mod-", "12", "evt-3"])
def test_ending_an_unknown_modifier_is_a_404_saying_where_to_find_them(seeded_client, modifier_id):
    response = seeded_client.post(f"/api/simulation/modifiers/{modifier_id}/end")

    assert response.status_code == 404
    assert response.json["error"]["code"] == "unknown_modifier"
    assert "/api/simulation/state" in response.json["error"]["hint"]


def test_a_reset_ends_every_modifier_so_none_is_left_to_end(seeded_client):
    modifier = applied_modifier(seeded_client)
    seeded_client.post("/api/simulation/reset")

    response = seeded_client.post(f"/api/simulation/modifiers/{modifier['id']}/end")

    assert response.status_code == 404


def test_the_detector_benchmark_lays_out_one_labelled_anomaly_of_each_shape_and_red_herrings(
    seeded_client, wall
):
    response = seeded_client.post("/api/simulation/benchmark")

    laid_out = response.json
    assert response.status_code == 201
    anomalies = laid_out["anomalies"]
    kinds = [
        "clock-skew", "correlation-break", "duplicate", "flatline", "late", "level-shift",
        "missing", "out-of-order", "seasonality", "spike", "trend", "variance",
    ]  # fmt: skip
    assert sorted(a["kind"] for a in anomalies) == kinds
    assert len({a["stream"] for a in anomalies}) == len(kinds)
    assert all(a["status"] == "scheduled" for a in anomalies)
    assert all(h["scheduled"] and not h["actualImpact"] for h in laid_out["redHerrings"])
    wall.advance(timedelta(days=1))  # simulated time runs at 1x here
    advance_lifecycle(simulation_of(seeded_client))  # the red herrings come due

    truth = seeded_client.get(
        f"/api/ground-truth?start={laid_out['start']}&end={laid_out['end']}"
    ).json

    for anomaly in anomalies:
        windows = [w for w in truth["windows"] if w["source"]["id"] == anomaly["id"]]
        named = [w for w in windows if w["named"]]
        assert named and {w["kind"] for w in windows} == {anomaly["kind"]}, anomaly
        assert named[0]["stream"] == anomaly["stream"]
    herrings = {h["id"] for h in laid_out["redHerrings"]}
    recorded = [c for c in truth["causes"] if c["id"] in herrings]
    assert len(recorded) == 2 and not any(c["causal"] for c in recorded)
