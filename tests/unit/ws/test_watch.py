"""`marketsim watch` tells a URL that is no feed from a dropped connection."""

from __future__ import annotations

import io

from simple_websocket import ConnectionError as HandshakeRefused

from app.ws.watch import Watcher


def watcher(refusals: list[int | None], slept: list[float]) -> tuple[Watcher, io.StringIO]:
    """A watcher whose connections are refused with these statuses, then interrupted."""

    def connect(url: str):
        if refusals:
            raise HandshakeRefused(refusals.pop(0))
        raise KeyboardInterrupt

    err = io.StringIO()
    found = Watcher(
        "ws://127.0.0.1:9/nope", ["*"], out=io.StringIO(), err=err,
        connect=connect, sleep=slept.append,
    )  # fmt: skip
    return found, err


def test_a_404_is_no_feed_and_ends_watch_at_once():
    slept: list[float] = []
    found, err = watcher([404], slept)

    assert found.run() == 2
    assert slept == []
    assert "answered HTTP 404, not a feed" in err.getvalue()


def test_an_overloaded_or_failing_server_is_retried_with_a_backoff():
    slept: list[float] = []
    found, err = watcher([503, 429, None], slept)

    assert found.run() == 0
    assert slept == [0.5, 1.0, 2.0]
    assert err.getvalue().count("connection lost") == 3
