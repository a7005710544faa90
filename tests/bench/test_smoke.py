"""Every benchmark runs, in a small size, so that none can rot between the runs that measure:
it must finish and print its figures. (The figures of a smoke run mean nothing.)"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from app.settings import PROJECT_ROOT

SMALL = {
    "append": ["--scale", "0.02"],
    "baseline": ["--repeats", "5"],
    "feed_latency": ["--start", "run", "--seconds", "3"],
    "generate": ["--hours", "1", "--seconds", "5"],
    "restore": ["--days", "0.25"],
    "scenarios": ["--activations", "10"],
    "ws_load": ["--clients", "5", "--seconds", "3", "--client-processes", "1"],
}


@pytest.mark.slow
@pytest.mark.parametrize("bench", sorted(SMALL))
def test_the_benchmark_runs_and_prints_its_figures(bench, postgres_server):
    env = {**os.environ, "BENCH_DATABASE_URL": postgres_server.admin_url}
    env.pop("DATABASE_URL", None)

    ran = subprocess.run(
        [sys.executable, "-m", f"bench.{bench}", *SMALL[bench]],
        capture_output=True, text=True, timeout=600, cwd=PROJECT_ROOT, env=env,
    )  # fmt: skip

    assert ran.returncode == 0, ran.stderr[-3000:]
    assert any(ch.isdigit() for ch in ran.stdout), ran.stdout


def test_feed_latency_counts_each_event_from_the_first_notification_that_covers_it():
    from bench.feed_latency import latencies

    notified = [(10, 1.000), (25, 1.050), (20, 1.040)]  # (last position of an append, when)
    frames = [([9, 10], 1.020), ([11, 20], 1.100), ([21, 25], 1.100)]

    per_event, per_frame = latencies(notified, frames)

    assert [round(ms) for ms in per_event] == [20, 20, 60, 60, 50, 50]
    assert [round(ms) for ms in per_frame] == [20, 60, 50]
