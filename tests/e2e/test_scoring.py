"""A detector scored against the ground truth the way a user would do it: the web process as
deployed over the default seed's reference baseline, `marketsim export --labels`, a simple
detector of the user's own (tests/e2e/detector.py), then `marketsim score`, against the
export and against the service."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from app.domain.catalog import load_catalog
from app.settings import DEFAULT_SEED, PROJECT_ROOT
from tests.e2e.detector import detect
from tests.e2e.processes import start_gunicorn

START, END = "2026-10-26T00:00:00Z", "2026-11-25T00:00:00Z"
"""The reference baseline of seeds/data: the default seed, ending 2026-11-25."""


def marketsim(*args: str, database_url: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "ADMIN_TOKEN")}
    if database_url:
        env["DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        capture_output=True, text=True, timeout=300, cwd=PROJECT_ROOT, env=env,
    )  # fmt: skip


@pytest.fixture(scope="module")
def service(postgres_server, tmp_path_factory):
    url = postgres_server.create_database()
    seeded = marketsim("seed", "--seed", str(DEFAULT_SEED), "--end", END, database_url=url)
    assert seeded.returncode == 0, seeded.stderr
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    process, port = start_gunicorn(url, workers=1, log=log)
    yield f"http://127.0.0.1:{port}"
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    postgres_server.drop_database(url)


@pytest.mark.slow
def test_a_simple_detector_finds_the_clear_windows_and_raises_few_false_alarms(service, tmp_path):
    labels = tmp_path / "labels"
    exported = marketsim("export", "--labels", str(labels), "--start", START, "--end", END,
                         "--url", service)  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    catalog = load_catalog(PROJECT_ROOT / "config")
    counts = [name for name, s in catalog.streams.items() if s.shape == "entity"]
    detections = tmp_path / "detections.json"
    detections.write_text(json.dumps(detect(labels, counts)))

    offline = marketsim("score", str(detections), "--labels", str(labels), "--json")
    online = marketsim("score", str(detections), "--start", START, "--end", END, "--json",
                       "--url", service)  # fmt: skip
    shown = marketsim("score", str(detections), "--labels", str(labels))

    assert offline.returncode == 0, offline.stderr
    report = json.loads(offline.stdout)
    assert json.loads(online.stdout) == report, "one scorer, with or without the service"
    print(shown.stdout)
    assert report["windows"]["clear"]["count"] >= 40
    assert report["windows"]["clear"]["recall"] >= 0.8
    alarms = report["falseAlarms"]
    assert alarms["rate"] <= 0.005
    for stream, row in alarms["byStream"].items():
        assert row["rate"] <= 0.02, (stream, row)
    herrings = report["redHerrings"]
    assert herrings["flaggedShare"] <= 2 * herrings["baseRate"] or herrings["flagged"] <= 1
    assert report["precision"] >= 0.9


def test_an_export_holds_every_series_and_the_windows_in_nabs_shapes(service, tmp_path):
    labels = tmp_path / "labels"
    span = ("--start", START, "--end", "2026-10-29T00:00:00Z")
    exported = marketsim(
        "export", "--labels", str(labels), *span, "--streams", "customer.*", "--url", service
    )

    assert exported.returncode == 0, exported.stderr
    series = sorted(p.name for p in (labels / "data").glob("*.csv"))
    assert series and all(name.startswith("customer.") for name in series)
    rows = (labels / "data" / "customer.app.opened.csv").read_text().splitlines()
    assert rows[0] == "timestamp,value" and len(rows) == 1 + 72
    assert rows[1].startswith("2026-10-26 00:00:00,")
    combined = json.loads((labels / "combined_windows.json").read_text())
    assert set(combined) == {f"data/{name}" for name in series}
    start, end = combined["data/customer.app.opened.csv"][0]
    assert start.endswith(".000000") and start < end
    truth = json.loads((labels / "ground_truth.json").read_text())
    assert truth["streams"] == [name[:-4] for name in series]
    assert {w["stream"] for w in truth["windows"]} <= set(truth["streams"])
    assert json.loads((labels / "deliveries.json").read_text()) == []  # no fault on record


@pytest.mark.slow
def test_the_detector_benchmark_runs_on_an_export_and_prints_its_figures(service, tmp_path):
    """bench.detectors' smoke run (it needs an export, which needs the service: hence here
    rather than in tests/bench)."""
    labels = tmp_path / "labels"
    span = ("--start", START, "--end", "2026-10-29T00:00:00Z")
    exported = marketsim(
        "export", "--labels", str(labels), *span, "--streams", "customer.*", "--url", service
    )
    assert exported.returncode == 0, exported.stderr

    ran = subprocess.run(
        [sys.executable, "-m", "bench.detectors", str(labels)],
        capture_output=True, text=True, timeout=300, cwd=PROJECT_ROOT,
    )  # fmt: skip

    assert ran.returncode == 0, ran.stderr[-3000:]
    assert "causal windows" in ran.stdout and "clearRecallMedian" in ran.stdout
