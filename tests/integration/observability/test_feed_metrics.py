"""The WebSocket figures of `/metrics`, read from this process's hub while real clients are
connected to a served app."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from app.extensions import catalog
from app.ws import FeedOptions, Hub
from tests.integration.observability.conftest import sample
from tests.integration.ws.feedclient import HIGH_CUSTOMER, HIGH_SESSION, round_robin, serve

SMALL_RECEIVE_BUFFER = ((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),)


@pytest.fixture
def live(app, store) -> Iterator:
    """The app served on a free port with a hub of short timings that never drops a slow
    client (a large queue, a long send timeout)."""
    with app.app_context():
        the_catalog = catalog()
    options = FeedOptions(
        ping_interval=None,
        poll_interval=0.2,
        batch_window=0.05,
        queue_limit=500_000,
        send_timeout=120.0,
    )
    server = serve(app, Hub(store, the_catalog, options))
    yield server
    server.stop()


def test_a_connected_client_is_counted_and_the_hub_reports_no_lag(live, client, store, scrape):
    idle = scrape(client)
    feed = live.connect()
    feed.subscribe("*")
    live.wait_for_clients(1)
    last = store.log.append(round_robin([HIGH_CUSTOMER, HIGH_SESSION], 20)).last_position
    live.wait_for_position(last)

    connected = scrape(client)
    feed.close()
    live.wait_for_clients(0)
    gone = scrape(client)

    assert sample(idle, "marketsim_feed_running") == 1
    assert sample(idle, "marketsim_ws_clients") == 0
    assert sample(connected, "marketsim_ws_clients") == 1
    assert sample(connected, "marketsim_feed_lag_events") == 0
    assert sample(connected, "marketsim_log_position") == last
    assert 0 <= sample(connected, "marketsim_feed_seconds_since_read") < 5
    assert sample(gone, "marketsim_ws_clients") == 0


def test_a_client_that_stops_reading_shows_in_the_send_queue_depth(live, client, store, scrape):
    reader = live.connect()
    reader.subscribe("*")
    reader.read_in_background()
    stalled = live.connect(sockopt=SMALL_RECEIVE_BUFFER)
    stalled.subscribe("*")
    live.wait_for_clients(2)

    index = 0
    while max(live.hub.queue_depths(), default=0) < 2000:
        assert index < 300_000, "the stalled client's queue never grew"
        last = store.log.append(round_robin([HIGH_CUSTOMER, HIGH_SESSION], 1000, index))
        live.wait_for_position(last.last_position)
        index += 1000
    waiting = max(live.hub.queue_depths())

    samples = scrape(client)

    assert sample(samples, "marketsim_ws_send_queue_max_events") >= waiting
    assert sample(samples, "marketsim_ws_send_queue_events") >= waiting
