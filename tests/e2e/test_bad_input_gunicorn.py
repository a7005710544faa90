"""Input that only a real server lets through, refused in the JSON error shape under gunicorn
as deployed: a chunked body over the limit, a request line over 4 KiB, JSON nested thousands
deep."""

from __future__ import annotations

import http.client
import json
import signal

import pytest

from tests.e2e.processes import start_gunicorn


@pytest.fixture(scope="module")
def server(postgres_server, tmp_path_factory):
    from app.store.migrations import upgrade

    url = postgres_server.create_database()
    upgrade(url)
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    process, port = start_gunicorn(url, workers=1, log=log)
    yield port
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    postgres_server.drop_database(url)


def _answer(response: http.client.HTTPResponse) -> tuple[int, dict]:
    return response.status, json.loads(response.read())


@pytest.mark.slow
def test_a_chunked_body_over_the_limit_is_a_413(server):
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    body = json.dumps({"template": "aws-outage", "description": "x" * 100_000}).encode()
    chunks = (body[i : i + 8192] for i in range(0, len(body), 8192))
    connection.request(
        "POST",
        "/api/events",
        body=chunks,
        headers={"Content-Type": "application/json"},
        encode_chunked=True,
    )

    status, answer = _answer(connection.getresponse())

    assert status == 413
    assert answer["error"]["code"] == "request_entity_too_large"


@pytest.mark.slow
def test_a_request_line_over_4_kib_is_a_json_414(server):
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    connection.request("GET", "/api/simulation/history?streams=" + "customer.app.opened," * 300)

    status, answer = _answer(connection.getresponse())

    assert status == 414
    assert answer["error"]["code"] == "request_uri_too_long"
    assert answer["error"]["hint"]


@pytest.mark.slow
def test_json_nested_thousands_deep_is_invalid_json(server):
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    connection.request(
        "POST",
        "/api/simulation/clock",
        body="[" * 30_000 + "]" * 30_000,
        headers={"Content-Type": "application/json"},
    )

    status, answer = _answer(connection.getresponse())

    assert status == 400
    assert answer["error"]["code"] == "invalid_json"
