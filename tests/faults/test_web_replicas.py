"""Two web replicas on one database, as a deploy that scales `web` out runs them: each process
LISTENs and serves its own clients, and a client of either gets every event, in order, once."""

from __future__ import annotations

import time

import pytest

from tests.faults.harness import (
    Processes,
    received_and_owed,
    start_generating,
    wait_for,
)

SPEED = 300.0
RUN_FOR = 10.0
"""Seconds of generation both replicas carry."""


@pytest.mark.slow
def test_clients_of_two_web_replicas_each_get_every_event_once_in_order(
    seeded_store, seeded_database, fresh_baseline, processes: Processes
):
    log, scheduler, first = start_generating(processes, seeded_database, fresh_baseline.end, SPEED)
    second = processes.web(seeded_database)
    since = log.head()
    clients = [processes.watch(web.ws_url, since) for web in (first, second)]
    for client in clients:
        wait_for(lambda c=client: c.last() > since, 30, "both clients receiving")
    wait_for(lambda: len(log.feed_backends()) == 2, 10, "a LISTEN per replica")
    time.sleep(RUN_FOR)

    received, owed = received_and_owed(log, scheduler, clients[0], since)
    wait_for(lambda: clients[1].last() >= owed[-1], 30, "the second client catching up")
    time.sleep(0.5)

    print(f"{len(owed)} events over {RUN_FOR:g} s at {SPEED:g}x, to each replica's client")
    assert len(owed) > 1000
    assert received == owed
    assert clients[1].positions() == owed
