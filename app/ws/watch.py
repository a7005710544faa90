"""`marketsim watch`: print the live feed's events as they come, in a terminal.

    marketsim watch --topics customer.* anomalies
    marketsim watch --topics '*' --since 1200 --json

It subscribes over WebSocket, prints the snapshot (or, with `--since`, every event after that
position) and then the live events, one line each on stdout; what is not an event (connects,
resumes, errors) goes to stderr. When the connection drops, it reconnects by itself with a
backoff and resumes from the position of the last frame it printed, so no event is printed
twice and none is missed. It answers the server's pings, and pings a quiet server itself: no
answer within 10 s and it reconnects.

app/cli.py adds it to the `marketsim` commands; `python -m app.ws.watch` runs it alone.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
import urllib.parse
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from simple_websocket import Client, ConnectionClosed
from simple_websocket import ConnectionError as HandshakeRefused

EVENT_FRAMES = ("snapshot", "catchup", "events")
NOTICE_FRAMES = ("scenario", "external", "control")
FATAL_ERRORS = ("unknown_topic", "invalid_message", "message_too_large")
"""Errors that reconnecting cannot fix: the command line is wrong."""

QUIET_BEFORE_PING = 20.0
PONG_WAIT = 10.0


class Stop(Exception):
    """Watching ends: `code` is the command's exit status."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class Silent(Exception):
    """The server answered nothing, not even a ping."""


class Backoff:
    """0.5 s, doubling up to `ceiling`; back to the start once a connection works."""

    def __init__(self, first: float = 0.5, ceiling: float = 10.0) -> None:
        self.first = first
        self.ceiling = ceiling
        self.delay = first

    def next(self) -> float:
        delay = self.delay
        self.delay = min(self.delay * 2, self.ceiling)
        return delay

    def reset(self) -> None:
        self.delay = self.first


class Watcher:
    def __init__(
        self,
        url: str,
        topics: Sequence[str],
        *,
        since: int | None = None,
        limit: int | None = None,
        as_json: bool = False,
        out: TextIO = sys.stdout,
        err: TextIO = sys.stderr,
        connect: Callable[[str], Any] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url
        self.topics = list(topics)
        self.position = since
        """The resume token: every event up to here has been printed."""
        self.limit = limit
        self.as_json = as_json
        self.out = out
        self.err = err
        self.printed = 0
        self._connect = connect or (lambda url: Client.connect(url, receive_bytes=65536))
        self._sleep = sleep
        self._backoff = Backoff()

    def run(self) -> int:
        while True:
            try:
                self._watch_once()
            except Stop as stop:
                return stop.code
            except KeyboardInterrupt:
                return 0
            except HandshakeRefused as exc:
                if _refused_for_good(exc.status_code):
                    self._note(
                        f"{self.url} answered HTTP {exc.status_code}, not a feed: give the "
                        "feed's ws://host:port/ws or the service's http://host:port"
                    )
                    return 2
                if not self._wait_to_resume(exc):
                    return 0
            except (OSError, ConnectionClosed, Silent, RuntimeError, ValueError) as exc:
                if not self._wait_to_resume(exc):
                    return 0

    def _wait_to_resume(self, exc: BaseException) -> bool:
        """Say the connection was lost and wait out the backoff; False when interrupted."""
        delay = self._backoff.next()
        where = "the start" if self.position is None else f"position {self.position}"
        self._note(f"connection lost ({_describe(exc)}); resuming from {where} in {delay:g} s")
        try:
            self._sleep(delay)
        except KeyboardInterrupt:
            return False
        return True

    def _watch_once(self) -> None:
        ws = self._connect(self.url)
        try:
            subscribe: dict[str, Any] = {"type": "subscribe", "topics": self.topics}
            if self.position is not None:
                subscribe["lastEventId"] = self.position
            ws.send(json.dumps(subscribe))
            while True:
                self._handle(self._receive(ws), ws)
        finally:
            with contextlib.suppress(Exception):
                ws.close()

    def _receive(self, ws: Any) -> dict[str, Any]:
        raw = ws.receive(timeout=QUIET_BEFORE_PING)
        if raw is None:
            ws.send(json.dumps({"type": "ping", "id": "watch"}))
            raw = ws.receive(timeout=PONG_WAIT)
            if raw is None:
                raise Silent(f"no answer to a ping within {PONG_WAIT:g} s")
        return json.loads(raw)

    def _handle(self, frame: dict[str, Any], ws: Any) -> None:
        kind = frame.get("type")
        if kind in EVENT_FRAMES:
            for event in frame["events"]:
                self._print(event, frame["epoch"])
            self.position = frame["position"]
        elif kind in NOTICE_FRAMES:
            self._print(frame["event"], frame["epoch"])
            self.position = frame["position"]
        elif kind == "ping":
            ws.send(json.dumps({"type": "pong"}))
        elif kind == "subscribed":
            self._backoff.reset()
            self._subscribed(frame)
        elif kind == "overflow":
            self._note(
                f"the server dropped this client for falling behind at {frame['lastPosition']}"
            )
        elif kind == "error":
            self._note(f"error {frame.get('code')}: {frame.get('message')}")
            if frame.get("code") in FATAL_ERRORS:
                raise Stop(2)

    def _subscribed(self, frame: dict[str, Any]) -> None:
        topics = ", ".join(frame["topics"])
        if frame.get("recovered") is False:
            self._note(
                f"could not resume from {self.position} ({frame.get('reason')}): showing the "
                f"latest events of epoch {frame['epoch']} instead"
            )
        elif frame.get("recovered"):
            self._note(f"resumed {topics} after position {self.position}")
        else:
            self._note(f"watching {topics} (epoch {frame['epoch']}, position {frame['position']})")

    def _print(self, event: dict[str, Any], epoch: int) -> None:
        if self.as_json:
            line = json.dumps({"epoch": epoch, **event}, separators=(",", ":"))
        else:
            line = format_event(event)
        print(line, file=self.out, flush=True)
        self.printed += 1
        if self.limit is not None and self.printed >= self.limit:
            raise Stop(0)

    def _note(self, text: str) -> None:
        print(f"marketsim watch: {text}", file=self.err, flush=True)


def format_event(event: dict[str, Any]) -> str:
    """One line: position, simulated time, stream (or kind), value, normalized, flag."""
    head = f"#{event['position']:<8} {event['occurredAt']:<28}"
    if event.get("kind", "stream") != "stream":
        body = json.dumps(event.get("data") or {}, separators=(",", ":"))
        return f"{head} [{event['kind']}] {event['type']} {body}"
    parts = [f"{event['stream']}"]
    if event.get("value") is not None:
        parts.append(f"value={event['value']:g}")
    if event.get("normalized") is not None:
        parts.append(f"normalized={event['normalized']:.1f}")
    if event.get("flag") and event["flag"] != "normal":
        parts.append(event["flag"].upper())
    return f"{head} {' '.join(parts)}"


def _refused_for_good(status: int | None) -> bool:
    """A handshake refused with a client error (404: no feed at that path) will be refused
    again; a server error, an overload (429, 503) or no status at all may pass later."""
    return status is not None and 400 <= status < 500 and status != 429


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


_FEED_SCHEMES = {"ws": "ws", "wss": "wss", "http": "ws", "https": "wss"}


def feed_url(text: str) -> str:
    """The feed's WebSocket URL from what a user may give: the feed's own URL, or the
    service's (`http://host:8000`, as the other client commands take it): http becomes ws,
    https wss, and a URL without a path gets `/ws`."""
    parts = urllib.parse.urlsplit(text.strip())
    scheme = _FEED_SCHEMES.get(parts.scheme.lower())
    if scheme is None or not parts.hostname:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a feed URL: give ws://host:port/ws or the service's http://host:port"
        )
    path = parts.path if parts.path not in ("", "/") else "/ws"
    return urllib.parse.urlunsplit((scheme, parts.netloc, path, parts.query, ""))


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add `watch` to the `marketsim` subcommands."""
    watch = subparsers.add_parser(
        "watch",
        help="print the live feed's events as they come (reconnects and resumes by itself)",
    )
    watch.add_argument(
        "--topics",
        nargs="+",
        default=["*"],
        metavar="TOPIC",
        help="*, a domain (customer.*), high-/medium-/low-frequency, a stream name, anomalies "
        "(default *; commas also separate)",
    )
    watch.add_argument(
        "--since",
        type=int,
        default=None,
        metavar="POSITION",
        help="print every event after this log position first (default: the latest events)",
    )
    watch.add_argument(
        "--url",
        type=feed_url,
        default=None,
        help="the feed's URL, or the service's http://host:port (default MARKETSIM_URL's "
        "feed when it is set, else ws://127.0.0.1:PORT/ws)",
    )
    watch.add_argument("--json", action="store_true", help="one JSON object per event")
    watch.add_argument("--limit", type=int, default=None, metavar="N", help="exit after N events")
    watch.set_defaults(handler=cmd_watch)
    return watch


def cmd_watch(args: argparse.Namespace, settings: Any) -> int:
    """Watch until interrupted (or `--limit` events); 2 when the topics are refused."""
    topics = [t for raw in args.topics for t in raw.split(",") if t.strip()]
    url = args.url or f"ws://127.0.0.1:{settings.port}/ws"
    if args.url is None and (service := os.environ.get("MARKETSIM_URL")):
        try:
            url = feed_url(service)
        except argparse.ArgumentTypeError as exc:
            print(f"marketsim watch: MARKETSIM_URL: {exc}", file=sys.stderr)
            return 2
    watcher = Watcher(url, topics, since=args.since, limit=args.limit, as_json=args.json)
    return watcher.run()


def main(argv: Sequence[str] | None = None) -> int:
    from app.settings import Settings

    parser = argparse.ArgumentParser(prog="marketsim")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["watch", *(argv if argv is not None else sys.argv[1:])])
    return cmd_watch(args, Settings.from_env())


if __name__ == "__main__":
    sys.exit(main())
