"""Malformed, oversized, unknown and too frequent messages get `error` frames, and the
connection stays up."""

from __future__ import annotations

import json

import pytest
import websocket

from tests.integration.ws.feedclient import HIGH_CUSTOMER, positions, stream_event


def still_up(client) -> None:
    client.send(type="ping", id="alive?")
    assert client.next("pong")["id"] == "alive?"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{not json", "invalid_json"),
        ('"just a string"', "invalid_message"),
        ('{"type": "subscribe"}', "invalid_message"),
        ('{"type": "subscribe", "topics": ["*"], "lastEventId": -3}', "invalid_message"),
        ('{"type": "hello"}', "unknown_type"),
        (b"\x00\x01binary", "invalid_message"),
        ("[" * 5000 + "]" * 5000, "invalid_json"),
    ],
)
def test_a_malformed_message_gets_an_error_frame_and_the_connection_stays_up(
    feed_server, raw, code
):
    client = feed_server().connect()
    client.send_raw(raw)
    error = client.next("error")
    assert error["code"] == code
    assert error["message"]
    assert error["epoch"] == 1
    still_up(client)


def test_an_error_echoes_the_request_id(feed_server):
    client = feed_server().connect()
    client.send(type="subscribe", topics=["*"], lastTimestamp="yesterday", id="req-9")
    error = client.next("error")
    assert (error["code"], error["id"]) == ("invalid_message", "req-9")
    assert "lastTimestamp" in error["message"]


def test_an_oversized_message_is_refused_with_an_error_frame(feed_server):
    client = feed_server(max_message_bytes=1024).connect()
    client.send(type="subscribe", topics=["*"], padding="x" * 2000)
    error = client.next("error")
    assert error["code"] == "message_too_large"
    assert "1024" in error["message"]
    still_up(client)


def test_a_message_beyond_the_hard_limit_closes_the_connection(feed_server):
    client = feed_server(max_message_bytes=1024, hard_message_bytes=8 * 1024).connect()
    client.send(type="ping", padding="x" * 20_000)
    client.ws.settimeout(5)
    opcode, payload = client.ws.recv_data(control_frame=True)
    assert opcode == websocket.ABNF.OPCODE_CLOSE
    assert int.from_bytes(payload[:2], "big") == 1009


def test_unknown_topics_are_named_and_the_whole_subscribe_is_refused(feed_server, store):
    server = feed_server()
    client = server.connect()
    client.send(type="subscribe", topics=[HIGH_CUSTOMER, "custmer.*", "fast"], id=1)
    error = client.next("error")
    assert error["code"] == "unknown_topic"
    assert error["topics"] == ["custmer.*", "fast"]
    assert "custmer.*" in error["message"] and "fast" in error["message"]

    store.log.append([stream_event(HIGH_CUSTOMER, 0)])
    server.wait_for_position(1)
    subscribed = client.subscribe(HIGH_CUSTOMER)
    assert subscribed["topics"] == [HIGH_CUSTOMER]
    assert positions(client.next("snapshot")["events"]) == [1]  # nothing came before this


def test_messages_over_the_rate_limit_are_dropped_with_one_error(feed_server):
    client = feed_server(rate_per_second=5, rate_burst=5).connect()
    for index in range(30):
        client.send(type="ping", id=index)
    client.until(lambda f: f["type"] == "error")
    frames = list(client.frames)
    while True:
        try:
            frames.append(client.recv(timeout=0.5))
        except websocket.WebSocketTimeoutException:
            break
    pongs = [f for f in frames if f["type"] == "pong"]
    errors = [f for f in frames if f["type"] == "error"]
    assert 5 <= len(pongs) < 30
    assert [e["code"] for e in errors] == ["rate_limited"]
    client.ws.settimeout(5)
    still_up(client)


def test_a_client_ping_gets_a_pong_with_its_id(feed_server):
    client = feed_server().connect()
    client.send_raw(json.dumps({"type": "ping", "id": 17}))
    pong = client.next("pong")
    assert pong["id"] == 17 and pong["epoch"] == 1 and pong["time"].endswith("Z")
