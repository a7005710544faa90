"""The detector benchmark end to end, as a user would run it: how a simple detector does on
each anomaly shape.

    python -m bench.detector_benchmark [--speed 600] [--history-days 14]

On a scratch database (bench/scratch.py): `marketsim release`, then `marketsim run` at
`--speed`; `marketsim benchmark` lays out an anomaly of each shape and two red herrings over
the next simulated day; once that day has been generated, `marketsim export --labels` writes
the hourly series (with `--history-days` of history before it, for the detector to learn the
season from) and the ground truth; the simple detector of tests/e2e/detector.py runs over the
export; `marketsim score` scores it against the export over the benchmark's day. Prints the
score's summary and, per shape, each instance's windows with their detectability and whether
the detector found them.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

from app.dataset import read_ground_truth
from app.domain.catalog import load_catalog
from app.domain.timerange import from_iso, iso
from app.settings import PROJECT_ROOT
from bench.scratch import scratch_database
from tests.e2e.detector import detect
from tests.faults.harness import free_port


def marketsim(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        capture_output=True, text=True, timeout=600, cwd=PROJECT_ROOT, env=env,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"marketsim {args[0]} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


def wait_ready(url: str, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("marketsim run exited")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("marketsim run not ready")


def wait_generated(url: str, through: str) -> float:
    """Until generation has passed `through` by an hour (on a busy machine it may lag the
    clock at this speed); seconds."""
    started = time.monotonic()
    while True:
        behind = get(f"{url}/api/simulation/state")["generation"]["behindSeconds"]
        now = from_iso(get(f"{url}/api/simulation/clock")["currentSimulationTime"])
        if now - timedelta(seconds=behind) > from_iso(through) + timedelta(hours=1):
            return time.monotonic() - started
        time.sleep(2)


def run(speed: float, history_days: int, folder: Path) -> None:
    with scratch_database() as database_url:
        env = {**os.environ, "DATABASE_URL": database_url, "SIM_SPEED": f"{speed:g}"}
        env.pop("ADMIN_TOKEN", None)
        marketsim("release", env=env)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "run", "--port", str(port)],
            cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_ready(url, server)
            laid_out = json.loads(marketsim("benchmark", "--url", url, env=env))
            start, end = laid_out["start"], laid_out["end"]
            took = wait_generated(url, end)
            print(f"benchmark {start} to {end}: generated at {speed:g}x in {took:.0f} s")
            history_start = iso(from_iso(start) - timedelta(days=history_days))
            marketsim("export", "--labels", str(folder), "--start", history_start,
                      "--end", iso(from_iso(end) + timedelta(hours=1)), "--url", url,
                      env=env)  # fmt: skip
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
    report(folder, start, end, laid_out)


def report(folder: Path, start: str, end: str, laid_out: dict) -> None:
    catalog = load_catalog(PROJECT_ROOT / "config")
    counts = [name for name, stream in catalog.streams.items() if stream.shape == "entity"]
    detections = [
        d
        for d in detect(folder, counts)
        if from_iso(start) <= from_iso(d["timestamp"]) < from_iso(end)
    ]
    found = folder / "detections.json"
    found.write_text(json.dumps(detections))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    scoring = ("score", str(found), "--labels", str(folder), "--start", start, "--end", end)
    print(marketsim(*scoring, env=env))
    truth = read_ground_truth(folder)
    by_cause = {a["id"]: a for a in laid_out["anomalies"]}
    for window in truth["windows"]:
        anomaly = by_cause.get(window["source"]["id"])
        if anomaly is None:
            continue
        hit = any(
            d["stream"] == window["stream"]
            and from_iso(window["start"]) <= from_iso(d["timestamp"]) < from_iso(window["end"])
            for d in detections
        )
        print(
            f"{window['kind']:<11} {window['stream']:<32} {window['start']} to {window['end']} "
            f"ratio {window['expected']['ratio']:<7} sigma {window['sigma']:<8} "
            f"{window['detectability']:<8} {'found' if hit else 'missed'}"
            f"{'' if window['named'] else ' (downstream)'}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--speed", type=float, default=600.0)
    parser.add_argument("--history-days", type=int, default=14)
    parser.add_argument("--keep", metavar="DIR", help="write the export here (default: a temp dir)")
    args = parser.parse_args()
    if args.keep:
        run(args.speed, args.history_days, Path(args.keep))
        return
    with tempfile.TemporaryDirectory() as folder:
        run(args.speed, args.history_days, Path(folder))


if __name__ == "__main__":
    main()
