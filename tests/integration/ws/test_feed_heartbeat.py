"""The heartbeat, with short timings: pings, pongs, and dropping silent connections."""

from __future__ import annotations

import time

import pytest
import websocket

from tests.integration.ws.feedclient import (
    HIGH_CUSTOMER,
    HIGH_SESSION,
    SMALL_RECEIVE_BUFFER,
    positions,
    received_events,
    round_robin,
)


def closed_with(client, code: int) -> None:
    with pytest.raises(websocket.WebSocketConnectionClosedException):
        client.recv(timeout=5)
    assert client.ws.status == code or client.ws.status is None or not client.ws.connected


def test_the_server_pings_and_a_client_that_answers_stays_connected(feed_server):
    client = feed_server(ping_interval=0.2, pong_timeout=0.3, stale_timeout=5).connect()
    client.subscribe(HIGH_CUSTOMER)
    client.next("snapshot")
    pings = []
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        frame = client.recv(timeout=1)
        if frame["type"] == "ping":
            pings.append(frame)
            client.send(type="pong")
    assert len(pings) >= 4
    assert all(p["epoch"] == 1 and p["position"] == 0 and p["time"].endswith("Z") for p in pings)
    client.send(type="ping", id="still")
    assert client.next("pong")["id"] == "still"


def test_a_client_that_does_not_answer_a_ping_in_time_is_dropped(feed_server):
    server = feed_server(ping_interval=0.2, pong_timeout=0.3, stale_timeout=5)
    client = server.connect()
    started = time.monotonic()
    client.next("ping")
    client.send(type="subscribe", topics=[HIGH_CUSTOMER])  # talking is not answering
    error = client.next("error")
    assert error["code"] == "pong_timeout"
    assert 0.4 < time.monotonic() - started < 3
    closed_with(client, 1008)
    server.wait_for_clients(0)


def test_a_connection_silent_for_the_stale_timeout_is_dropped(feed_server):
    server = feed_server(ping_interval=None, stale_timeout=0.5)
    silent = server.connect()
    talking = server.connect()
    talking.subscribe(HIGH_CUSTOMER)
    started = time.monotonic()
    for _ in range(8):
        time.sleep(0.15)
        talking.send(type="ping")
    error = silent.next("error")
    assert error["code"] == "stale"
    assert 0.4 < time.monotonic() - started < 3
    closed_with(silent, 1008)
    talking.send(type="ping", id="after")
    assert talking.until(lambda f: f.get("id") == "after")["type"] == "pong"


def test_a_catch_up_longer_than_the_stale_timeout_does_not_drop_the_client_that_reads_it(
    feed_server, store
):
    """While the server sends a catch-up, it reads nothing from the client and pings it not:
    the time that takes is not the client's silence (a client that stops reading is dropped
    by the send timeout instead)."""
    last = store.log.append(round_robin([HIGH_CUSTOMER, HIGH_SESSION], 60_000)).last_position
    server = feed_server(ping_interval=None, stale_timeout=2.0, page_size=200, send_timeout=5)
    client = server.connect(sockopt=SMALL_RECEIVE_BUFFER)
    client.subscribe("*", lastEventId=0)
    started = time.monotonic()
    received: list[int] = []
    while not received or received[-1] < last:
        frame = client.recv(timeout=10)
        assert frame["type"] != "error", frame
        received += positions(received_events([frame]))
        time.sleep(0.02)  # a client busy drawing what it reads
    assert time.monotonic() - started > 2 * 2.0  # the catch-up outlasted the stale timeout
    assert received == list(range(1, last + 1))
    client.send(type="ping", id="still-here")
    assert client.until(lambda f: f.get("id") == "still-here")["type"] == "pong"
