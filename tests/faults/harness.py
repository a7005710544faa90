"""The fault tests' harness: real processes (gunicorn, `marketsim scheduler`, `marketsim
watch`), a Postgres the test may restart, and reads of the log that do not go through the code
under test.

Every wait polls with a deadline and returns how long it took, so that a test can both
tolerate a busy machine and report the recovery times it measured.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from app.domain.clock import SimClock
from app.services.clock import clock_event
from app.settings import PROJECT_ROOT
from app.store.database import libpq_url

GROUPS = ("high", "medium", "low")
TICK = "control.tick"
PUBLIC_CONTROL = ("control.reset", "control.clock")
"""The control events a feed client receives (API.md, "Topics"); other control rows are not
sent, and positions move past them."""


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> float:
    """Poll `predicate` every 0.1 s until it is truthy; the seconds it took. A read of the
    log that cannot connect (Postgres restarting) counts as not yet."""
    started = time.monotonic()
    while True:
        try:
            if predicate():
                return time.monotonic() - started
        except psycopg.OperationalError:
            pass
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what}: not within {timeout:g} s")
        time.sleep(0.1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_clock_at(database_url: str, simulated: datetime, speed: float) -> None:
    """Record a clock that reads `simulated` now and runs at `speed`: live generation starts
    where the baseline ends instead of catching up the hours since (up to 12 h of simulated
    time, tens of seconds of work before the test could begin). The scheduler's `SIM_SPEED`
    must be the same speed, so that it keeps this clock."""
    from app.store import Store

    store = Store.connect(database_url)
    try:
        store.log.append([clock_event(SimClock(datetime.now(UTC), simulated, speed))])
    finally:
        store.close()


# The log, read directly ---------------------------------------------------------------------


class LogReader:
    """Reads of `event_log` on a connection of its own per call, independent of the app's
    pools (so a restarted Postgres leaves nothing stale here)."""

    def __init__(self, database_url: str) -> None:
        self.url = libpq_url(database_url)

    def rows(self, query: str, params: tuple = ()) -> list[dict[str, Any]]:
        with psycopg.connect(self.url, connect_timeout=5, row_factory=dict_row) as conn:
            return conn.execute(query, params).fetchall()

    def value(self, query: str, params: tuple = ()) -> Any:
        rows = self.rows(query, params)
        return next(iter(rows[0].values())) if rows else None

    def head(self) -> int:
        return self.value("SELECT coalesce(max(position), 0) AS head FROM event_log")

    def ticks_after(self, position: int) -> dict[str, int]:
        """How many ticks each cadence group wrote after `position`."""
        rows = self.rows(
            "SELECT data->>'group' AS grp, count(*) AS n FROM event_log "
            "WHERE type = %s AND position > %s GROUP BY 1",
            (TICK, position),
        )
        return {group: 0 for group in GROUPS} | {r["grp"]: r["n"] for r in rows}

    def ticks(self) -> list[dict[str, Any]]:
        return self.rows(
            "SELECT position, data->>'group' AS grp, (data->>'from')::timestamptz AS start, "
            "(data->>'until')::timestamptz AS until, xmin::text::bigint AS tx "
            "FROM event_log WHERE type = %s ORDER BY position",
            (TICK,),
        )

    def stream_events(self) -> list[dict[str, Any]]:
        return self.rows(
            "SELECT position, stream, occurred_at, data::text AS data, causation_id, "
            "correlation_id, xmin::text::bigint AS tx "
            "FROM event_log WHERE kind = 'stream' ORDER BY position"
        )

    def dangling_causes(self) -> list[dict[str, Any]]:
        """Events whose `causation_id` names no event of the log (a few, for the message)."""
        return self.rows(
            "SELECT e.position, e.stream, e.causation_id FROM event_log e "
            "WHERE e.causation_id IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM event_log c WHERE c.position = e.causation_id) LIMIT 5"
        )

    def feed_positions(self, after: int, through: int) -> list[int]:
        """The positions a `*` subscriber is owed after `after`, through `through`: every
        stream event, scenario and external event, and the public control events."""
        rows = self.rows(
            "SELECT position FROM event_log WHERE position > %s AND position <= %s "
            "AND (kind <> 'control' OR type = ANY(%s)) ORDER BY position",
            (after, through, list(PUBLIC_CONTROL)),
        )
        return [r["position"] for r in rows]

    def feed_backends(self) -> list[int]:
        """Backend pids of the feed hubs' LISTEN connections to this database."""
        rows = self.rows(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'marketsim feed' "
            "AND datname = current_database()"
        )
        return [r["pid"] for r in rows]


def assert_contiguous(ticks: list[dict[str, Any]], start: datetime) -> dict[str, list[dict]]:
    """Per cadence group, the ticks (`LogReader.ticks`) form one chain of simulated time from
    `start`: each begins where the one before ended, and none is empty. So no interval was
    generated twice and none was skipped. Returns the chains."""
    chains = {group: [t for t in ticks if t["grp"] == group] for group in GROUPS}
    for group, chain in chains.items():
        assert chain, f"no tick of {group}"
        assert chain[0]["start"] == start, (group, chain[0])
        for before, after in itertools.pairwise(chain):
            assert after["start"] == before["until"], (group, before, after)
            assert after["until"] > after["start"], (group, after)
    return chains


# Processes ----------------------------------------------------------------------------------


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path
    group: bool = False
    """Started in its own session: signals go to its whole process group (gunicorn's master
    and workers)."""

    @property
    def running(self) -> bool:
        return self.popen.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def signal(self, signum: int) -> None:
        if not self.running:
            return
        if self.group:
            os.killpg(self.popen.pid, signum)
        else:
            self.popen.send_signal(signum)

    def kill(self) -> None:
        """kill -9, then reap it."""
        self.signal(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM, and SIGKILL when it does not end within `timeout`."""
        self.signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        if self.group:  # workers a dead master left behind
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)


@dataclass
class Web:
    process: Process
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"


@dataclass
class Watch:
    """`marketsim watch --json` in its own process; what it printed is read from its files."""

    process: Process
    out: Path

    def positions(self) -> list[int]:
        """Positions of the events printed so far (complete lines only)."""
        text = self.out.read_text() if self.out.exists() else ""
        lines = text.split("\n")[:-1]
        return [json.loads(line)["position"] for line in lines if line]

    def last(self) -> int:
        printed = self.positions()
        return printed[-1] if printed else 0

    def notes(self) -> str:
        return self.process.output()


@dataclass
class Processes:
    """Everything a test started; whatever is still running at the end is stopped."""

    directory: Path
    started: list[Process] = field(default_factory=list)

    def _start(
        self, name: str, args: list[str], env: dict[str, str], *, group: bool = False
    ) -> Process:
        log = self.directory / f"{name}-{len(self.started)}.log"
        with log.open("w") as out:
            popen = subprocess.Popen(
                [sys.executable, *args],
                cwd=PROJECT_ROOT,
                env=os.environ | env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=group,
            )
        process = Process(name, popen, log, group)
        self.started.append(process)
        return process

    def web(self, database_url: str, port: int | None = None, timeout: float = 60) -> Web:
        """gunicorn as deployed (gunicorn.conf.py: one gevent worker), ready when /readyz
        answers 200."""
        port = port or free_port()
        process = self._start(
            "web",
            ["-m", "gunicorn", "--bind", f"127.0.0.1:{port}"],
            {"DATABASE_URL": database_url, "PORT": str(port), "WEB_CONCURRENCY": "1"},
            group=True,
        )
        web = Web(process, port)

        def ready() -> bool:
            if not process.running:
                raise AssertionError(f"gunicorn exited:\n{process.output()}")
            return http_status(f"{web.url}/readyz") == 200

        wait_for(ready, timeout, "gunicorn ready")
        return web

    def scheduler(self, database_url: str, speed: float) -> Process:
        return self._start(
            "scheduler",
            ["-m", "app.cli", "scheduler"],
            {"DATABASE_URL": database_url, "SIM_SPEED": f"{speed:g}"},
        )

    def watch(self, ws_url: str, since: int) -> Watch:
        """A feed client that reconnects and resumes by itself (`marketsim watch`),
        subscribed to everything after position `since`."""
        out = self.directory / f"watch-{len(self.started)}.jsonl"
        args = ["-m", "app.ws.watch", "--url", ws_url, "--json", "--topics", "*"]
        args += ["--since", str(since)]
        log = self.directory / f"watch-{len(self.started)}.log"
        with out.open("w") as stdout, log.open("w") as stderr:
            popen = subprocess.Popen(
                [sys.executable, *args], cwd=PROJECT_ROOT, stdout=stdout, stderr=stderr
            )
        process = Process("watch", popen, log)
        self.started.append(process)
        return Watch(process, out)

    def stop_all(self) -> None:
        """Clients first (gunicorn would wait out its graceful timeout for their sockets), then
        the scheduler, then the web."""
        order = {"watch": 0, "scheduler": 1, "web": 2}
        for process in sorted(reversed(self.started), key=lambda p: order.get(p.name, 1)):
            process.stop(timeout=15)


# HTTP ---------------------------------------------------------------------------------------


def http_status(url: str, timeout: float = 2) -> int | None:
    """The status of a GET, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def post_json(url: str, body: dict[str, Any], timeout: float = 10) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


# A test's run, start to end ----------------------------------------------------------------


def start_generating(
    processes: Processes, database_url: str, start: datetime, speed: float
) -> tuple[LogReader, Process, Web]:
    """A clock reading `start` and running at `speed`, a scheduler and a web process on it;
    returns once every cadence group has generated."""
    log = LogReader(database_url)
    start_clock_at(database_url, start, speed)
    scheduler = processes.scheduler(database_url, speed)
    web = processes.web(database_url)
    wait_for(lambda: all(log.ticks_after(0).values()), 60, "every group generating")
    return log, scheduler, web


def start_following(processes: Processes, log: LogReader, web: Web) -> tuple[Watch, int]:
    """A `marketsim watch` on `*` from the log's head; returns once it has printed an event,
    with the position it followed from."""
    since = log.head()
    client = processes.watch(web.ws_url, since)
    wait_for(lambda: client.last() > since, 30, "the client receiving")
    return client, since


def received_and_owed(
    log: LogReader, scheduler: Process, client: Watch, since: int
) -> tuple[list[int], list[int]]:
    """Generation stopped and the client caught up: the positions it printed, and those it was
    owed after `since`."""
    scheduler.stop()
    owed = log.feed_positions(since, log.head())
    wait_for(lambda: client.last() >= owed[-1], 30, "the client catching up")
    time.sleep(0.5)  # anything after the last owed event would be a duplicate or a stray
    return client.positions(), owed
