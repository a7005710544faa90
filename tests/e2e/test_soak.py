"""bench.soak's smoke run: release, the web process and the scheduler as deployed, a feed
client on `*`, for a few simulated hours; the properties the long run measures must hold.

A drop cannot happen this early: retention keeps every partition holding stream events of
the last 15 simulated days (the generator reads them back when it restarts), so the smoke run
checks what holds before the first drop; the long run (SIMULATOR.md, Retention) shows the
drops and the plateau."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from app.settings import PROJECT_ROOT


@pytest.mark.slow
def test_a_short_soak_loses_no_event_and_reports_the_log(postgres_server, tmp_path):
    env = {**os.environ, "BENCH_DATABASE_URL": postgres_server.admin_url}
    env.pop("DATABASE_URL", None)
    out = tmp_path / "soak.json"

    ran = subprocess.run(
        [sys.executable, "-m", "bench.soak", "--days", "0.1", "--sample-every", "2",
         "--max-bytes", "200MB", "--retention", "36h", "--json", str(out)],
        capture_output=True, text=True, timeout=300, cwd=PROJECT_ROOT, env=env,
    )  # fmt: skip

    assert ran.returncode == 0, ran.stderr[-3000:]
    assert "feed on *" in ran.stdout and "/metrics" in ran.stdout
    report = json.loads(out.read_text())
    samples = report["samples"]
    assert samples[-1]["day"] >= 0.1
    assert [s["head"] for s in samples] == sorted(s["head"] for s in samples)
    feed = report["feed"]
    assert report["feedDrained"]
    assert feed["events"] == feed["expected"] > 0
    assert (feed["missing"], feed["repeats"], feed["unexpected"]) == (0, 0, 0)
    assert feed["connections"] == 1 and feed["resumes"] == []
    assert report["drops"] == []
    assert report["resumeFromStart"] == {"recovered": True, "reason": None}
    log = report["stateLog"]
    assert log["retention"] == {"maxAgeSeconds": 36 * 3600.0, "maxBytes": 200_000_000}
    assert log["retainedFrom"] == 1 and log["bytes"] > 0 and log["rows"] > 0
    assert "marketsim_log_max_bytes 2e+08" in report["metrics"]
    assert "marketsim_log_retention_seconds 129600.0" in report["metrics"]
    assert all(s["scheduler_mb"] and s["web_mb"] for s in samples[1:])
