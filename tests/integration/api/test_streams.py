"""The stream catalog over HTTP."""

from __future__ import annotations

import pytest


def test_the_catalog_lists_every_stream_with_domain_cadence_unit_and_description(client):
    body = client.get("/api/streams").json

    assert body["count"] == len(body["streams"]) >= 50
    assert {s["domain"] for s in body["streams"]} == {
        "customer", "tutor", "session", "support", "marketing", "system"
    }  # fmt: skip
    search = next(s for s in body["streams"] if s["name"] == "customer.tutor.search")
    assert search["cadence"] in ("high", "medium", "low")
    assert search["frequencyGroup"] == f"{search['cadence']}-frequency"
    assert search["unit"] and search["description"]


@pytest.mark.parametrize(("parameter", "value"), [("domain", "session"), ("cadence", "low")])
def test_the_catalog_filters_by_domain_and_cadence(client, parameter, value):
    streams = client.get(f"/api/streams?{parameter}={value}").json["streams"]

    assert streams
    assert all(s[parameter] == value for s in streams)


def test_an_unknown_filter_value_is_a_400_that_lists_the_valid_ones(client):
    response = client.get("/api/streams?domain=weather")

    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_parameter"
    assert "domain" in response.json["error"]["message"]
    assert "customer" in response.json["error"]["hint"]


def test_one_stream_shows_its_fields_baseline_and_rules(client):
    body = client.get("/api/streams/customer.booking.requested").json

    assert body["fields"]["bookingId"]["type"] == "id"
    assert body["baseline"]["model"] == "chain"
    assert {r["to"] for r in body["causes"]} >= {
        "customer.booking.confirmed", "customer.booking.declined", "customer.booking.expired"
    }  # fmt: skip
    assert body["causedBy"]
    assert body["expectedPerDay"] > 1000


def test_an_unknown_stream_is_a_404_in_the_json_error_shape(client):
    response = client.get("/api/streams/customer.teleport.requested")

    assert response.status_code == 404
    assert response.json["error"]["code"] == "unknown_stream"
    assert "/api/streams" in response.json["error"]["hint"]
