"""Test helpers for the feed: a real server on a real socket, a real WebSocket client, and
events to append."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import websocket
from werkzeug.serving import BaseWSGIServer, make_server

from app.domain.events import NewEvent

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

HIGH_CUSTOMER = "customer.tutor.search"
MEDIUM_CUSTOMER = "customer.booking.requested"
LOW_CUSTOMER = "customer.subscription.started"
HIGH_SESSION = "session.started"
MEDIUM_TUTOR = "tutor.availability.updated"
LOW_SYSTEM = "system.deploy.completed"

EVENT_FRAMES = ("snapshot", "catchup", "events")
NOTICE_FRAMES = ("scenario", "external", "control")
SMALL_RECEIVE_BUFFER = ((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),)
"""A client socket option: its sends from the server block soon when it does not read."""


def stream_event(
    stream: str,
    index: int = 0,
    *,
    flag: str = "normal",
    occurred_at: datetime | None = None,
    expected_flag: str = "normal",
    correlation_id: int | None = None,
) -> NewEvent:
    """A stream event whose simulated time grows with `index`."""
    return NewEvent(
        kind="stream",
        type=stream,
        stream=stream,
        occurred_at=occurred_at or T0 + timedelta(seconds=index),
        data={"index": index},
        value=100.0 + index,
        normalized={"normal": 50.0, "warning": 75.0, "critical": 99.0}[flag],
        flag=flag,
        expected=100.0,
        expected_flag=expected_flag,
        correlation_id=correlation_id,
    )


def notice(kind: str, type_: str, index: int = 0) -> NewEvent:
    return NewEvent(kind=kind, type=type_, occurred_at=T0 + timedelta(seconds=index))


def round_robin(streams: Iterable[str], count: int, start: int = 0) -> list[NewEvent]:
    """`count` events over `streams` in turn, indexes from `start`."""
    streams = list(streams)
    return [stream_event(streams[i % len(streams)], start + i) for i in range(count)]


@dataclass
class FeedServer:
    """The Flask app served by werkzeug's threaded server (as `marketsim run` serves it)."""

    app: Any
    hub: Any
    server: BaseWSGIServer
    thread: threading.Thread
    clients: list[FeedClient] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.server.server_port}/ws"

    def connect(self, **options: Any) -> FeedClient:
        client = FeedClient(self.url, **options)
        self.clients.append(client)
        return client

    def wait_for_position(self, position: int, timeout: float = 5.0) -> None:
        """Until the hub has read the log up to `position`."""
        deadline = time.monotonic() + timeout
        while self.hub.position < position:
            if time.monotonic() > deadline:
                raise AssertionError(f"hub at {self.hub.position}, expected {position}")
            time.sleep(0.01)

    def wait_for_clients(self, count: int, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while self.hub.stats()["clients"] != count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.hub.stats()['clients']} clients, expected {count}")
            time.sleep(0.01)

    def stop(self) -> None:
        for client in self.clients:
            client.close()
        self.server.shutdown()
        self.hub.stop()
        self.thread.join(5)


def serve(app: Any, hub: Any) -> FeedServer:
    from app.ws import install

    install(app, hub)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="test-server", daemon=True
    )
    thread.start()
    hub.start()
    if not hub.listening.wait(5):
        raise AssertionError("the hub's listener did not connect")
    return FeedServer(app, hub, server, thread)


class FeedClient:
    """A websocket-client connection that speaks the feed's JSON."""

    def __init__(self, url: str, **options: Any) -> None:
        self.ws = websocket.create_connection(url, timeout=5, **options)
        self.frames: list[dict[str, Any]] = []

    def send(self, **message: Any) -> None:
        self.ws.send(json.dumps(message))

    def send_raw(self, raw: str | bytes) -> None:
        if isinstance(raw, bytes):
            self.ws.send_binary(raw)
        else:
            self.ws.send(raw)

    def subscribe(self, *topics: str, **fields: Any) -> dict[str, Any]:
        """Subscribe and return the `subscribed` frame."""
        self.send(type="subscribe", topics=list(topics), **fields)
        return self.next("subscribed")

    def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        self.ws.settimeout(timeout)
        raw = self.ws.recv()
        if not raw:  # the server's close frame
            raise websocket.WebSocketConnectionClosedException(f"closed ({self.ws.status})")
        frame = json.loads(raw)
        self.frames.append(frame)
        return frame

    def next(self, kind: str, timeout: float = 5.0) -> dict[str, Any]:
        """The next frame of type `kind` (frames before it are kept in `frames`)."""
        return self.until(lambda f: f["type"] == kind, timeout)

    def catchup(self, timeout: float = 5.0) -> dict[str, Any]:
        """The frame that ends a catch-up (`done: true`)."""
        return self.until(lambda f: f["type"] == "catchup" and f["done"], timeout)

    def until(self, done: Callable[[dict[str, Any]], bool], timeout: float = 5.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no matching frame within {timeout} s; got {self.frames}")
            frame = self.recv(remaining)
            if done(frame):
                return frame

    def events_through(self, position: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Events received (in frames kept so far and to come) until a frame reaches
        `position`: stream events and notices, in the order they came."""

        def reached(frame: dict[str, Any]) -> bool:
            carries = frame["type"] in EVENT_FRAMES or frame["type"] in NOTICE_FRAMES
            return carries and frame["position"] >= position

        if getattr(self, "_background", None) is not None:
            self.wait_through(position, timeout)
        elif not any(reached(f) for f in self.frames):
            self.until(reached, timeout)
        return received_events(list(self.frames))

    def wait_through(self, position: int, timeout: float = 5.0) -> None:
        """Wait until the background reader has a frame reaching `position` (frames come in
        position order, so the newest carrying frame tells)."""
        deadline = time.monotonic() + timeout
        while (newest := self._newest_position()) < position:
            if time.monotonic() > deadline:
                last = self.frames[-1]["type"] if self.frames else None
                raise AssertionError(
                    f"position {position} not reached within {timeout} s: "
                    f"newest {newest}, last frame {last!r}"
                )
            time.sleep(0.01)

    def _newest_position(self) -> int:
        for frame in reversed(list(self.frames)):
            if frame["type"] in EVENT_FRAMES or frame["type"] in NOTICE_FRAMES:
                return frame["position"]
        return 0

    def read_in_background(self) -> None:
        """Keep reading on a thread (into `frames`), as a client that keeps up does; the
        waiting helpers then wait on what it collects."""
        self._background = threading.Thread(target=self._collect, daemon=True)
        self._background.start()

    def _collect(self) -> None:
        while True:
            try:
                self.recv(timeout=60)
            except Exception:
                return

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ws.close()


def received_events(frames: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    events = []
    for frame in frames:
        if frame["type"] in EVENT_FRAMES:
            events.extend(frame["events"])
        elif frame["type"] in NOTICE_FRAMES:
            events.append(frame["event"])
    return events


def positions(events: Iterable[dict[str, Any]]) -> list[int]:
    return [e["position"] for e in events]
