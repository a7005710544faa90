"""Baseline figures: generate + write, load at start, and history queries.

    python -m bench.baseline          # embedded Postgres, or BENCH_DATABASE_URL's server

Targets: generate + write < 3 s; load at start < 0.3 s; the 7-day all-stream history
p95 < 50 ms and the 30-day one p95 < 150 ms (each through the HTTP handler, JSON included).
"""

from __future__ import annotations

import argparse
import statistics
import time

from app.domain.catalog import load_catalog
from app.services import load_baseline
from app.settings import PROJECT_ROOT, Settings
from app.store import Store
from app.web import create_app
from bench.scratch import scratch_database
from seeds.baseline import default_end, seed_baseline

REPEATS = 40


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def time_queries(client, path: str, repeats: int = REPEATS) -> list[float]:
    client.get(path)  # warm up
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        response = client.get(path)
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200, response.json
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.baseline")
    parser.add_argument("--repeats", type=int, default=REPEATS, help="queries timed (CI: 5)")
    repeats = parser.parse_args().repeats
    config_dir = PROJECT_ROOT / "config"
    catalog = load_catalog(config_dir)
    with scratch_database() as url:
        store = Store.connect(url)
        try:
            started = time.perf_counter()
            outcome = seed_baseline(
                store.baselines, catalog, config_dir, seed=20261125, end=default_end()
            )
            seeded = time.perf_counter() - started
            loads = []
            for _ in range(5):
                started = time.perf_counter()
                load_baseline(store, catalog)
                loads.append(time.perf_counter() - started)
            client = create_app(Settings(database_url=url), store=store).test_client()
            week = time_queries(client, "/api/simulation/history", repeats)
            month = time_queries(client, "/api/simulation/history?range=past 30 days", repeats)
        finally:
            store.close()

    print(
        f"generate + write baseline   {seeded:7.2f} s  (generate {outcome.generate_seconds:.2f} s,"
        f" write {outcome.write_seconds:.2f} s; target < 3 s)"
    )
    print(f"load at start (median of 5)  {statistics.median(loads):7.3f} s  (target < 0.3 s)")
    print(
        f"history 7 days, all streams  p50 {statistics.median(week) * 1000:6.1f} ms"
        f"  p95 {p95(week) * 1000:6.1f} ms  (target p95 < 50 ms)"
    )
    print(
        f"history 30 days, all streams p50 {statistics.median(month) * 1000:6.1f} ms"
        f"  p95 {p95(month) * 1000:6.1f} ms  (target p95 < 150 ms)"
    )


if __name__ == "__main__":
    main()
