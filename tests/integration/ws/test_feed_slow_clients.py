"""A client that falls behind reads what it missed from the log at its own pace and rejoins
the live feed without a gap; one that stays behind too long, or stops reading, is dropped and
resumes from exactly where it got to; the others keep their full feed throughout."""

from __future__ import annotations

import time

import websocket

from tests.integration.ws.feedclient import (
    HIGH_CUSTOMER,
    HIGH_SESSION,
    SMALL_RECEIVE_BUFFER,
    positions,
    received_events,
    round_robin,
)


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


def fallen_behind(server) -> bool:
    """The slow client's mailbox overflowed (its handler may still be blocked in a send) or
    it already reads the log."""
    stats = server.hub.stats()
    return stats["overflowed"] == 1 or stats["readingLog"] == 1


def slow_and_steady(server):
    """A client that reads everything at once in the background, and one that reads nothing
    until told to (a small receive buffer: its sends block soon)."""
    steady = server.connect()
    steady.subscribe("*")
    steady.next("snapshot")
    steady.read_in_background()
    slow = server.connect(sockopt=SMALL_RECEIVE_BUFFER)
    slow.subscribe("*")
    slow.next("snapshot")
    return steady, slow


def test_a_client_that_falls_behind_reads_the_log_and_rejoins_live_without_a_gap(
    feed_server, store
):
    server = feed_server(queue_limit=2000, page_size=100, buffer_events=1000, send_timeout=60)
    steady, slow = slow_and_steady(server)

    last = append_until(store, server, lambda: fallen_behind(server), keeping_up=steady)
    last = append_until(store, server, lambda: True, keeping_up=steady)  # more while it reads

    assert positions(slow.events_through(last, timeout=60)) == list(range(1, last + 1))
    assert not [f for f in slow.frames if f["type"] == "overflow"]
    server.wait_for_clients(2)
    assert server.hub.stats()["readingLog"] == 0  # back in the fan-out
    more = store.log.append(round_robin([HIGH_CUSTOMER], 5, start=last)).last_position
    assert positions(slow.events_through(more, timeout=10))[-5:] == list(range(last + 1, more + 1))
    assert positions(steady.events_through(more, timeout=30)) == list(range(1, more + 1))


def test_a_client_still_behind_after_the_catch_up_limit_is_dropped_at_its_exact_position(
    feed_server, store
):
    server = feed_server(
        queue_limit=2000, page_size=100, buffer_events=1000, send_timeout=60, catchup_limit=0.0
    )
    steady, slow = slow_and_steady(server)

    last = append_until(store, server, lambda: fallen_behind(server), keeping_up=steady)
    last = append_until(store, server, lambda: True, keeping_up=steady)

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
    assert positions(steady.events_through(last, timeout=30)) == list(range(1, last + 1))


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
