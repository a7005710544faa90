"""The WebSocket feed under load: gunicorn as deployed (gunicorn.conf.py), real clients.

    python -m bench.ws_load                        # 100 then 500 clients, 30 s each
    python -m bench.ws_load --clients 500 --minutes 10 --sample-every 10   # the memory run
    python -m bench.ws_load --worker-class gthread --threads 1600   # the fallback, to compare

On a scratch database (BENCH_DATABASE_URL's server, else an embedded Postgres) it starts one
gunicorn worker, connects the clients from a few gevent client processes (minimal WebSocket
clients; each subscribes to `*` and answers pings), and appends events shaped like the
generator's at `--rate` events a second in batches every 100 ms: a frame every 100 ms to every
client, the batch window's own rate. It prints, per client count:

- commit-to-client latency p50/p99: from the moment `append` returned (the transaction
  committed) to the moment a client read the frame carrying the event, over every event and
  every client (the target p99 <= 150 ms includes the 100 ms batch window);
- events lost (appended after the client subscribed, never received), duplicates, and clients
  the server dropped;
- the machine's load average and the client processes' CPU (they share the cores with the
  server, so the figures are an upper bound on latency: a busy machine shows in p99 first);
- the worker's CPU, OS threads, and memory (RSS) every `--sample-every` seconds: at start,
  once the feed's one-minute buffer is full, at the end, the highest, and the drift from the
  full buffer to the end (target: within 5%).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import re
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

CLIENT_BOOT = (
    "from gevent import monkey; monkey.patch_all()\n"
    "import sys; from bench.ws_load import run_clients\n"
    "run_clients(sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))\n"
)
"""A client process: gevent patches the standard library first."""

ROOT = Path(__file__).resolve().parent.parent
POSITION = re.compile(rb'"position":(\d+)')
BATCH_INTERVAL = 0.1


# The client processes ----------------------------------------------------------------------


class LeanClient:
    """A minimal WebSocket client (RFC 6455: handshake, unmasked server frames in, masked
    text frames out), so that the clients cost little next to the server they measure."""

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("ws://").split("/", 1)[0].split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=60)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            received += chunk
        head, rest = received.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError(head.decode(errors="replace"))
        self.buffer = bytearray(rest)

    def send_text(self, text: str) -> None:
        payload = text.encode()
        mask = os.urandom(4)
        size = len(payload)
        if size < 126:
            header = struct.pack("!BB", 0x81, 0x80 | size)
        else:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, size)
        masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def receive(self) -> tuple[int, bytes]:
        """The next frame: (opcode, payload)."""
        while True:
            frame = self._parse()
            if frame is not None:
                return frame
            chunk = self.sock.recv(262144)
            if not chunk:
                raise ConnectionError("closed")
            self.buffer += chunk

    def _parse(self) -> tuple[int, bytes] | None:
        buffer = self.buffer
        if len(buffer) < 2:
            return None
        opcode, size = buffer[0] & 0x0F, buffer[1] & 0x7F
        start = 2
        if size == 126:
            if len(buffer) < 4:
                return None
            size, start = struct.unpack_from("!H", buffer, 2)[0], 4
        elif size == 127:
            if len(buffer) < 10:
                return None
            size, start = struct.unpack_from("!Q", buffer, 2)[0], 10
        if len(buffer) < start + size:
            return None
        payload = bytes(buffer[start : start + size])
        del buffer[: start + size]
        return opcode, payload


def run_clients(url: str, count: int, out_path: str, nice: int = 0) -> None:
    """`count` feed clients in one gevent process; on SIGTERM each writes what it got."""
    import gevent
    import gevent.event

    if nice:
        os.nice(nice)
    stop = gevent.event.Event()
    records: list[dict] = [{} for _ in range(count)]

    def client(index: int) -> None:
        record = records[index]
        record.update(start=None, worker=None, positions=[], times=[], dropped=None)
        try:
            ws = LeanClient(url)
            ws.send_text(json.dumps({"type": "subscribe", "topics": ["*"]}))
        except Exception as exc:
            record["dropped"] = f"connect: {exc}"
            return
        while not stop.is_set():
            try:
                opcode, payload = ws.receive()
            except Exception as exc:
                record["dropped"] = record["dropped"] or f"receive: {exc}"
                return
            arrived = time.time()
            if opcode == 0x8:
                record["dropped"] = record["dropped"] or "closed by the server"
                return
            if payload.startswith(b'{"type":"events"'):
                # The frame's own position first, then each event's: a regex costs a tenth of
                # json.loads, and the clients share the machine with the server they measure.
                found = POSITION.findall(payload)[1:]
                record["positions"].extend(int(p) for p in found)
                record["times"].extend([arrived] * len(found))
                continue
            frame = json.loads(payload)
            kind = frame["type"]
            if kind == "subscribed":
                record["start"] = frame["position"]
                record["worker"] = frame["worker"]
            elif kind == "ping":
                ws.send_text('{"type":"pong"}')
            elif kind in ("overflow", "error"):
                record["dropped"] = f"{kind}: {frame}"

    greenlets = []
    for index in range(count):
        greenlets.append(gevent.spawn(client, index))
        gevent.sleep(0.002)

    def ready() -> None:
        while (
            sum(r.get("start") is not None or r.get("dropped") is not None for r in records) < count
        ):
            gevent.sleep(0.05)
        print("ready", flush=True)

    gevent.spawn(ready)
    gevent.signal_handler(signal.SIGTERM, stop.set)
    with contextlib.suppress(gevent.exceptions.LoopExit):
        stop.wait()  # LoopExit: every client ended (the server went away); write what they got
    gevent.killall(greenlets, timeout=5)
    Path(out_path).write_text(json.dumps(records))


# The server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(
    url: str, port: int, worker_class: str, threads: int, log: Path | None = None
) -> subprocess.Popen:
    command = [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}"]
    command += ["--access-logfile", "/dev/null"]
    if worker_class != "gevent":
        command += ["--worker-class", worker_class, "--threads", str(threads)]
    env = {**os.environ, "DATABASE_URL": url, "PORT": str(port)}
    output = log.open("w") if log is not None else subprocess.DEVNULL
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=output)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("gunicorn did not start within 60 s")


@dataclass
class Process:
    """Figures of one OS process, from /proc."""

    pid: int

    def rss_mb(self) -> float:
        return self._status("VmRSS") / 1024

    def threads(self) -> int:
        return int(self._status("Threads"))

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def _status(self, key: str) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return float(line.split()[1])
        raise KeyError(key)


# A run -------------------------------------------------------------------------------------


@dataclass
class Run:
    clients: int
    seconds: float
    rate: int
    commits: dict[int, float] = field(default_factory=dict)
    """Position -> when its append returned."""
    memory: list[tuple[float, float]] = field(default_factory=list)
    cpu_percent: float = 0.0
    clients_cpu_percent: float = 0.0
    threads: int = 0
    load: tuple[float, float] = (0.0, 0.0)
    """The machine's 1-minute load average at the start and at the end."""


def write_events(store, run: Run, stop_at: float) -> None:
    import random

    from bench.append import stream_events

    rng = random.Random(11)
    per_batch = max(1, round(run.rate * BATCH_INTERVAL))
    next_at = time.monotonic()
    while time.monotonic() < stop_at:
        appended = store.log.append(stream_events(per_batch, rng))
        committed = time.time()
        for position in appended.positions:
            run.commits[position] = committed
        next_at += BATCH_INTERVAL
        time.sleep(max(0.0, next_at - time.monotonic()))


def sample_memory(worker: Process, run: Run, stop: threading.Event, every: float) -> None:
    started = time.monotonic()
    while True:
        run.memory.append((time.monotonic() - started, worker.rss_mb()))
        if stop.wait(every):
            return


def run_load(url: str, args: argparse.Namespace, clients: int, seconds: float) -> Run:
    from app.store import Store

    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="ws_load_"))
    server_log = workdir / "gunicorn.log"
    server = start_gunicorn(url, port, args.worker_class, args.threads, server_log)
    store = Store.connect(url)
    run = Run(clients=clients, seconds=seconds, rate=args.rate)
    processes = min(args.client_processes, clients)
    sizes = [clients // processes + (i < clients % processes) for i in range(processes)]
    launched = []
    try:
        for index, size in enumerate(sizes):
            out = workdir / f"clients-{index}.json"
            child = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    CLIENT_BOOT,
                    f"ws://127.0.0.1:{port}/ws",
                    str(size),
                    str(out),
                    str(args.client_nice),
                ],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                text=True,
            )
            launched.append((child, out))
        for child, _ in launched:
            if child.stdout.readline().strip() != "ready":
                raise RuntimeError("a client process did not get its clients connected")
        worker = Process(_worker_pid(server.pid))
        client_processes = [Process(child.pid) for child, _ in launched]
        stop_sampling = threading.Event()
        sampler = threading.Thread(
            target=sample_memory, args=(worker, run, stop_sampling, args.sample_every)
        )
        load_before = os.getloadavg()[0]
        cpu_before, wall_before = worker.cpu_seconds(), time.monotonic()
        clients_before = sum(p.cpu_seconds() for p in client_processes)
        sampler.start()
        write_events(store, run, time.monotonic() + seconds)
        time.sleep(1.0)  # the last batch's way to the clients
        elapsed = time.monotonic() - wall_before
        run.cpu_percent = 100 * (worker.cpu_seconds() - cpu_before) / elapsed
        clients_after = sum(p.cpu_seconds() for p in client_processes)
        run.clients_cpu_percent = 100 * (clients_after - clients_before) / elapsed
        run.load = (load_before, os.getloadavg()[0])
        run.threads = worker.threads()
        stop_sampling.set()
        sampler.join()
    finally:
        for child, _ in launched:
            child.send_signal(signal.SIGTERM)
        for child, _ in launched:
            child.wait(timeout=60)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        store.close()
    records = [r for _, out in launched for r in json.loads(out.read_text())]
    report(run, records)
    if args.dump:
        Path(args.dump).write_text(json.dumps({"commits": run.commits, "records": records}))
    booted = server_log.read_text().count("Booting worker")
    if booted != 1:
        print(f"      the worker was restarted ({booted} boots); see {server_log}")
    return run


def _worker_pid(master: int) -> int:
    """The gunicorn worker: the master's child process."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            return int(stat.parent.name)
    raise RuntimeError(f"gunicorn {master} has no worker")


def report(run: Run, records: list[dict]) -> None:
    latencies: list[float] = []
    lost = duplicates = dropped = 0
    for record in records:
        if record.get("dropped"):
            dropped += 1
        start = record.get("start") or 0
        expected = {p for p in run.commits if p > start}
        got = record.get("positions", [])
        duplicates += len(got) - len(set(got))
        lost += len(expected - set(got))
        for position, arrived in zip(got, record.get("times", []), strict=True):
            if position in run.commits:
                latencies.append((arrived - run.commits[position]) * 1000)
    reasons: dict[str, int] = {}
    for record in records:
        if record.get("dropped"):
            reason = str(record["dropped"])[:60]
            reasons[reason] = reasons.get(reason, 0) + 1
    if reasons:
        print(f"      dropped: {reasons}")
    latencies.sort()
    p50 = statistics.median(latencies) if latencies else float("nan")
    p99 = latencies[int(0.99 * (len(latencies) - 1))] if latencies else float("nan")
    first = run.memory[0][1]
    # The rolling buffer fills for its first minute; drift is measured from there on.
    settled_at, settled = next(((t, rss) for t, rss in run.memory if t >= 60), run.memory[0])
    last = run.memory[-1][1]
    highest = max(rss for _, rss in run.memory)
    print(
        f"{run.clients:>4} clients  {run.seconds / 60:>5.1f} min  {len(run.commits):>7} events  "
        f"latency p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  lost {lost}  duplicates {duplicates}  "
        f"dropped clients {dropped}"
    )
    print(
        f"      machine: {os.cpu_count()} cores, load average {run.load[0]:.2f} at start, "
        f"{run.load[1]:.2f} at end; the client processes used {run.clients_cpu_percent:.0f}% CPU"
    )
    print(
        f"      worker: CPU {run.cpu_percent:.0f}%  threads {run.threads}  RSS at start "
        f"{first:.1f} MB, at {settled_at / 60:.1f} min {settled:.1f} MB, last {last:.1f} MB, "
        f"highest {highest:.1f} MB: drift {100 * (last - settled) / settled:+.1f}% "
        f"from {settled_at / 60:.1f} min",
        flush=True,
    )
    if len(run.memory) > 2:
        trace = "  ".join(
            f"{t / 60:.1f}m:{rss:.1f}" for t, rss in run.memory[:: max(1, len(run.memory) // 12)]
        )
        print(f"      RSS (MB) over time: {trace}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ws_load", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--clients", type=int, nargs="+", default=[100, 500])
    parser.add_argument("--seconds", type=float, default=30.0, help="per client count")
    parser.add_argument("--minutes", type=float, default=None, help="overrides --seconds")
    parser.add_argument("--rate", type=int, default=50, help="events appended a second")
    parser.add_argument("--worker-class", default="gevent", choices=["gevent", "gthread"])
    parser.add_argument("--threads", type=int, default=1600, help="gthread only")
    parser.add_argument("--client-processes", type=int, default=4)
    parser.add_argument("--dump", default=None, help="write commits and receipts to this JSON")
    parser.add_argument(
        "--client-nice",
        type=int,
        default=0,
        help="run the client processes at this niceness, so that they do not take the cores "
        "from the server as remote clients would not (their reading delay still counts)",
    )
    parser.add_argument(
        "--sample-every", type=float, default=5.0, help="seconds between RSS samples"
    )
    args = parser.parse_args(argv)
    seconds = args.minutes * 60 if args.minutes is not None else args.seconds

    from bench.scratch import scratch_database

    print(
        f"worker class {args.worker_class}, {args.rate} events/s in batches every "
        f"{BATCH_INTERVAL * 1000:.0f} ms, every client subscribed to '*'",
        flush=True,
    )
    with scratch_database() as url:
        for clients in args.clients:
            run_load(url, args, clients, seconds)


if __name__ == "__main__":
    main()
