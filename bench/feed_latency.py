"""Feed latency with the real generator: from when an event becomes visible in the log to when
a WebSocket client holds it.

    python -m bench.feed_latency --start procfile     # gunicorn + marketsim scheduler, 60x
    python -m bench.feed_latency --start run          # marketsim run: one process
    python -m bench.feed_latency --url http://127.0.0.1:8000 --database-url $DATABASE_URL

With `--start`, it starts the service itself at `--speed` (60x) on a scratch database (as
bench.scratch: BENCH_DATABASE_URL's or DATABASE_URL's server, else an embedded Postgres), in
the Procfile's layout (`marketsim release`, then gunicorn as deployed and `marketsim
scheduler`) or as `marketsim run`, with the clock set so that the measurement falls in the
busy simulated evening (`--at`, 18:00), and measures once generation has caught up. Without
it, it measures a service already running.

It LISTENs on the log's channel on its own connection (Postgres delivers each append's
notification when its transaction commits: when its rows become visible) and follows the feed
on `*` with `--clients` plain WebSocket clients, for `--seconds`. An event's latency is the
time between the first notification that covers its position and the arrival of the frame
that carries it. Prints p50/p95/p99/max over every event and over frames, and how many of
each; the clients run on the same machine as the service, so the figures include their share
of the cores.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import websocket

from app.settings import PROJECT_ROOT
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


def measure(ws_url: str, database_url: str, seconds: float, clients: int = 1) -> None:
    """Follow the feed with `clients` clients for `seconds` and print the latencies."""
    seen: list[tuple[int, float]] = []
    frames: list[list[tuple[list[int], float]]] = [[] for _ in range(clients)]
    listener = threading.Thread(target=listen, args=(database_url, seconds + 2, seen))
    listener.start()
    time.sleep(0.5)
    followers = [
        threading.Thread(target=follow, args=(ws_url, seconds, received)) for received in frames
    ]
    for follower in followers:
        follower.start()
    for follower in followers:
        follower.join()
    listener.join()
    per_event, per_frame = [], []
    for received in frames:
        events, whole = latencies(seen, received)
        per_event += events
        per_frame += whole
    print(
        f"{len(per_event)} events in {len(per_frame)} frames over {seconds:g} s"
        f" ({clients} client{'s' if clients > 1 else ''} on *)"
    )
    print(f"visible -> client, per event: {quantiles(per_event)}")
    print(f"visible -> client, per frame (its oldest event): {quantiles(per_frame)}")


@contextlib.contextmanager
def started(layout: str, speed: float, at: int, folder: Path) -> Iterator[tuple[str, str]]:
    """The service in `layout` on a scratch database, its clock at the next `at` o'clock
    (simulated) after the baseline, caught up: yields (base URL, database URL)."""
    from bench.scratch import scratch_database

    with scratch_database() as url:
        env = os.environ | {"DATABASE_URL": url, "SIM_SPEED": f"{speed:g}"}
        subprocess.run([sys.executable, "-m", "app.cli", "release"], env=env, check=True)
        _start_clock(url, at, speed)
        port = _free_port()
        if layout == "run":
            commands = [["-m", "app.cli", "run", "--port", str(port)]]
        else:
            commands = [
                ["-m", "gunicorn", "--bind", f"127.0.0.1:{port}"],
                ["-m", "app.cli", "scheduler"],
            ]
        processes = []
        try:
            for index, command in enumerate(commands):
                with (folder / f"process-{index}.log").open("w") as out:
                    processes.append(
                        subprocess.Popen(
                            [sys.executable, *command],
                            cwd=PROJECT_ROOT,
                            env=env | {"PORT": str(port), "WEB_CONCURRENCY": "1"},
                            stdout=out,
                            stderr=subprocess.STDOUT,
                        )
                    )
            base = f"http://127.0.0.1:{port}"
            _wait_caught_up(base)
            yield base, url
        finally:
            for process in reversed(processes):
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()


def _start_clock(url: str, at: int, speed: float) -> None:
    from app.domain.clock import SimClock
    from app.services.clock import clock_event
    from app.store import Store
    from seeds.baseline import default_end

    end = default_end()
    simulated = end + timedelta(hours=(at - end.hour) % 24)
    store = Store.connect(url)
    try:
        store.log.append([clock_event(SimClock(datetime.now(UTC), simulated, speed))])
    finally:
        store.close()
    print(f"clock at {simulated:%Y-%m-%d %H:%M} simulated, {speed:g}x", flush=True)


def _wait_caught_up(base: str, timeout: float = 300) -> None:
    """Until the service answers and generation is not catching up, and 10 s more (a first
    restore and catch-up take the cores for a while)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/api/simulation/state", timeout=2) as answer:
                generation = json.load(answer).get("generation") or {}
            if generation and not generation.get("catchingUp"):
                time.sleep(10)
                return
        except OSError:
            pass
        time.sleep(1)
    raise RuntimeError(f"{base} did not catch up within {timeout:g} s")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--start", choices=["procfile", "run"], help="start the service itself")
    parser.add_argument("--speed", type=float, default=60.0, help="with --start")
    parser.add_argument("--at", type=int, default=18, help="simulated hour to start at")
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--database-url", help="the running service's (without --start)")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=1)
    args = parser.parse_args()
    if args.start:
        with (
            tempfile.TemporaryDirectory() as folder,
            started(args.start, args.speed, args.at, Path(folder)) as (base, database_url),
        ):
            print(f"{args.start} layout at {base}", flush=True)
            measure(_ws_url(base), database_url, args.seconds, args.clients)
        return
    if not args.database_url:
        parser.error("--database-url is required without --start")
    measure(_ws_url(args.url), args.database_url, args.seconds, args.clients)


def _ws_url(base: str) -> str:
    return base.replace("http", "ws", 1).rstrip("/") + "/ws"


if __name__ == "__main__":
    main()
