"""A client that stops reading is told and dropped; the others keep their full feed, and the
dropped one resumes without a gap."""

from __future__ import annotations

import socket
import time

import websocket

from tests.integration.ws.feedclient import (
    HIGH_CUSTOMER,
    HIGH_SESSION,
    positions,
    received_events,
    round_robin,
)

SMALL_RECEIVE_BUFFER = ((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),)


def append_until(
    store, server, done, *, keeping_up, batch: int = 1000, limit: int = 200_000
) -> int:
    """Append batches until `done()` (checked once the hub has read each batch). Each batch
    waits for the `keeping_up` client to have it, so only the client that stops reading can
    fall behind, however slowly this machine runs the reader."""
    index = 0
    last = 0
    while index < limit:
        last = store.log.append(
            round_robin([HIGH_CUSTOMER, HIGH_SESSION], batch, index)
        ).last_position
        index += batch
        server.wait_for_position(last)
        keeping_up.wait_through(last, timeout=30)
        if done():
            return last
    raise AssertionError(f"still not done after {limit} events; hub {server.hub.stats()}")


def read_until_closed(client) -> list[dict]:
    """Read every frame left, up to the server's close; all the client's frames."""
    while True:
        try:
            client.recv(timeout=10)
        except (websocket.WebSocketConnectionClosedException, ConnectionError):
            return client.frames


def test_a_client_that_falls_behind_gets_an_overflow_frame_and_resumes_without_a_gap(
    feed_server, store
):
    server = feed_server(queue_limit=2000, page_size=100, send_timeout=60)
    steady = server.connect()
    steady.subscribe("*")
    steady.next("snapshot")
    steady.read_in_background()
    slow = server.connect(sockopt=SMALL_RECEIVE_BUFFER)
    slow.subscribe("*")
    slow.next("snapshot")

    def behind() -> bool:  # overflowed, with its handler stuck in a send, or already gone
        stats = server.hub.stats()
        return stats["overflowed"] == 1 or stats["clients"] == 1

    last = append_until(store, server, behind, keeping_up=steady)

    assert positions(steady.events_through(last, timeout=30)) == list(range(1, last + 1))
    frames = read_until_closed(slow)
    overflow = frames[-1]
    assert overflow["type"] == "overflow"
    got = positions(received_events(frames))
    assert got == list(range(1, len(got) + 1))
    assert overflow["lastPosition"] == got[-1] < last

    again = server.connect()
    again.subscribe("*", lastEventId=overflow["lastPosition"])
    rest = positions(again.events_through(last, timeout=30))
    assert got + rest == list(range(1, last + 1))
    assert server.hub.stats()["clients"] == 2


def test_a_client_that_stops_reading_is_dropped_while_another_keeps_its_full_feed(
    feed_server, store
):
    server = feed_server(send_timeout=1.0)
    steady = server.connect()
    steady.subscribe("*")
    steady.next("snapshot")
    steady.read_in_background()
    stalled = server.connect(sockopt=SMALL_RECEIVE_BUFFER)
    stalled.subscribe("*")
    stalled.next("snapshot")
    server.wait_for_clients(2)

    started = time.monotonic()
    last = append_until(
        store,
        server,
        lambda: server.hub.stats()["clients"] == 1,
        keeping_up=steady,
        batch=2000,
    )

    assert time.monotonic() - started < 20
    assert positions(steady.events_through(last, timeout=30)) == list(range(1, last + 1))
    frames = read_until_closed(stalled)
    got = positions(received_events(frames))
    assert got == list(range(1, len(got) + 1))  # what it got before the cut, in order
