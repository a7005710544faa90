"""Scenario transitions, injected events, resets and leadership changes each write a log line
with the scenario, run and process they concern."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime, timedelta

from app.extensions import simulation
from app.services.scenarios import advance_lifecycle
from app.settings import Settings
from jobs.scheduler import Scheduler

SCENARIOS = "app.services.scenarios"


def lines_about(log_lines, logger: str) -> list[dict]:
    return [
        {key: line[key] for key in line if key not in ("time", "level", "logger")}
        for line in log_lines.of(logger)
    ]


def test_activation_and_stop_log_each_transition_with_scenario_and_run_id(seeded_client, log_lines):
    run_id = seeded_client.post(
        "/api/simulation/scenario", json={"scenarioId": "supply-crisis"}
    ).json["scenario"]["runId"]
    seeded_client.post("/api/simulation/stop")

    lines = lines_about(log_lines, SCENARIOS)
    transitions = [line for line in lines if line["message"].startswith("scenario ")]
    assert [line["message"] for line in transitions] == [
        "scenario activated", "scenario stopped", "scenario settling"
    ]  # fmt: skip
    assert {(line["scenario"], line["run_id"]) for line in transitions} == {
        ("supply-crisis", run_id)
    }
    injected = [line for line in lines if line["message"].startswith("external event")]
    assert injected and {(line["scenario"], line["run_id"]) for line in injected} == {
        ("supply-crisis", run_id)
    }
    assert all(line["event_id"].startswith("evt-") for line in injected)


def test_settling_and_settled_brought_by_time_are_logged_with_their_run(
    seeded_client, log_lines, wall
):
    run_id = seeded_client.post(
        "/api/simulation/scenario", json={"scenarioId": "support-overload"}
    ).json["scenario"]["runId"]
    seeded_client.post("/api/simulation/clock", json={"speed": 100_000})  # a day per second
    wall.advance(timedelta(seconds=1.2))
    with seeded_client.application.app_context():
        advance_lifecycle(simulation())
        advance_lifecycle(simulation())

    lines = lines_about(log_lines, SCENARIOS)
    settled = [
        line for line in lines if line["message"] in ("scenario settling", "scenario settled")
    ]
    assert [(line["message"], line["scenario"], line["run_id"]) for line in settled] == [
        ("scenario settling", "support-overload", run_id),
        ("scenario settled", "support-overload", run_id),
    ]


def test_a_modifier_that_runs_its_course_expires_on_record_and_in_the_log(
    seeded_client, seeded_store, log_lines, wall
):
    modifier = seeded_client.post(
        "/api/simulation/modifiers",
        json={
            "stream": "customer.app.opened",
            "type": "multiplier",
            "value": 3,
            "duration": "PT1H",
        },
    ).json["modifier"]
    seeded_client.post("/api/simulation/clock", json={"speed": 100_000})  # a day per second
    wall.advance(timedelta(seconds=0.1))
    with seeded_client.application.app_context():
        advance_lifecycle(simulation())
        advance_lifecycle(simulation())

    (expired,) = seeded_store.log.read_after(0, types=["modifier.expired"])
    assert expired.data == {"modifierId": modifier["id"], "stream": "customer.app.opened"}
    assert expired.occurred_at.isoformat().replace("+00:00", "Z") == modifier["endsAt"]
    (line,) = [line for line in lines_about(log_lines, SCENARIOS) if "modifier" in line["message"]]
    assert (line["message"], line["modifier_id"]) == ("modifier expired", expired.correlation_id)


def test_an_injected_event_and_a_reset_are_logged(seeded_client, log_lines):
    injected = seeded_client.post("/api/events", json={"template": "tiktok-mention"})
    event_id = injected.json["event"]["id"]
    later = (datetime.now(UTC) + timedelta(hours=3)).isoformat().replace("+00:00", "Z")
    scheduled_id = seeded_client.post(
        "/api/events", json={"template": "aws-outage", "timestamp": later}
    ).json["event"]["id"]
    seeded_client.post("/api/simulation/reset")

    lines = lines_about(log_lines, SCENARIOS)
    recorded, scheduled, reset = lines
    assert (recorded["message"], recorded["event_id"]) == ("external event recorded", event_id)
    assert (scheduled["message"], scheduled["event_id"]) == (
        "external event scheduled", scheduled_id
    )  # fmt: skip
    assert "run_id" not in recorded
    assert (reset["message"], reset["epoch"]) == ("simulation reset", 2)


def test_leadership_changes_are_logged_with_the_process_id(database_url, log_lines):
    """With no baseline seeded, a leader gives the lock back at once: both lines come."""
    stop = threading.Event()
    scheduler = Scheduler(Settings(database_url=database_url), database_url, standby_retry=0.1)
    thread = threading.Thread(target=scheduler.run, args=(stop,), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not any(line.get("leader") == "lost" for line in log_lines.lines):
            assert time.monotonic() < deadline, "no leadership change was logged"
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(10)

    changes = [line for line in log_lines.of("jobs.scheduler") if "leader" in line]
    assert [line["leader"] for line in changes[:2]] == ["acquired", "lost"]
    assert {line["pid"] for line in changes} == {os.getpid()}
    assert all(line["host"] for line in changes)
    assert changes[0]["message"].startswith("scheduler: leader (advisory lock")
