"""GET /api/simulation/history, /api/baseline/statistics and /api/simulation/state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.clock import SimClock
from app.domain.events import NewEvent
from app.domain.generator import GROUPS
from app.services.clock import clock_event
from jobs.generate import tick


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def test_by_default_history_is_the_7_days_ending_now_for_every_stream(seeded_client):
    body = seeded_client.get("/api/simulation/history").json

    start, end = parse(body["timeRange"]["start"]), parse(body["timeRange"]["end"])
    assert timedelta(days=7) <= end - start <= timedelta(days=7, hours=1)
    assert len(body["streams"]) >= 50
    points = body["streams"]["customer.booking.requested"]
    assert 150 <= len(points) <= 169
    assert set(points[0]) >= {"timestamp", "value", "normalized", "flag"}
    assert 0 <= points[0]["normalized"] <= 100
    assert body["resolution"] == "1h"


def test_twelve_hour_resolution_serves_the_baseline_buckets(seeded_client, fresh_baseline):
    stream = "session.completed"
    body = seeded_client.get(
        f"/api/simulation/history?streams={stream}&resolution=12h&start="
        f"{fresh_baseline.start:%Y-%m-%dT%H:%M:%SZ}&end={fresh_baseline.end:%Y-%m-%dT%H:%M:%SZ}"
    ).json

    values = [p["value"] for p in body["streams"][stream]]
    assert values == fresh_baseline.buckets[fresh_baseline.streams.index(stream)].tolist()


def test_the_external_events_of_the_range_come_with_the_data(seeded_client, fresh_baseline):
    body = seeded_client.get(
        f"/api/simulation/history?streams=session.started&start={fresh_baseline.start:%Y-%m-%d}"
        f"&end={fresh_baseline.end:%Y-%m-%dT%H:%M:%SZ}"
    ).json

    assert len(body["events"]) == sum(
        1 for e in fresh_baseline.events if e.occurred_at >= fresh_baseline.start
    )
    assert {"id", "title", "actualImpact", "expectedImpact"} <= set(body["events"][0])


def test_words_name_a_range_relative_to_simulated_now(seeded_client):
    body = seeded_client.get("/api/simulation/history?range=past 3 days&streams=customer.*").json

    start, end = parse(body["timeRange"]["start"]), parse(body["timeRange"]["end"])
    assert timedelta(days=3) <= end - start <= timedelta(days=3, hours=1)
    assert all(name.startswith("customer.") for name in body["streams"])


def test_live_stream_events_after_the_baseline_show_up_in_history(seeded_client, seeded_store,
                                                                  fresh_baseline):  # fmt: skip
    hour = fresh_baseline.end
    seeded_store.log.append(
        [
            NewEvent(
                kind="stream",
                type="support.ticket.escalated",
                stream="support.ticket.escalated",
                occurred_at=hour + timedelta(minutes=m),
            )
            for m in (1, 2, 3)
        ]
        + [tick(group, hour, hour + timedelta(minutes=10)) for group in GROUPS]
    )

    body = seeded_client.get("/api/simulation/history?streams=support.ticket.escalated").json

    points = body["streams"]["support.ticket.escalated"]
    live = [p for p in points if parse(p["timestamp"]) >= hour]
    assert [p["value"] for p in live] == [3]  # nothing past the hour generation reached
    assert parse(body["coverage"]["live"]["start"]) == hour


def test_a_stream_is_shown_only_as_far_as_every_group_feeding_it_has_generated(
    seeded_client, seeded_store, fresh_baseline
):
    """Booking requests are medium-cadence, caused by high-cadence searches: with the medium
    group hours ahead of the high one, the hours between hold none of them yet (they come in
    dated back when the high group gets there), which read as hours of silence."""
    hour, stream = fresh_baseline.end, "customer.booking.requested"
    signups = "customer.signup.completed"  # medium-cadence, fed by nothing faster
    clock = SimClock(datetime.now(UTC), hour + timedelta(hours=4))
    seeded_store.log.append(
        [clock_event(clock)]
        + [NewEvent("stream", stream, hour + timedelta(minutes=m), stream) for m in (1, 2, 3)]
        + [NewEvent("stream", signups, hour + timedelta(hours=2, minutes=5), signups)]
        + [tick("high", hour, hour + timedelta(minutes=30))]
        + [tick(group, hour, hour + timedelta(hours=3)) for group in ("medium", "low")]
    )

    body = seeded_client.get(f"/api/simulation/history?streams={stream}").json

    live = [p for p in body["streams"][stream] if parse(p["timestamp"]) >= hour]
    assert [p["value"] for p in live] == [3]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("resolution=5m", "resolution"),
        ("start=yesterday-ish", "start"),
        ("end=2026-13-01", "end"),
        ("start=2026-11-20&end=2026-11-10", "start"),
        ("start=2026-01-01&end=2026-11-01", "start"),
        ("range=next week", "range"),
        ("range=past 3 days&start=2026-11-20", "range"),
        ("streams=customer.teleport.started", "streams"),
        ("streams=", "streams"),
        ("streams=session.started,,session.completed", "streams"),
    ],
)
def test_bad_parameters_get_a_400_that_names_the_parameter(seeded_client, query, parameter):
    response = seeded_client.get(f"/api/simulation/history?{query}")

    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_parameter"
    assert f"parameter '{parameter}'" in response.json["error"]["message"]
    assert response.json["error"]["hint"]


def test_statistics_are_served_per_stream(seeded_client):
    body = seeded_client.get("/api/baseline/statistics?streams=session.started").json

    stats = body["streams"]["session.started"]
    assert set(body["streams"]) == {"session.started"}
    assert {"mean", "median", "stdDev", "percentiles", "patterns", "slots"} <= set(stats)
    assert stats["patterns"]["weekendUplift"] > 0.2


def test_state_reports_simulated_time_and_the_baseline(seeded_client, fresh_baseline):
    body = seeded_client.get("/api/simulation/state").json

    now = parse(body["currentSimulationTime"])
    assert abs((now - datetime.now(UTC)).total_seconds()) < 60
    assert parse(body["baseline"]["end"]) == fresh_baseline.end
    assert body["epoch"] == 1


def test_before_the_first_job_a_first_start_hours_after_the_baseline_is_catching_up(
    seeded_client, fresh_baseline, wall
):
    wall.advance(fresh_baseline.end + timedelta(hours=3) - datetime.now(UTC))

    found = seeded_client.get("/api/simulation/state").json["generation"]

    assert found["catchingUp"] is True
    assert 3 * 3600 - 60 <= found["behindSeconds"] <= 3 * 3600 + 60


def test_the_state_and_readyz_say_when_generation_is_catching_up(seeded_client, seeded_store):
    def generation(path: str) -> dict:
        return seeded_client.get(path).json["generation"]

    now = datetime.now(UTC)
    seeded_store.log.append(
        [tick(group, now - timedelta(hours=7), now - timedelta(hours=6))
         for group in ("high", "medium", "low")]
    )  # fmt: skip

    for path in ("/api/simulation/state", "/readyz"):
        found = generation(path)
        assert found["catchingUp"] is True
        assert 6 * 3600 <= found["behindSeconds"] < 6 * 3600 + 60


def test_without_a_seeded_baseline_history_answers_503_with_what_to_do(client):
    response = client.get("/api/simulation/history")

    assert response.status_code == 503
    assert response.json["error"]["code"] == "baseline_missing"
    assert "marketsim seed" in response.json["error"]["hint"]
