"""The feed under gunicorn as deployed (gunicorn.conf.py, gevent): two workers, each with its
own listener, both deliver every event to their clients."""

from __future__ import annotations

import signal
import time

import pytest

from tests.e2e.processes import hub_lines, start_gunicorn
from tests.integration.ws.feedclient import (
    HIGH_CUSTOMER,
    HIGH_SESSION,
    FeedClient,
    positions,
    round_robin,
)


@pytest.mark.slow
def test_two_gunicorn_workers_both_deliver_every_event(database_url, store, tmp_path):
    store.log.append(round_robin([HIGH_CUSTOMER, HIGH_SESSION], 10))
    log = tmp_path / "gunicorn.log"
    process, port = start_gunicorn(database_url, workers=2, log=log)
    clients: list[FeedClient] = []
    try:
        workers: set[int] = set()
        while len(workers) < 2 and len(clients) < 60:
            client = FeedClient(f"ws://127.0.0.1:{port}/ws")
            workers.add(client.subscribe("*", lastEventId=5)["worker"])
            clients.append(client)
        assert len(workers) == 2, "every connection landed on one worker"

        last = 0
        for start in range(10, 70, 10):
            last = store.log.append(
                round_robin([HIGH_CUSTOMER, HIGH_SESSION], 10, start)
            ).last_position
            time.sleep(0.05)

        for client in clients:
            assert positions(client.events_through(last, timeout=10)) == list(range(6, last + 1))
    finally:
        for client in clients:
            client.close()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)

    started = hub_lines(log)
    assert len(started) == 2, log.read_text()
    assert all("psycopg wait: wait_c" not in line for line in started), started
