"""`marketsim watch` (run as `python -m app.ws.watch`): prints events as they come and, when
the server cuts it off, reconnects and resumes exactly where it was."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from app.settings import PROJECT_ROOT
from app.ws import FeedOptions, Hub
from tests.integration.ws.feedclient import HIGH_CUSTOMER, MEDIUM_TUTOR, round_robin, serve


@pytest.fixture
def served(app, store):
    from app.extensions import catalog

    with app.app_context():
        hub = Hub(store, catalog(), FeedOptions(poll_interval=0.2, batch_window=0.05))
    server = serve(app, hub)
    yield server
    server.stop()


def watch(url: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "app.ws.watch", "--url", url, "--json", *args],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_watch_reconnects_by_itself_and_resumes_exactly(served, store):
    store.log.append(round_robin([HIGH_CUSTOMER, MEDIUM_TUTOR], 20))
    process = watch(served.url, "--topics", HIGH_CUSTOMER, "--since", "4", "--limit", "28")
    try:
        served.wait_for_clients(1, timeout=15)
        for round_ in range(3):
            store.log.append(round_robin([HIGH_CUSTOMER, MEDIUM_TUTOR], 10, 20 + 10 * round_))
            time.sleep(0.3)
            served.hub.disconnect_all()  # the server drops it; it must come back on its own
            served.wait_for_clients(0, timeout=15)
            served.wait_for_clients(1, timeout=15)
        store.log.append(round_robin([HIGH_CUSTOMER, MEDIUM_TUTOR], 10, 50))
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()

    assert process.returncode == 0, err
    printed = [json.loads(line) for line in out.splitlines()]
    assert [e["position"] for e in printed] == list(range(5, 61, 2))
    assert {e["stream"] for e in printed} == {HIGH_CUSTOMER}
    assert err.count("connection lost") == 3
    assert "resumed" in err


def test_watch_stops_with_status_2_on_unknown_topics(served):
    process = watch(served.url, "--topics", "customer.*,nope.*")
    out, err = process.communicate(timeout=15)
    assert process.returncode == 2
    assert "nope.*" in err and out == ""


def test_watch_prints_readable_lines_without_json():
    from app.ws.watch import format_event

    line = format_event(
        {
            "position": 12,
            "kind": "stream",
            "stream": "session.started",
            "occurredAt": "2026-11-25T12:00:00Z",
            "value": 3.0,
            "normalized": 88.25,
            "flag": "warning",
        }
    )
    assert line.split() == [
        "#12",
        "2026-11-25T12:00:00Z",
        "session.started",
        "value=3",
        "normalized=88.2",
        "WARNING",
    ]
