"""The simulation clock over HTTP: read it, change its speed, refuse nonsense."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def test_the_clock_runs_at_wall_speed_until_told_otherwise(seeded_client):
    body = seeded_client.get("/api/simulation/clock").json

    assert body["speed"] == 1.0
    assert abs((parse(body["currentSimulationTime"]) - datetime.now(UTC)).total_seconds()) < 60


def test_a_speed_change_is_recorded_and_keeps_simulated_time_continuous(seeded_client,
                                                                        seeded_store):  # fmt: skip
    before = parse(seeded_client.get("/api/simulation/clock").json["currentSimulationTime"])

    response = seeded_client.post("/api/simulation/clock", json={"speed": 60})

    assert response.status_code == 200
    assert response.json["speed"] == 60.0
    after = parse(response.json["currentSimulationTime"])
    assert 0 <= (after - before).total_seconds() < 60
    assert seeded_client.get("/api/simulation/state").json["speed"] == 60.0
    clock_events = seeded_store.log.read_after(0, types=["control.clock"])
    assert [e.data["speed"] for e in clock_events] == [60.0]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"speed": "fast"}, 400, "invalid_field"),
        ({"speed": 0}, 400, "invalid_field"),
        ({"speed": -2}, 400, "invalid_field"),
        ({"speed": 1e9}, 400, "invalid_field"),
        ({"speed": True}, 400, "invalid_field"),
        ({}, 400, "invalid_field"),
        ([60], 400, "invalid_json"),
    ],
)
def test_a_bad_speed_is_refused_with_what_to_send(seeded_client, seeded_store, body, status,
                                                  code):  # fmt: skip
    response = seeded_client.post("/api/simulation/clock", json=body)

    assert response.status_code == status
    assert response.json["error"]["code"] == code
    assert response.json["error"]["hint"]
    assert seeded_store.log.read_after(0) == []


def test_a_body_that_is_not_json_gets_a_415(seeded_client):
    response = seeded_client.post("/api/simulation/clock", data="speed=60")

    assert response.status_code == 415
    assert response.json["error"]["code"] == "unsupported_media_type"
