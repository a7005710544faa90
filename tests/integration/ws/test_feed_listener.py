"""One listener per process: what it reads reaches every client once, even when its
connection dies or notifications never come."""

from __future__ import annotations

import time

import psycopg

from app.store.database import libpq_url
from app.store.eventlog import LogListener
from app.store.feed import TAIL_APPLICATION_NAME
from tests.integration.ws.feedclient import HIGH_CUSTOMER, positions, round_robin


def kill_listening_connection(database_url: str) -> int:
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        killed = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = %s",
            (TAIL_APPLICATION_NAME,),
        ).fetchone()
    return int(killed[0])


def test_the_listener_reconnects_and_nothing_is_lost_or_repeated(feed_server, store, database_url):
    server = feed_server()
    clients = [server.connect() for _ in range(3)]
    for client in clients:
        client.subscribe("*")
        client.next("snapshot")
    store.log.append(round_robin([HIGH_CUSTOMER], 5))

    assert kill_listening_connection(database_url) == 1
    store.log.append(round_robin([HIGH_CUSTOMER], 5, start=5))  # while nobody listens
    last = store.log.append(round_robin([HIGH_CUSTOMER], 5, start=10)).last_position

    for client in clients:
        assert positions(client.events_through(last, timeout=10)) == list(range(1, 16))


def test_events_arrive_by_polling_when_no_notification_comes(feed_server, store, monkeypatch):
    def deaf(self, timeout: float) -> None:
        time.sleep(timeout)
        return None

    monkeypatch.setattr(LogListener, "wait", deaf)
    server = feed_server(poll_interval=0.2)
    client = server.connect()
    client.subscribe(HIGH_CUSTOMER)
    client.next("snapshot")
    started = time.monotonic()
    last = store.log.append(round_robin([HIGH_CUSTOMER], 3)).last_position
    assert positions(client.events_through(last)) == [1, 2, 3]
    assert time.monotonic() - started < 1.5


def test_two_hubs_on_one_log_each_deliver_every_event_to_their_clients(feed_server, store):
    first, second = feed_server(), feed_server()
    a, b = first.connect(), second.connect()
    for client in (a, b):
        client.subscribe("*")
        client.next("snapshot")
    last = store.log.append(round_robin([HIGH_CUSTOMER], 20)).last_position
    assert (
        positions(a.events_through(last)) == positions(b.events_through(last)) == list(range(1, 21))
    )


def test_a_resume_on_a_process_whose_listener_lags_waits_for_it_instead_of_refusing(
    feed_server, store
):
    ahead, behind = feed_server(), feed_server()
    assert ahead.hub is not behind.hub
    publish = behind.hub._publish

    def late(events):
        time.sleep(0.5)
        publish(events)

    behind.hub._publish = late
    first = ahead.connect()
    first.subscribe("*")
    first.next("snapshot")
    last = store.log.append(round_robin([HIGH_CUSTOMER], 5)).last_position
    first.events_through(last)
    assert behind.hub.position < last  # it has not read them yet

    second = behind.connect()
    subscribed = second.subscribe("*", lastEventId=last)
    later = store.log.append(round_robin([HIGH_CUSTOMER], 2, start=5)).last_position

    assert subscribed["recovered"] is True
    assert positions(second.events_through(later)) == [last + 1, last + 2]


def test_appends_go_on_while_the_feed_is_down_and_clients_resume_exactly(feed_server, store):
    server = feed_server()
    client = server.connect()
    client.subscribe("*")
    client.next("snapshot")
    first = store.log.append(round_robin([HIGH_CUSTOMER], 5)).last_position
    seen = positions(client.events_through(first))

    server.hub.stop()  # the WebSocket layer goes down: every client is cut off
    server.wait_for_clients(0)
    during = store.log.append(round_robin([HIGH_CUSTOMER], 5, start=5))  # generation goes on
    server.hub.start()

    again = server.connect()
    assert again.subscribe("*", lastEventId=seen[-1])["recovered"] is True
    assert positions(again.events_through(during.last_position)) == list(range(6, 11))
