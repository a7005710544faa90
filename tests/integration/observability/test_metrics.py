"""`/metrics` on a real Postgres: Prometheus text that moves with the log, the scenarios, the
scheduler's leadership and the requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
from prometheus_client.parser import text_string_to_metric_families

from app.domain.events import NewEvent
from app.settings import Settings
from app.store import Store
from app.store.database import libpq_url
from app.store.leader import LOCK_KEY
from app.web import create_app
from jobs.generate import tick
from tests.integration.observability.conftest import parse_metrics, sample

T0 = datetime(2026, 11, 25, 10, tzinfo=UTC)

SERVICE_FAMILIES = {
    "marketsim_events_appended",
    "marketsim_log_position",
    "marketsim_feed_running",
    "marketsim_ws_clients",
    "marketsim_ws_send_queue_events",
    "marketsim_ws_send_queue_max_events",
    "marketsim_scheduler_leader",
    "marketsim_scenario_phase",
    "marketsim_epoch",
    "marketsim_clock_speed",
    "marketsim_collector_up",
    "marketsim_collector_duration_seconds",
    "marketsim_http_requests",
    "marketsim_http_request_duration_seconds",
}


def stream_events(stream: str, count: int, start: int = 0) -> list[NewEvent]:
    moments = [T0 + timedelta(minutes=start + i) for i in range(count)]
    return [NewEvent(kind="stream", type=stream, stream=stream, occurred_at=at) for at in moments]


def notice(kind: str, type_: str) -> NewEvent:
    return NewEvent(kind=kind, type=type_, occurred_at=T0)


def appended(samples, kind: str, stream: str = "") -> float | None:
    return sample(samples, "marketsim_events_appended_total", kind=kind, stream=stream)


def phase_of(samples, scenario: str) -> str:
    [current] = [
        phase
        for phase in ("active", "settling", "none")
        if sample(samples, "marketsim_scenario_phase", scenario=scenario, phase=phase) == 1
    ]
    return current


def test_metrics_is_prometheus_text_with_help_for_every_family(client):
    client.get("/healthz")
    response = client.get("/metrics")

    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=0.0.4")
    families = {f.name: f for f in text_string_to_metric_families(response.get_data(as_text=True))}
    assert set(families) >= SERVICE_FAMILIES
    assert all(f.documentation for f in families.values() if f.name.startswith("marketsim_"))


def test_appended_events_are_counted_by_stream_and_kind(client, store, scrape):
    store.log.append(stream_events("session.started", 3) + stream_events("customer.signup", 2))
    store.log.append([notice("scenario", "scenario.activated"), notice("control", "control.tick")])

    samples = scrape(client)

    assert appended(samples, "stream", "session.started") == 3
    assert appended(samples, "stream", "customer.signup") == 2
    assert appended(samples, "scenario") == 1
    assert appended(samples, "control") == 1
    assert sample(samples, "marketsim_log_position") == 7


def test_events_are_counted_once_whether_or_not_the_rollup_has_folded_them(client, store, scrape):
    store.log.append(stream_events("session.started", 4))
    store.rollup.catch_up()
    store.log.append(stream_events("session.started", 3, start=4))

    before_folding = appended(scrape(client), "stream", "session.started")
    store.rollup.catch_up()
    after_folding = appended(scrape(client), "stream", "session.started")

    assert before_folding == after_folding == 7


def test_later_scrapes_count_the_new_events_and_agree_with_a_full_count(
    client, store, database_url, scrape
):
    store.log.append(stream_events("session.started", 4))
    scrape(client)  # the full count
    store.log.append([*stream_events("session.started", 5, start=4), notice("external", "x")])
    store.rollup.catch_up()
    store.log.append(stream_events("customer.tutor.search", 2))

    later = scrape(client)
    fresh_app = create_app(Settings(database_url=database_url), store=store).test_client()
    full = scrape(fresh_app)

    def figures(samples) -> tuple:
        return (
            appended(samples, "stream", "session.started"),
            appended(samples, "stream", "customer.tutor.search"),
            appended(samples, "external"),
            sample(samples, "marketsim_log_position"),
        )

    assert figures(later) == figures(full) == (9, 2, 1, 12)


def test_a_log_shorter_than_the_last_count_is_counted_afresh(client, store, database_url, scrape):
    store.log.append(stream_events("session.started", 5))
    scrape(client)
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")  # past the append-only trigger
        conn.execute("TRUNCATE event_log, stream_hourly, projection_position RESTART IDENTITY")
    store.log.append(stream_events("session.started", 2))

    samples = scrape(client)

    assert appended(samples, "stream", "session.started") == 2
    assert sample(samples, "marketsim_log_position") == 2


def test_a_scenario_shows_active_then_settling_and_a_reset_moves_the_epoch(seeded_client, scrape):
    assert phase_of(scrape(seeded_client), "supply-crisis") == "none"
    assert sample(scrape(seeded_client), "marketsim_epoch") == 1

    seeded_client.post("/api/simulation/scenario", json={"scenarioId": "supply-crisis"})
    active = scrape(seeded_client)
    seeded_client.post("/api/simulation/stop")
    settling = scrape(seeded_client)
    seeded_client.post("/api/simulation/reset")
    after_reset = scrape(seeded_client)

    assert phase_of(active, "supply-crisis") == "active"
    assert phase_of(active, "payment-outage") == "none"
    assert phase_of(settling, "supply-crisis") == "settling"
    assert phase_of(after_reset, "supply-crisis") == "none"
    assert sample(after_reset, "marketsim_epoch") == 2


def test_the_clock_speed_follows_the_log(seeded_client, scrape):
    assert sample(scrape(seeded_client), "marketsim_clock_speed") == 1

    seeded_client.post("/api/simulation/clock", json={"speed": 60})

    assert sample(scrape(seeded_client), "marketsim_clock_speed") == 60


def test_how_far_behind_each_cadence_group_is_shown_once_it_has_generated(
    seeded_client, seeded_store, scrape
):
    def behind() -> float | None:
        return sample(scrape(seeded_client), "marketsim_generation_behind_seconds", group="high")

    assert behind() is None
    now = datetime.now(UTC)
    seeded_store.log.append([tick("high", now - timedelta(hours=1), now - timedelta(minutes=10))])

    assert 600 <= behind() < 660


def test_the_leader_lock_holder_and_its_backend_pid_are_shown(client, database_url, scrape):
    assert sample(scrape(client), "marketsim_scheduler_leader") == 0

    with psycopg.connect(libpq_url(database_url), autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        held = scrape(client)
        holder.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
        released = scrape(client)
        holder_pid = holder.info.backend_pid

    assert sample(held, "marketsim_scheduler_leader") == 1
    assert sample(held, "marketsim_scheduler_leader_backend_pid") == holder_pid
    assert sample(released, "marketsim_scheduler_leader") == 0
    assert sample(released, "marketsim_scheduler_leader_backend_pid") is None


def test_requests_are_counted_by_route_template_never_by_raw_path(client, scrape):
    client.get("/api/streams/session.started")
    client.get("/api/streams/customer.tutor.search")
    client.get("/no/such/page")
    client.open("/healthz", method="BREW")

    samples = scrape(client)

    by_template = {"method": "GET", "route": "/api/streams/<name>", "status": "200"}
    assert sample(samples, "marketsim_http_requests_total", **by_template) == 2
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert sample(samples, "marketsim_http_requests_total", **unmatched) == 1
    odd_method = {"method": "other", "route": "unmatched", "status": "405"}
    assert sample(samples, "marketsim_http_requests_total", **odd_method) == 1
    assert not any("session.started" in dict(labels).get("route", "") for _, labels in samples)


def test_each_request_is_observed_in_the_duration_histogram(client, scrape):
    for _ in range(3):
        client.get("/healthz")

    samples = scrape(client)

    labels = {"method": "GET", "route": "/healthz"}
    assert sample(samples, "marketsim_http_request_duration_seconds_count", **labels) == 3
    assert sample(samples, "marketsim_http_request_duration_seconds_bucket", le="+Inf", **labels)
    assert sample(samples, "marketsim_http_request_duration_seconds_sum", **labels) > 0


def test_two_apps_in_one_process_keep_their_own_request_counts(client, store, database_url):
    other = create_app(Settings(database_url=database_url), store=store).test_client()
    client.get("/healthz")
    client.get("/healthz")
    other.get("/healthz")

    counts = [
        sample(
            parse_metrics(c.get("/metrics").get_data(as_text=True))[1],
            "marketsim_http_requests_total",
            method="GET",
            route="/healthz",
            status="200",
        )
        for c in (client, other)
    ]

    assert counts == [2, 1]


def test_a_database_that_does_not_answer_marks_its_collectors_down_and_the_rest_is_served():
    unreachable = "postgresql://postgres@127.0.0.1:1/nowhere"
    store = Store.connect(unreachable)
    try:
        client = create_app(Settings(database_url=unreachable), store=store).test_client()
        response = client.get("/metrics")
    finally:
        store.close()

    assert response.status_code == 200
    _, samples = parse_metrics(response.get_data(as_text=True))
    assert sample(samples, "marketsim_collector_up", collector="log") == 0
    assert sample(samples, "marketsim_collector_up", collector="leader") == 0
    assert sample(samples, "marketsim_collector_up", collector="feed") == 1
    assert sample(samples, "marketsim_ws_clients") == 0
