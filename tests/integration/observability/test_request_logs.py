"""Every request gets an id (the client's when sane), echoed in `X-Request-ID`, bound to every
line logged while it is served, and one JSON access line."""

from __future__ import annotations

import re

from flask import Response

from app.observability.logs import context_fields

ACCESS = "marketsim.http"


def test_a_sane_request_id_is_echoed_back(client):
    response = client.get("/healthz", headers={"X-Request-ID": "trace-42.a_b"})

    assert response.headers["X-Request-ID"] == "trace-42.a_b"


def test_an_unsafe_request_id_is_replaced_by_a_generated_one(client):
    response = client.get("/healthz", headers={"X-Request-ID": "x" * 129})
    other = client.get("/healthz", headers={"X-Request-ID": "bad id; drop"})

    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])
    assert re.fullmatch(r"[0-9a-f]{32}", other.headers["X-Request-ID"])
    assert response.headers["X-Request-ID"] != other.headers["X-Request-ID"]


def test_each_request_writes_one_json_access_line_with_its_fields(client, log_lines):
    response = client.get("/api/streams/session.started?x=1", headers={"X-Request-ID": "req-1"})

    [line] = log_lines.of(ACCESS)
    assert response.status_code == 200
    assert line["request_id"] == "req-1"
    assert (line["method"], line["path"], line["status"]) == (
        "GET", "/api/streams/session.started", 200
    )  # fmt: skip
    assert line["route"] == "/api/streams/<name>"
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["message"] == "GET /api/streams/session.started 200"


def test_an_error_response_gets_its_access_line_and_id_too(client, log_lines):
    response = client.get("/no/such/page")

    [line] = log_lines.of(ACCESS)
    assert (line["status"], line["route"]) == (404, "unmatched")
    assert line["request_id"] == response.headers["X-Request-ID"]


def test_a_request_answered_early_by_another_hook_still_gets_its_id_and_line(app, log_lines):
    @app.before_request
    def refuse() -> Response:
        return Response("no", status=401)

    response = app.test_client().get("/healthz", headers={"X-Request-ID": "early-1"})

    assert (response.status_code, response.headers["X-Request-ID"]) == (401, "early-1")
    [line] = log_lines.of(ACCESS)
    assert (line["status"], line["request_id"]) == (401, "early-1")


def test_lines_logged_while_serving_carry_the_request_id_and_it_is_unbound_after(
    seeded_client, log_lines
):
    seeded_client.post(
        "/api/simulation/scenario",
        json={"scenarioId": "supply-crisis"},
        headers={"X-Request-ID": "activate-1"},
    )

    [activated] = [line for line in log_lines.lines if line["message"] == "scenario activated"]
    assert activated["request_id"] == "activate-1"
    assert context_fields() == {}
