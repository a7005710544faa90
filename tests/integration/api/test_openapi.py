"""The OpenAPI document covers every endpoint, and what the endpoints really send matches it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import jsonify
from pydantic import BaseModel

from app.api.openapi import documented, operations
from app.api.schemas import Error, Schema

UNDOCUMENTED = {"/api/openapi.json", "/api/docs"}


def _declared(app, method: str, path: str, status: int) -> type[BaseModel]:
    for found_method, found_path, operation, _ in operations(app):
        if (found_method, found_path) == (method, path):
            return operation.responses[status] if status < 400 else Error
    raise AssertionError(f"{method} {path} is not in the document")


def _conforms(client, method: str, path: str, template: str, status: int, **kwargs) -> dict:
    response = client.open(path, method=method, **kwargs)
    assert response.status_code == status, response.json
    model = _declared(client.application, method, template, status)
    model.model_validate(response.json)
    return response.json


def test_every_api_route_is_in_the_document(app):
    documented = {(method, path) for method, path, _, _ in operations(app)}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api") or rule.rule in UNDOCUMENTED:
            continue
        path = rule.rule.replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (method, path) in documented, f"{method} {rule.rule} has no @documented"


def test_the_document_is_served_with_components_for_every_reference(client):
    document = client.get("/api/openapi.json").json

    assert document["openapi"].startswith("3.1")
    schemas = document["components"]["schemas"]
    text = str(document)
    for name in {part.split("'")[0] for part in text.split("#/components/schemas/")[1:]}:
        assert name in schemas, f"{name} is referenced but not defined"
    history = document["paths"]["/api/simulation/history"]["get"]
    assert {p["name"] for p in history["parameters"]} == {
        "start", "end", "range", "streams", "resolution"
    }  # fmt: skip


def _parameter(document: dict, path: str, name: str) -> dict:
    return next(p for p in document["paths"][path]["get"]["parameters"] if p["name"] == name)


@pytest.mark.parametrize(
    ("path", "name", "allowed", "refused"),
    [
        ("/api/simulation/history", "start",
         ["now", "2026-11-20", "2026-11-20T12:00:00Z", "2026-11-20T12:00:00+02:00"],
         ["", "yesterday", "12:00"]),
        ("/api/simulation/history", "range",
         ["today", "past 3 days", "last week", "3 weeks ago"], ["", "0 days ago", "soon"]),
        ("/api/simulation/history", "streams",
         ["customer.app.opened", "customer.*,system.uptime"],
         ["", "customer.app.closed", "customer.app.opened,"]),
        ("/api/ground-truth", "end", ["now"], [""]),
    ],
)  # fmt: skip
def test_query_parameters_say_what_the_server_takes(client, path, name, allowed, refused):
    """A client generated from the document cannot send a value the server refuses."""
    import jsonschema

    schema = _parameter(client.get("/api/openapi.json").json, path, name)["schema"]

    for value in allowed:
        jsonschema.validate(value, schema)
    for value in refused:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(value, schema)


def test_an_event_needs_a_template_or_its_custom_fields_in_the_document(client):
    import jsonschema

    document = client.get("/api/openapi.json").json
    body = {"$ref": "#/components/schemas/EventInjection", "components": document["components"]}

    jsonschema.validate({"template": "aws-outage"}, body)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({}, body)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"type": "technical", "title": "x"}, body)


def test_the_docs_page_lists_every_operation(client):
    page = client.get("/api/docs")
    document = client.get("/api/openapi.json").json

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for path in document["paths"]:
        assert f"<code>{path}</code>" in html
    assert "https://" not in html and "http://" not in html.replace("http://localhost", "")


def test_mutating_operations_name_the_bearer_scheme(client):
    document = client.get("/api/openapi.json").json

    post = document["paths"]["/api/simulation/scenario"]["post"]
    assert {"bearer": []} in post["security"]
    assert "401" in post["responses"] and "409" in post["responses"]
    assert "security" not in document["paths"]["/api/simulation/state"]["get"]


@pytest.mark.slow
def test_every_endpoint_answers_in_its_documented_shape(seeded_client):
    client = seeded_client
    now = datetime.now(UTC)
    past = (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    future = (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    _conforms(client, "GET", "/healthz", "/healthz", 200)
    _conforms(client, "GET", "/readyz", "/readyz", 200)
    _conforms(client, "GET", "/api/streams", "/api/streams", 200)
    for name in ("session.started", "system.api.latency", "customer.tutor.search"):
        _conforms(client, "GET", f"/api/streams/{name}", "/api/streams/{name}", 200)
    _conforms(client, "GET", "/api/simulation/scenarios", "/api/simulation/scenarios", 200)
    _conforms(client, "GET", "/api/simulation/clock", "/api/simulation/clock", 200)
    _conforms(client, "GET", "/api/simulation/state", "/api/simulation/state", 200)

    activated = _conforms(
        client, "POST", "/api/simulation/scenario", "/api/simulation/scenario", 201,
        json={"scenarioId": "payment-outage"},
    )  # fmt: skip
    _conforms(
        client, "POST", "/api/simulation/modifiers", "/api/simulation/modifiers", 201,
        json={"stream": "customer.app.opened", "type": "override", "value": 900,
              "duration": "PT2H"},
    )  # fmt: skip
    injected = [
        _conforms(client, "POST", "/api/events", "/api/events", 201, json=body)["event"]
        for body in (
            {"template": "aws-outage", "timestamp": past},
            {"template": "tiktok-mention", "timestamp": future, "actualImpact": False},
            {
                "type": "operational",
                "title": "Office flood",
                "expectedImpact": {
                    "streams": [
                        {"stream": "support.chat.started", "direction": "decrease",
                         "magnitude": "high"}
                    ],
                    "duration": "PT3H",
                },
            },
        )
    ]  # fmt: skip
    assert {e["source"]["kind"] for e in activated["events"]} == {"scenario"}
    assert {e["source"]["kind"] for e in injected} == {"api"}

    state = _conforms(client, "GET", "/api/simulation/state", "/api/simulation/state", 200)
    assert state["activeScenario"] and len(state["activeModifiers"]) == 2
    history = _conforms(
        client, "GET", "/api/simulation/history?range=past 2 days&streams=system.*",
        "/api/simulation/history", 200,
    )  # fmt: skip
    assert {e["source"]["kind"] for e in history["events"]} >= {"api"}
    _conforms(
        client, "GET", "/api/simulation/history?resolution=12h&streams=session.*",
        "/api/simulation/history", 200,
    )  # fmt: skip
    _conforms(
        client, "GET", "/api/simulation/diff?range=past 2 days&streams=system.*",
        "/api/simulation/diff", 200,
    )  # fmt: skip
    _conforms(client, "GET", "/api/baseline/statistics", "/api/baseline/statistics", 200)
    events = _conforms(client, "GET", "/api/events", "/api/events", 200)
    _conforms(client, "GET", "/api/events/templates", "/api/events/templates", 200)
    assert {e["source"]["kind"] for e in events["events"]} >= {"baseline", "api", "scenario"}
    for event_id in (injected[0]["id"], events["events"][0]["id"]):
        _conforms(
            client, "GET", f"/api/events/{event_id}/impact", "/api/events/{event_id}/impact", 200
        )
    for stream in ("system.api.latency", "customer.app.opened", "customer.payment.failed"):
        _conforms(client, "GET", f"/api/streams/{stream}/causes", "/api/streams/{name}/causes", 200)
    truth = _conforms(
        client, "GET", "/api/ground-truth?streams=customer.app.opened,customer.payment.failed",
        "/api/ground-truth", 200,
    )  # fmt: skip
    assert {c["kind"] for c in truth["causes"]} >= {"scenario", "modifier", "calendar"}
    _conforms(
        client, "GET", "/api/ground-truth/deliveries?range=past 2 days&limit=10",
        "/api/ground-truth/deliveries", 200,
    )  # fmt: skip
    _conforms(client, "POST", "/api/simulation/clock", "/api/simulation/clock", 200,
              json={"speed": 2})  # fmt: skip
    _conforms(client, "POST", "/api/simulation/stop", "/api/simulation/stop", 200)
    _conforms(client, "POST", "/api/simulation/reset", "/api/simulation/reset", 200)
    _conforms(client, "GET", "/api/simulation/state", "/api/simulation/state", 200)


def test_a_400_names_the_field_at_fault_for_a_form_to_point_at(seeded_client):
    custom = {
        "type": "operational",
        "title": "Flood",
        "expectedImpact": {
            "streams": [{"stream": "nope", "direction": "decrease", "magnitude": "high"}],
            "duration": "PT3H",
        },
    }
    wrong_stream = seeded_client.post("/api/events", json=custom).json["error"]
    wrong_type = seeded_client.post(
        "/api/simulation/modifiers",
        json={"stream": "customer.app.opened", "type": "double", "value": 2, "duration": "PT1H"},
    ).json["error"]
    wrong_parameter = seeded_client.get("/api/simulation/history?resolution=5m").json["error"]

    assert wrong_stream["field"] == "expectedImpact.streams.0.stream"
    assert wrong_type["field"] == "type"
    assert wrong_parameter["field"] == "resolution"


def test_errors_answer_in_the_error_shape(seeded_client):
    _conforms(seeded_client, "GET", "/api/streams/nope", "/api/streams/{name}", 404)
    _conforms(
        seeded_client, "POST", "/api/simulation/scenario", "/api/simulation/scenario", 404,
        json={"scenarioId": "nope"},
    )  # fmt: skip
    _conforms(
        seeded_client, "POST", "/api/simulation/clock", "/api/simulation/clock", 400,
        json={"speed": True},
    )  # fmt: skip


class _Answer(Schema):
    status: str


@pytest.mark.parametrize(
    ("answer", "status", "said"),
    [
        ({"status": "ok", "extra": 1}, 200, "not in the shape of _Answer: extra"),
        ({"status": "ok"}, 202, "answered 202, a status its documentation does not list"),
        ({"oops": "not an error"}, 409, "not in the shape of Error: error"),
    ],
)
def test_an_answer_that_strays_from_its_documented_model_is_a_500_naming_where(
    app, answer, status, said
):
    """Every test's app checks its answers (CHECK_RESPONSES), so no view can drift from the
    document without some test failing."""

    @documented(tag="test", responses={200: _Answer})
    def stray():
        return jsonify(answer), status

    app.add_url_rule("/api/stray", "stray", stray)

    response = app.test_client().get("/api/stray")

    assert response.status_code == 500
    assert response.json["error"]["code"] == "undocumented_response"
    assert said in response.json["error"]["message"]
