"""External events over HTTP: inject (now, past, future), list, measured impact, causes,
historical regeneration and its diff, and ground truth."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from app.domain.catalog import load_catalog
from app.settings import PROJECT_ROOT


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def test_events_list_the_baselines_with_their_ground_truth(seeded_client, fresh_baseline):
    body = seeded_client.get(
        f"/api/events?start={iso(fresh_baseline.start)}&end={iso(fresh_baseline.end)}"
    ).json

    assert body["count"] == len(fresh_baseline.events)
    assert {e["actualImpact"] for e in body["events"]} == {True, False}


def test_the_template_list_is_the_whole_library_and_each_id_injects(seeded_client):
    catalog = load_catalog(PROJECT_ROOT / "config")
    body = seeded_client.get("/api/events/templates").json

    assert body["count"] == len(catalog.templates)
    assert [t["template"] for t in body["templates"]] == list(catalog.templates)
    outage = next(t for t in body["templates"] if t["template"] == "aws-outage")
    assert outage["type"] == "infrastructure"
    assert outage["expectedImpact"]["streams"]
    assert 0 < outage["causalProbability"] <= 1
    injected = seeded_client.post("/api/events", json={"template": outage["template"]})
    assert injected.json["event"]["expectedImpact"] == outage["expectedImpact"]


def test_the_template_list_filters_by_category_and_refuses_an_unknown_one(seeded_client):
    marketing = seeded_client.get("/api/events/templates?type=marketing").json
    unknown = seeded_client.get("/api/events/templates?type=weather")

    assert marketing["count"] > 0
    assert {t["type"] for t in marketing["templates"]} == {"marketing"}
    assert unknown.status_code == 400
    assert unknown.json["error"]["code"] == "invalid_parameter"
    assert "marketing" in unknown.json["error"]["hint"]


def test_a_template_event_injected_now_is_recorded_and_listed(seeded_client):
    response = seeded_client.post("/api/events", json={"template": "tiktok-mention"})

    assert response.status_code == 201
    event = response.json["event"]
    assert event["id"].startswith("evt-")
    assert (event["scheduled"], event["retroactive"], event["actualImpact"]) == (
        False, False, True
    )  # fmt: skip
    listed = seeded_client.get("/api/events?start=" + iso(datetime.now(UTC) - timedelta(hours=1)))
    assert event["id"] in [e["id"] for e in listed.json["events"]]


def test_a_future_event_is_scheduled_and_a_past_one_changes_history(seeded_client,
                                                                    fresh_baseline):  # fmt: skip
    future = seeded_client.post(
        "/api/events",
        json={"template": "aws-outage", "timestamp": iso(datetime.now(UTC) + timedelta(hours=5))},
    ).json["event"]
    past_at = fresh_baseline.end - timedelta(days=3)
    past = seeded_client.post(
        "/api/events", json={"template": "app-launch", "timestamp": iso(past_at)}
    ).json["event"]

    assert future["scheduled"] is True
    assert past["retroactive"] is True
    history = seeded_client.get(
        f"/api/simulation/history?streams=customer.app.opened&start={iso(past_at)}"
        f"&end={iso(past_at + timedelta(days=1))}"
    ).json
    assert history["historicalMode"] == "modified"
    original = fresh_baseline.values[fresh_baseline.streams.index("customer.app.opened")]
    first = int((past_at - fresh_baseline.start) / timedelta(hours=1))
    shown = np.array([p["value"] for p in history["streams"]["customer.app.opened"]])
    assert shown.sum() > original[first : first + shown.size].sum() * 1.2  # medium: x1.4


def test_the_diff_shows_what_a_retroactive_event_changed(seeded_client, fresh_baseline):
    at = fresh_baseline.end - timedelta(days=2)
    seeded_client.post("/api/events", json={"template": "aws-outage", "timestamp": iso(at)})

    body = seeded_client.get(
        f"/api/simulation/diff?streams=system.api.latency&start={iso(at - timedelta(hours=2))}"
        f"&end={iso(at + timedelta(hours=6))}"
    ).json

    rows = body["streams"]["system.api.latency"]
    assert body["historicalMode"] == "modified"
    assert rows and all(r["modified"] > r["baseline"] for r in rows)
    assert all(at - timedelta(hours=1) <= parse(r["timestamp"]) < at + timedelta(hours=4)
               for r in rows)  # fmt: skip


def test_a_red_herring_injected_in_the_past_changes_nothing(seeded_client):
    at = datetime.now(UTC) - timedelta(days=5)
    seeded_client.post("/api/events",
                       json={"template": "aws-outage", "timestamp": iso(at),
                             "actualImpact": False})  # fmt: skip

    assert seeded_client.get("/api/simulation/diff").json["streams"] == {}
    assert seeded_client.get("/api/simulation/state").json["historicalMode"] == "baseline"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"template": "meteor-strike"}, "template"),
        ({"title": "Custom"}, "type"),
        ({"type": "marketing", "title": "X", "expectedImpact": {"streams": [], "duration":
          "PT1H"}}, "expectedImpact.streams"),
        ({"type": "marketing", "title": "X", "expectedImpact": {"streams": [
            {"stream": "customer.teleport", "direction": "increase", "magnitude": "low"}],
            "duration": "PT1H"}}, "expectedImpact.streams.0.stream"),
        ({"type": "marketing", "title": "X", "expectedImpact": {"streams": [
            {"stream": "support.chat.started", "direction": "increase", "magnitude": "low"}],
            "duration": 3600}}, "expectedImpact.duration"),  # a config's durations are ISO
        ({"type": "marketing", "title": "X", "expectedImpact": {"streams": [
            {"stream": "support.chat.started", "direction": "increase", "magnitude": "low"}]
            * 21, "duration": "PT1H"}}, "expectedImpact.streams"),
        ({"type": "weather", "title": "X"}, "type"),
        ({"template": "aws-outage", "timestamp": "soon"}, "timestamp"),
        ({"template": "aws-outage", "timestamp": "2020-01-01T00:00:00Z"}, "timestamp"),
    ],
)  # fmt: skip
def test_a_bad_injection_is_refused_naming_the_field_and_writes_nothing(
    seeded_client, seeded_store, body, field
):
    response = seeded_client.post("/api/events", json=body)

    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_field"
    assert f"'{field}'" in response.json["error"]["message"]
    assert seeded_store.log.read_after(0) == []


def test_a_custom_event_is_accepted_with_its_own_impact(seeded_client):
    response = seeded_client.post(
        "/api/events",
        json={
            "type": "operational", "title": "Office flood", "severity": "warning",
            "expectedImpact": {"streams": [{"stream": "support.chat.started",
                                            "direction": "decrease", "magnitude": "high"}],
                               "duration": "PT3H"},
        },
    )  # fmt: skip

    assert response.status_code == 201
    event = response.json["event"]
    assert event["expectedImpact"]["direction"] == "decrease"
    assert event["template"] is None


def test_a_causal_event_scores_high_on_its_streams_and_a_red_herring_near_zero(seeded_client):
    """Both injected into the past, days apart: each impact is measured against the flow with
    everything else recorded acting, so the baseline's own events do not confound it."""
    today = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0)

    def inject(days_ago: int, causal: bool) -> str:
        body = {"template": "aws-outage", "timestamp": iso(today - timedelta(days=days_ago)),
                "actualImpact": causal}  # fmt: skip
        response = seeded_client.post("/api/events", json=body)
        assert response.status_code == 201, response.json
        return response.json["event"]["id"]

    causal, herring = inject(3, True), inject(6, False)

    def named_scores(event_id: str) -> list[float]:
        rows = seeded_client.get(f"/api/events/{event_id}/impact").json["streams"]
        return [r["score"] for r in rows if r["named"]]

    assert max(named_scores(causal)) > 0.2
    assert max(named_scores(herring)) < 0.2


def test_an_unknown_event_id_is_a_404(seeded_client):
    response = seeded_client.get("/api/events/evt-999999/impact")

    assert response.status_code == 404
    assert response.json["error"]["code"] == "unknown_event"


def test_the_causes_of_a_stream_list_the_events_and_scenarios_that_acted_on_it(seeded_client):
    seeded_client.post("/api/simulation/scenario", json={"scenarioId": "payment-outage"})

    body = seeded_client.get("/api/streams/customer.payment.failed/causes").json

    kinds = {c["kind"] for c in body["causes"]}
    assert "scenario" in kinds
    assert any(c["kind"] == "external" and "measuredEffect" in c for c in body["causes"])


def test_ground_truth_labels_every_kind_of_cause_in_the_baseline_month(
    seeded_client, fresh_baseline
):
    body = seeded_client.get(
        f"/api/ground-truth?start={iso(fresh_baseline.start)}&end={iso(fresh_baseline.end)}"
    ).json

    labels = {(w["label"], w["causal"]) for w in body["windows"]}
    assert {("external", True), ("external", False), ("anomaly", True), ("calendar", True)} <= (
        labels
    )
    assert {c["kind"] for c in body["causes"]} >= {"external", "anomaly", "calendar"}
    herrings = [w for w in body["windows"] if not w["causal"]]
    assert all(w["effectSize"] == 0 and w["detectability"] == "none" for w in herrings)
    causal = [w for w in body["windows"] if w["causal"] and w["label"] != "calendar"]
    for herring in herrings:
        overlapping = {
            w["source"]["id"]
            for w in causal
            if w["stream"] == herring["stream"]
            and w["start"] < herring["end"]
            and herring["start"] < w["end"]
        }
        assert set(herring["confoundedBy"]) == overlapping
        assert herring["confounded"] == bool(overlapping)
    calendar = [w for w in body["windows"] if w["label"] == "calendar"]
    assert calendar and set(body["calendarWindows"]) == {w["stream"] for w in calendar}


def test_a_scenario_is_labelled_on_every_stream_it_moves_in_its_phase(seeded_client, wall):
    seeded_client.post("/api/simulation/clock", json={"speed": 100_000})
    seeded_client.post("/api/simulation/scenario", json={"scenarioId": "supply-crisis"})
    wall.advance(timedelta(seconds=0.2))  # about five and a half simulated hours

    body = seeded_client.get("/api/ground-truth?range=last%2024%20hours").json

    scenario = [w for w in body["windows"] if w["label"] == "scenario"]
    streams = {w["stream"] for w in scenario}
    assert "tutor.availability.updated" in streams
    assert any(not w["named"] for w in scenario), "effects down the chains are labelled too"
    assert {w["phase"] for w in scenario} == {"active"}
    (cause,) = [c for c in body["causes"] if c["kind"] == "scenario"]
    assert cause["source"]["scenarioId"] == "supply-crisis" and cause["windows"] == len(scenario)


def test_a_scenarios_own_events_name_its_run_in_ground_truth_and_causes(seeded_client):
    activation = seeded_client.post(
        "/api/simulation/scenario", json={"scenarioId": "supply-crisis"}
    ).json
    run_id = activation["scenario"]["runId"]
    (recorded,) = [e for e in activation["events"] if not e["scheduled"]]
    stream = recorded["expectedImpact"]["streams"][0]

    impact = recorded["impactWindow"]  # days after it is recorded
    span = f"start={impact['start']}&end={impact['end']}"
    truth = seeded_client.get(f"/api/ground-truth?streams={stream}&{span}").json
    causes = seeded_client.get(f"/api/streams/{stream}/causes").json["causes"]

    (labelled,) = [c for c in truth["causes"] if c["id"] == recorded["id"]]
    assert labelled["source"] | {"title": None, "template": None} == {
        "kind": "external", "id": recorded["id"], "title": None, "template": None,
        "scenarioId": "supply-crisis", "runId": run_id,
    }  # fmt: skip
    (cause,) = [c for c in causes if c["id"] == recorded["id"]]
    assert (cause["scenarioId"], cause["runId"]) == ("supply-crisis", run_id)


def test_a_scheduled_event_keeps_the_id_its_injection_answered_with(seeded_client, wall):
    from app.extensions import simulation
    from app.services.scenarios import advance_lifecycle

    due = datetime.now(UTC) + timedelta(minutes=10)
    event_id = seeded_client.post(
        "/api/events", json={"template": "aws-outage", "timestamp": iso(due)}
    ).json["event"]["id"]
    seeded_client.post("/api/simulation/clock", json={"speed": 100_000})
    wall.advance(timedelta(seconds=0.01))  # about seventeen simulated minutes
    with seeded_client.application.app_context():
        assert advance_lifecycle(simulation()) == 1

    listed = seeded_client.get(f"/api/events?start={iso(due - timedelta(hours=1))}&end=now").json
    assert [e["id"] for e in listed["events"] if e["template"] == "aws-outage"] == [event_id]
    assert seeded_client.get(f"/api/events/{event_id}/impact").status_code == 200
