"""Feed latency with the real generator: from when an event becomes visible in the log to when
a WebSocket client holds it.

    SIM_SPEED=60 marketsim run --port 8000      # DATABASE_URL set; or the Procfile layout
    python -m bench.feed_latency --url http://127.0.0.1:8000 --database-url $DATABASE_URL

It LISTENs on the log's channel on its own connection (Postgres delivers each append's
notification when its transaction commits: when its rows become visible) and follows the feed
on `*` with a plain WebSocket client, for `--seconds`. An event's latency is the time between
the first notification that covers its position and the arrival of the frame that carries it.
Prints p50/p95/p99/max over every event and over frames, and how many of each; the client
runs on the same machine as the service, so the figures include its share of the cores.
"""

from __future__ import annotations

import argparse
import bisect
import json
import statistics
import threading
import time

import psycopg
import websocket

from app.store.database import libpq_url
from app.store.eventlog import CHANNEL


def listen(
    database_url: str,
    seconds: float,
    seen: list[tuple[int, float]],
    stop: threading.Event | None = None,
) -> None:
    """(position, when) for every notification, in arrival order, for `seconds` or until
    `stop` is set."""
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        conn.execute(f"LISTEN {CHANNEL}")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not (stop and stop.is_set()):
            for notify in conn.notifies(timeout=0.5, stop_after=1):
                seen.append((int(notify.payload), time.monotonic()))


def follow(ws_url: str, seconds: float, frames: list[tuple[list[int], float]]) -> None:
    """(positions, when) for every frame carrying live events."""
    ws = websocket.create_connection(ws_url, timeout=10, skip_utf8_validation=True)
    ws.send(json.dumps({"type": "subscribe", "topics": ["*"]}))
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ws.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            raw = ws.recv()
        except websocket.WebSocketTimeoutException:
            continue
        arrived = time.monotonic()
        frame = json.loads(raw)
        if frame["type"] == "ping":
            ws.send(json.dumps({"type": "pong"}))
        elif frame["type"] == "events":
            frames.append(([e["position"] for e in frame["events"]], arrived))
        elif "event" in frame:
            frames.append(([frame["position"]], arrived))
    ws.close()


def latencies(
    seen: list[tuple[int, float]], frames: list[tuple[list[int], float]]
) -> tuple[list[float], list[float]]:
    """Per event and per frame (its oldest event's), in milliseconds."""
    notified = sorted(seen)
    covers = [position for position, _ in notified]
    earliest_from: list[float] = []  # the first arrival of a notification at or above each
    first = float("inf")
    for _, when in reversed(notified):
        first = min(first, when)
        earliest_from.append(first)
    earliest_from.reverse()
    per_event, per_frame = [], []
    for positions, arrived in frames:
        found = []
        for position in positions:
            index = bisect.bisect_left(covers, position)
            if index < len(covers):
                found.append((arrived - earliest_from[index]) * 1000)
        if found:
            per_event += found
            per_frame.append(max(found))
    return per_event, per_frame


def quantiles(values: list[float]) -> str:
    if len(values) < 2:
        return "too few"
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return (
        f"p50 {cuts[49]:.0f} ms, p95 {cuts[94]:.0f} ms, p99 {cuts[98]:.0f} ms, "
        f"max {max(values):.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    ws_url = args.url.replace("http", "ws", 1).rstrip("/") + "/ws"
    seen: list[tuple[int, float]] = []
    frames: list[tuple[list[int], float]] = []
    listener = threading.Thread(target=listen, args=(args.database_url, args.seconds + 2, seen))
    listener.start()
    time.sleep(0.5)
    follow(ws_url, args.seconds, frames)
    listener.join()
    per_event, per_frame = latencies(seen, frames)
    print(f"{len(per_event)} events in {len(per_frame)} frames over {args.seconds:g} s")
    print(f"visible -> client, per event: {quantiles(per_event)}")
    print(f"visible -> client, per frame (its oldest event): {quantiles(per_frame)}")


if __name__ == "__main__":
    main()
