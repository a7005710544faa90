"""The soak: days of simulated time through the processes as deployed, to show that the log's
size and each process's memory stay bounded and that the live feed loses nothing.

    python -m bench.soak                          # 6 simulated days, about 10 minutes
    python -m bench.soak --days 21 --restart-at 17 --speed 1000   # the run in SIMULATOR.md
    python -m bench.soak --days 0.2 --sample-every 3 --json out.json   # the smoke run

On a scratch database (BENCH_DATABASE_URL's server, else an embedded Postgres) it runs
`marketsim release` (migrate, seed), the web process (`python -m gunicorn`, one gevent worker,
gunicorn.conf.py) and `marketsim scheduler` at `--speed` (SIM_SPEED), with a WebSocket client
on `*` reading the whole feed from before the first event to the end and answering pings, and
samples every `--sample-every` seconds: the simulated day the generator has reached (the
high group's last tick, and the slowest group's), the log's head position, rows and size (as
the state reports them: every partition with its indexes), where its stream events start,
how many partitions retention dropped, the scheduler's and the web worker's RSS, the feed
client's count and lag, and the time to answer a 7-day history of every stream ending at the
generator's frontier.
It stops at `--days` (or `--minutes` of wall time), lets the client read to the log's end,
and then checks:

- the feed: every stream event appended after the client subscribed arrived once and in
  order (per partition of the log: counted against the log for those kept, against the
  `control.retention` event's `rows` for those dropped);
- a resume from before the first stream event: `recovered: false`, `reason: "retention"`
  once a partition was dropped (`recovered: true` before);
- the first 12 live hours' history and ground truth, read once every cadence group has
  generated past them and again at the end: identical, drops or not;
- `GET /api/simulation/state` (`log`) and `/metrics` (`marketsim_log_*`) report the size and
  the retention settings (printed).

Retention. `LOG_RETENTION` is wall time, an hour at the least, so it cannot bite within a run
of minutes; the bench sets `LOG_MAX_BYTES` (`--max-bytes`, default 100MB, the least it takes)
so that every partition retention may drop is dropped. What it may drop is bounded by the
generator's read-back: a partition holding stream events of the 15 simulated days before the
slowest cadence group's frontier (the longest delay of a caused event, 14 days, plus a day)
stays whatever the policy says, since a restarted generator reads its pending causes back
from it. Each group's job runs at its cadence in simulated time over the clock's speed (never
more often than the high group's), so the slowest group (the `slowest` column) stays within a
few simulated hours of the others at a fast clock; the log then holds at least those 15
simulated days whatever the budget, about 400 bytes an event. `--restart-at` restarts the
scheduler as a deploy does: its restore reads those days back a chunk at a time (before stop
26 it read the whole epoch at once and passed 10 GB after 17 days at 1,000x; SIMULATOR.md,
Retention, has the run of 30 days).

Speed. The generator appends about 14,000 events/s at most, alone on a quiet machine, and a
simulated day is about 600,000 events. With the web process, the client and Postgres on the
same 2 cores, and other work on them, it falls behind the clock at 1,800x (the high group's
job then chases the clock chunk by chunk) and fell 2 simulated days behind in 27 minutes at
1,000x; the default is 900x, about 100 s of wall time a simulated day.

Prints the samples as a table, the checks, and a summary: whether the size plateaued (a drop
happened, and the largest size in the last half of the samples after the first drop is within
10% of the largest before that half) and whether each RSS plateaued (the largest in the last
third of the run within 5% of the largest in the middle third). `--json` writes it all.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import psutil
import psycopg
import websocket

from app.domain.generator import GROUPS
from app.domain.timerange import from_iso, iso
from app.store import Store
from app.store.database import libpq_url
from bench.scratch import scratch_database

ROOT = Path(__file__).resolve().parent.parent
DAY = timedelta(days=1)
LOG_METRIC = re.compile(r"^marketsim_log_\w+ .*$", re.MULTILINE)
STOPPING = threading.Event()
"""Set by SIGTERM or SIGINT: the run ends at once and reports what it has."""


# The feed client ---------------------------------------------------------------------------


@dataclass
class FeedRecord:
    """What the client saw: stream events per partition of the log, and any event out of
    order or seen twice."""

    partition_positions: int
    subscribed_at: int = 0
    """The position its first `subscribed` ran to: every stream event after it must arrive."""
    last_position: int = 0
    """The newest stream event's position received."""
    events: int = 0
    notices: int = 0
    repeats: int = 0
    """Stream events at or before a position already received (repeated or out of order)."""
    per_partition: Counter[int] = field(default_factory=Counter)
    connections: int = 0
    resumes: list[dict[str, Any]] = field(default_factory=list)
    """`subscribed` frames of reconnections: `recovered` and `reason`."""
    error: str | None = None

    def partition_of(self, position: int) -> int:
        return (position - 1) // self.partition_positions

    def take(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            if event["kind"] != "stream":
                self.notices += 1
                continue
            position = event["position"]
            if position <= self.last_position:
                self.repeats += 1
                continue
            self.last_position = position
            self.events += 1
            self.per_partition[self.partition_of(position)] += 1


class FeedClient(threading.Thread):
    """A WebSocket client on `*` for the whole run: it answers pings and, if its connection
    drops, reconnects with `lastEventId` as a client should (each resume is recorded)."""

    def __init__(self, ws_url: str, record: FeedRecord) -> None:
        super().__init__(name="feed-client", daemon=True)
        self.ws_url = ws_url
        self.record = record
        self.stop = threading.Event()
        self.subscribed = threading.Event()
        self._resume_from: int | None = None

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self._follow()
            except (OSError, websocket.WebSocketException) as exc:
                if self.stop.is_set():
                    return
                self.record.error = f"{type(exc).__name__}: {exc}"
                time.sleep(0.5)

    def _follow(self) -> None:
        ws = websocket.create_connection(self.ws_url, timeout=10, skip_utf8_validation=True)
        self.record.connections += 1
        try:
            message: dict[str, Any] = {"type": "subscribe", "topics": ["*"]}
            if self._resume_from is not None:
                message["lastEventId"] = self._resume_from
            ws.send(json.dumps(message))
            ws.settimeout(1)
            while not self.stop.is_set():
                try:
                    raw = ws.recv()
                except websocket.WebSocketTimeoutException:
                    continue
                self._frame(ws, orjson.loads(raw))
        finally:
            ws.close()

    def _frame(self, ws: websocket.WebSocket, frame: dict[str, Any]) -> None:
        kind = frame["type"]
        if kind == "ping":
            ws.send('{"type": "pong"}')
        elif kind == "subscribed":
            if self._resume_from is None:
                self.record.subscribed_at = frame["position"]
                self.subscribed.set()
            else:
                self.record.resumes.append(
                    {"recovered": frame.get("recovered"), "reason": frame.get("reason")}
                )
        elif kind in ("events", "catchup"):
            self.record.take(frame["events"])
        elif "event" in frame:
            self.record.take([frame["event"]])
        if "position" in frame and kind != "subscribed" and frame["position"] is not None:
            self._resume_from = max(self._resume_from or 0, frame["position"])


def resume_from(ws_url: str, position: int) -> dict[str, Any]:
    """The `subscribed` answer to a resume from `position` (then the connection is closed)."""
    ws = websocket.create_connection(ws_url, timeout=30, skip_utf8_validation=True)
    try:
        ws.send(json.dumps({"type": "subscribe", "topics": ["*"], "lastEventId": position}))
        while True:
            frame = orjson.loads(ws.recv())
            if frame["type"] == "subscribed":
                return {"recovered": frame.get("recovered"), "reason": frame.get("reason")}
    finally:
        ws.close()


# The processes -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def release(env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "release"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"marketsim release failed:\n{done.stderr[-3000:]}")


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )


def wait_for_web(base: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    """Until the worker answers and its feed hub runs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited:\n{log.read_text()[-3000:]}")
        if "feed hub started" in log.read_text():
            with suppress(OSError), urllib.request.urlopen(f"{base}/healthz", timeout=2):
                return
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not start within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen, timeout: float = 60) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def worker_of(master: subprocess.Popen) -> psutil.Process | None:
    children = psutil.Process(master.pid).children()
    return children[0] if children else None


def rss_mb(process: psutil.Process | None) -> float | None:
    if process is None:
        return None
    with suppress(psutil.Error):
        return process.memory_info().rss / 1e6
    return None


@dataclass
class Run:
    """The web process (running) and how to start the scheduler, with the same settings."""

    base: str
    web: subprocess.Popen
    env: dict[str, str]
    folder: Path
    scheduler: subprocess.Popen | None = None

    def start_scheduler(self, speed: float) -> subprocess.Popen:
        self.scheduler = start(
            [sys.executable, "-m", "app.cli", "scheduler"],
            {**self.env, "SIM_SPEED": f"{speed:g}"},
            self.folder / "scheduler.log",
        )
        return self.scheduler

    def log_tail(self, name: str) -> str:
        return (self.folder / name).read_text()[-3000:]


@contextmanager
def processes(url: str, retention: str, max_bytes: str, folder: Path) -> Iterator[Run]:
    """Release, then the web process; the web and the scheduler (first) stopped on the way
    out."""
    env = {k: v for k, v in os.environ.items() if k not in ("ADMIN_TOKEN", "SIM_SPEED")}
    env |= {"DATABASE_URL": url, "LOG_RETENTION": retention, "LOG_MAX_BYTES": max_bytes}
    env |= {"LOG_FORMAT": "json", "WEB_CONCURRENCY": "1"}
    release(env)
    port = free_port()
    web_log = folder / "web.log"
    web = start(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"],
        {**env, "PORT": str(port)},
        web_log,
    )
    run = Run(base=f"http://127.0.0.1:{port}", web=web, env=env, folder=folder)
    try:
        wait_for_web(run.base, web, web_log)
        yield run
    finally:
        if run.scheduler is not None:
            stop(run.scheduler)
        stop(web)


# Sampling ----------------------------------------------------------------------------------


@dataclass
class Sample:
    wall: float
    day: float
    """The simulated day (since the live start) the high-cadence group has reached."""
    slowest_day: float
    """The slowest group's: a restarted generator reads back from 15 days before it."""
    head: int
    rows: int
    mb: float
    retained_from: int
    oldest_day: float | None
    drops: int
    scheduler_mb: float | None
    web_mb: float | None
    feed_events: int
    feed_lag: int
    history_ms: float | None


def get(url: str, timeout: float = 120) -> tuple[bytes, float]:
    began = time.perf_counter()
    with urllib.request.urlopen(url, timeout=timeout) as response:
        body = response.read()
    return body, (time.perf_counter() - began) * 1000


def get_json(url: str) -> Any:
    return orjson.loads(get(url)[0])


class Sampler:
    def __init__(self, url: str, run: Run, record: FeedRecord) -> None:
        self.store = Store.connect(url)
        self.conn = psycopg.connect(libpq_url(url), autocommit=True)
        self.run = run
        self.record = record
        self.live_since = from_iso(get_json(f"{run.base}/api/simulation/state")["liveSince"])
        self.began = time.monotonic()
        self.worker = worker_of(run.web)
        self.scheduler: psutil.Process | None = None

    def close(self) -> None:
        self.conn.close()
        self.store.close()

    def frontiers(self) -> tuple[datetime | None, datetime | None]:
        """The high group's frontier and the slowest group's."""
        found = self.store.generation.frontiers(self.store.log.current_epoch(), GROUPS)
        if len(found) < len(GROUPS):
            return None, None
        return found["high"], min(found.values())

    def day(self, moment: datetime | None) -> float:
        return 0.0 if moment is None else (moment - self.live_since) / DAY

    def drops(self) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT data FROM event_log WHERE type = 'control.retention' ORDER BY position"
        ).fetchall()
        return [row[0] for row in rows]

    def history_ms(self, until: datetime | None) -> float | None:
        if until is None:
            return None
        end = until.replace(minute=0, second=0, microsecond=0)
        query = f"start={iso(end - 7 * DAY)}&end={iso(end)}"
        return get(f"{self.run.base}/api/simulation/history?{query}")[1]

    def take(self) -> Sample:
        if self.scheduler is None and self.run.scheduler is not None:
            self.scheduler = psutil.Process(self.run.scheduler.pid)
        frontier, slowest = self.frontiers()
        size = self.store.log.size()
        head = self.store.log.last_position()
        return Sample(
            wall=time.monotonic() - self.began,
            day=self.day(frontier),
            slowest_day=self.day(slowest),
            head=head,
            rows=size.rows,
            mb=size.bytes / 1e6,
            retained_from=size.retained_from,
            oldest_day=None
            if size.oldest_occurred_at is None
            else self.day(size.oldest_occurred_at),
            drops=len(self.drops()),
            scheduler_mb=rss_mb(self.scheduler),
            web_mb=rss_mb(self.worker),
            feed_events=self.record.events,
            feed_lag=max(0, head - self.record.last_position) if self.record.events else 0,
            history_ms=self.history_ms(frontier),
        )

    def last_stream_position(self) -> int:
        row = self.conn.execute("SELECT max(position) FROM event_log_stream").fetchone()
        return int(row[0] or 0)

    def kept_per_partition(self, after: int) -> dict[int, int]:
        rows = self.conn.execute(
            "SELECT (position - 1) / %(size)s, count(*) FROM event_log_stream "
            "WHERE position > %(after)s GROUP BY 1",
            {"size": self.record.partition_positions, "after": after},
        ).fetchall()
        return {int(k): int(n) for k, n in rows}


def partition_positions(url: str) -> int:
    with psycopg.connect(libpq_url(url)) as conn:
        row = conn.execute("SELECT partition_positions FROM event_log_partitioning").fetchone()
    assert row is not None
    return int(row[0])


# The checks --------------------------------------------------------------------------------


def feed_check(record: FeedRecord, sampler: Sampler) -> dict[str, Any]:
    """Every stream event after the client subscribed, once: per partition, against the log
    (kept) or the `control.retention` event that dropped it."""
    expected = sampler.kept_per_partition(record.subscribed_at)
    for drop in sampler.drops():
        if drop["firstPosition"] > record.subscribed_at:
            expected[record.partition_of(drop["firstPosition"])] = drop["rows"]
    missing = sum(max(0, n - record.per_partition[k]) for k, n in expected.items())
    unexpected = sum(max(0, n - expected.get(k, 0)) for k, n in record.per_partition.items())
    return {
        "events": record.events,
        "expected": sum(expected.values()),
        "missing": missing,
        "unexpected": unexpected,
        "repeats": record.repeats,
        "notices": record.notices,
        "connections": record.connections,
        "resumes": record.resumes,
        "error": record.error,
    }


def wait_for_feed(record: FeedRecord, last: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while record.last_position < last and time.monotonic() < deadline:
        time.sleep(0.5)
    return record.last_position >= last


EARLY = timedelta(hours=12)
"""The first live hours, whose history and ground truth are read twice: once every group has
generated past them (a group behind the others writes effects of its causes into hours the
others have passed, so only then are they complete), and at the end."""


def early_span(sampler: Sampler) -> str:
    start, end = sampler.live_since, sampler.live_since + EARLY
    return f"start={iso(start)}&end={iso(end)}"


def read_early(base: str, span: str) -> dict[str, Any]:
    """History's values and events (not its `simulatedNow` and coverage, which move on) and
    the whole ground truth of the span."""
    history = get_json(f"{base}/api/simulation/history?{span}")
    truth = get_json(f"{base}/api/ground-truth?{span}")
    return {"history": [history["streams"], history["events"]], "truth": truth}


# The report --------------------------------------------------------------------------------


COLUMNS = (
    "wall", "sim day", "slowest", "head", "rows", "log MB", "from pos", "oldest", "drops",
    "sched MB", "web MB", "feed events", "feed lag", "hist 7d ms",
)  # fmt: skip


def row(sample: Sample) -> tuple[str, ...]:
    def mb(value: float | None) -> str:
        return "-" if value is None else f"{value:.0f}"

    minutes, seconds = divmod(int(sample.wall), 60)
    return (
        f"{minutes}:{seconds:02d}",
        f"{sample.day:.2f}",
        f"{sample.slowest_day:.2f}",
        f"{sample.head:,}",
        f"{sample.rows:,}",
        mb(sample.mb),
        f"{sample.retained_from:,}",
        "-" if sample.oldest_day is None else f"{sample.oldest_day:.2f}",
        str(sample.drops),
        mb(sample.scheduler_mb),
        mb(sample.web_mb),
        f"{sample.feed_events:,}",
        f"{sample.feed_lag:,}",
        "-" if sample.history_ms is None else f"{sample.history_ms:.0f}",
    )


WIDTHS = (6, 7, 7, 11, 11, 6, 10, 6, 5, 8, 6, 11, 9, 10)


def line(cells: tuple[str, ...]) -> str:
    return "  ".join(c.rjust(w) for c, w in zip(cells, WIDTHS, strict=True))


def table(samples: list[Sample]) -> str:
    return "\n".join(line(cells) for cells in [COLUMNS, *(row(s) for s in samples)])


def size_plateau(samples: list[Sample]) -> dict[str, Any]:
    """After the first drop: the largest size in the last half of those samples against the
    largest in the first half (a plateau: within 10%)."""
    before = [s for s in samples if s.drops == 0]
    after = [s for s in samples if s.drops > 0]
    peak_before = max((s.mb for s in before), default=0.0)
    if len(after) < 2:
        return {"plateaued": False, "firstDropDay": None, "maxMBBeforeDrops": peak_before}
    half = len(after) // 2
    early, late = max(s.mb for s in after[:half]), max(s.mb for s in after[half:])
    return {
        "plateaued": late <= 1.1 * max(early, peak_before),
        "firstDropDay": after[0].day,
        "maxMBBeforeDrops": peak_before,
        "mbAfterFirstDrop": [min(s.mb for s in after), max(s.mb for s in after)],
        "rowsAfterFirstDrop": [min(s.rows for s in after), max(s.rows for s in after)],
    }


def rss_plateau(values: list[float | None]) -> dict[str, Any]:
    """The largest RSS in the last third against the largest in the middle third."""
    known = [v for v in values if v is not None]
    if len(known) < 3:
        return {"plateaued": None, "startMB": None, "maxMB": None, "endMB": None}
    third = len(known) // 3
    middle, last = max(known[third : 2 * third]), max(known[2 * third :])
    return {
        "plateaued": last <= 1.05 * middle,
        "startMB": known[0],
        "maxMB": max(known),
        "endMB": known[-1],
        "growthLastThirdPct": round(100 * (last / middle - 1), 1),
    }


# The run -----------------------------------------------------------------------------------


def soak(args: argparse.Namespace) -> dict[str, Any]:
    samples: list[Sample] = []
    report: dict[str, Any] = {
        "days": args.days,
        "speed": args.speed,
        "retention": args.retention,
        "maxBytes": args.max_bytes,
    }
    with (
        scratch_database() as url,
        tempfile.TemporaryDirectory(prefix="soak-") as folder,
        processes(url, args.retention, args.max_bytes, Path(folder)) as run,
    ):
        record = FeedRecord(partition_positions(url))
        ws_url = run.base.replace("http", "ws", 1) + "/ws"
        client = FeedClient(ws_url, record)
        client.start()
        if not client.subscribed.wait(30):
            raise SystemExit(f"the feed client did not subscribe: {record.error}")
        scheduler = run.start_scheduler(args.speed)
        sampler = Sampler(url, run, record)
        span, early = early_span(sampler), None
        restarts: list[float] = []
        report["schedulerRestartedAtDay"] = restarts
        print(line(COLUMNS), flush=True)
        deadline = time.monotonic() + args.minutes * 60
        while not STOPPING.wait(args.sample_every):
            if scheduler.poll() is not None:
                raise SystemExit("the scheduler exited:\n" + run.log_tail("scheduler.log"))
            sample = sampler.take()
            samples.append(sample)
            print(line(row(sample)), flush=True)
            if early is None and sample.slowest_day >= EARLY / DAY + 0.1:
                early = read_early(run.base, span)
            if args.restart_at is not None and sample.day >= args.restart_at and not restarts:
                stop(scheduler)
                scheduler = run.start_scheduler(args.speed)
                sampler.scheduler = None
                restarts.append(sample.day)
                print(f"-- the scheduler restarted (a deploy) at simulated day {sample.day:.2f}")
            if sample.day >= args.days or time.monotonic() > deadline:
                break
        stop(scheduler)
        last = sampler.last_stream_position()
        report["feedDrained"] = wait_for_feed(record, last, timeout=120)
        client.stop.set()
        client.join(timeout=10)
        report["feed"] = feed_check(record, sampler)
        report["resumeFromStart"] = resume_from(ws_url, record.subscribed_at)
        if early is not None:
            again = read_early(run.base, span)
            report["earlyDayUnchanged"] = {k: again[k] == early[k] for k in again}
        state = get_json(f"{run.base}/api/simulation/state")
        report["stateLog"] = state["log"]
        report["metrics"] = LOG_METRIC.findall(get(f"{run.base}/metrics")[0].decode())
        report["drops"] = sampler.drops()
        sampler.close()
    report["samples"] = [asdict(s) for s in samples]
    report["size"] = size_plateau(samples)
    report["schedulerRss"] = rss_plateau([s.scheduler_mb for s in samples])
    report["webRss"] = rss_plateau([s.web_mb for s in samples])
    history = [s.history_ms for s in samples if s.history_ms is not None]
    report["historyMs"] = {
        "first": history[0] if history else None,
        "max": max(history, default=None),
    }
    return report


def summary(report: dict[str, Any]) -> str:
    feed, size = report["feed"], report["size"]
    lines = [
        "",
        f"feed on *: {feed['events']:,} stream events received of {feed['expected']:,} "
        f"appended after it subscribed; missing {feed['missing']}, repeated or out of order "
        f"{feed['repeats']}, unexpected {feed['unexpected']}; {feed['connections']} "
        f"connection(s), resumes {feed['resumes'] or 'none'}; read to the end: "
        f"{report['feedDrained']}",
        f"resume from before the first event: {report['resumeFromStart']}",
        f"first 12 live hours' history and ground truth, unchanged: "
        f"{report.get('earlyDayUnchanged', 'not reached')}",
        f"retention drops: {len(report['drops'])} "
        + ", ".join(
            f"{d['firstPosition']:,}-{d['lastPosition']:,} ({d['rows']:,} rows, "
            f"{d['bytes'] / 1e6:.0f} MB, {d['reason']})"
            for d in report["drops"]
        ),
        f"size: plateaued {size['plateaued']}; largest before the first drop "
        f"{size['maxMBBeforeDrops']:.0f} MB"
        + (
            f"; first drop at simulated day {size['firstDropDay']:.2f}, then "
            f"{size['mbAfterFirstDrop'][0]:.0f}-{size['mbAfterFirstDrop'][1]:.0f} MB, "
            f"{size['rowsAfterFirstDrop'][0]:,}-{size['rowsAfterFirstDrop'][1]:,} rows"
            if size["firstDropDay"] is not None
            else ""
        ),
    ]
    for name in ("schedulerRss", "webRss"):
        rss = report[name]
        if rss["maxMB"] is not None:
            lines.append(
                f"{name}: plateaued {rss['plateaued']}; start {rss['startMB']:.0f} MB, "
                f"max {rss['maxMB']:.0f} MB, end {rss['endMB']:.0f} MB, last third vs "
                f"middle third {rss['growthLastThirdPct']:+.1f}%"
            )
    history = report["historyMs"]
    if history["max"] is not None:
        lines.append(
            f"7-day history of every stream: first {history['first']:.0f} ms, "
            f"max {history['max']:.0f} ms"
        )
    lines.append(f"GET /api/simulation/state log: {json.dumps(report['stateLog'])}")
    lines.append("/metrics:")
    lines += [f"  {line}" for line in report["metrics"]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=float, default=6.0, help="simulated days to generate")
    parser.add_argument("--speed", type=float, default=900.0, help="SIM_SPEED")
    parser.add_argument("--max-bytes", default="100MB", help="LOG_MAX_BYTES")
    parser.add_argument("--retention", default="14d", help="LOG_RETENTION (wall time)")
    parser.add_argument("--sample-every", type=float, default=30.0, help="seconds")
    parser.add_argument("--minutes", type=float, default=60.0, help="wall-time cap")
    parser.add_argument(
        "--restart-at",
        type=float,
        help="restart the scheduler once (as a deploy does) at this simulated day; its restore "
        "reads back the log from 15 days before the slowest group's frontier: mind its RSS",
    )
    parser.add_argument("--json", type=Path, help="write the report here too")
    args = parser.parse_args()
    for stopping in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stopping, lambda *_: STOPPING.set())
    report = soak(args)
    print(summary(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=str))


if __name__ == "__main__":
    main()
