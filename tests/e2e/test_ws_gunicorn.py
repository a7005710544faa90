"""The feed under gunicorn as deployed (gunicorn.conf.py, gevent): two workers, each with its
own listener, both deliver every event to their clients."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from app.settings import PROJECT_ROOT
from tests.integration.ws.feedclient import (
    HIGH_CUSTOMER,
    HIGH_SESSION,
    FeedClient,
    positions,
    round_robin,
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_healthy(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited: {process.communicate()[0]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not answer within 30 s")


def start_gunicorn(database_url: str, workers: int, log: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "PORT": str(port)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        text=True,
    )
    wait_until_healthy(port, process)
    wait_for_hubs(log, workers)
    return process, port


def hub_lines(log: Path) -> list[str]:
    return [line for line in log.read_text().splitlines() if "feed hub started" in line]


def wait_for_hubs(log: Path, workers: int, timeout: float = 60) -> None:
    """Until every worker has booted and started its hub: the first to answer /healthz may be
    alone for seconds on a busy machine, and would take every connection."""
    deadline = time.monotonic() + timeout
    while len(hub_lines(log)) < workers:
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(hub_lines(log))} of {workers} workers started their hub")
        time.sleep(0.2)


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
