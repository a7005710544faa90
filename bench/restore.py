"""The generator's restart: how long a restore from the log takes and how much memory it
needs once the log holds `--days` simulated days of live generation (the longest cause window
is 15 days, so from about 16 days on a restore reads back as much as it ever will).

    python -m bench.restore [--days 16] [--database URL]

`--database` reuses a database this benchmark filled before (it is then kept); without it a
scratch database is filled and dropped. The restore runs in a child process, so its peak RSS
is the restore's own. Target: a restart fits the memory of a small hosted instance (1 GB).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from contextlib import nullcontext
from datetime import timedelta

from app.domain.catalog import load_catalog
from app.domain.generator import GROUPS
from app.services import load_baseline
from app.settings import PROJECT_ROOT
from app.store import Store
from bench.scratch import scratch_database
from jobs.generate import LiveGeneration
from seeds.baseline import default_end, seed_baseline

SEED = 3


def fill(url: str, days: float) -> None:
    """Seed the baseline and generate `days` simulated days live, an hour at a time."""
    config_dir = PROJECT_ROOT / "config"
    catalog = load_catalog(config_dir)
    store = Store.connect(url)
    if store.log.last_position() > 0:
        store.close()
        return
    seed_baseline(store.baselines, catalog, config_dir, seed=SEED, end=default_end())
    live = LiveGeneration(store, catalog, load_baseline(store, catalog), seed=SEED)
    start = live.generator.frontiers["high"]
    began = time.perf_counter()
    for hour in range(1, round(days * 24) + 1):
        for group in GROUPS:
            live.advance(group, start + timedelta(hours=hour))
        if hour % 24 == 0:
            rows = store.log.last_position()
            print(f"  day {hour // 24}: {rows:,} rows, {time.perf_counter() - began:.0f} s")
    store.close()


def restore_once(url: str) -> dict:
    """One restore in this process: wall seconds, effects pending, peak RSS."""
    config_dir = PROJECT_ROOT / "config"
    catalog = load_catalog(config_dir)
    store = Store.connect(url)
    baseline = load_baseline(store, catalog)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    began = time.perf_counter()
    live = LiveGeneration(store, catalog, baseline, seed=SEED)
    seconds = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    store.close()
    return {
        "seconds": round(seconds, 1),
        "pending": live.generator.pending_count(),
        "peak_rss_mb": round(peak / 1024),
        "rss_before_restore_mb": round(before / 1024),
        "read_back_days": live.read_back_days(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=float, default=16, help="simulated days generated live")
    parser.add_argument("--database", help="a database to fill once and keep")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(restore_once(args.database)))
        return
    place = nullcontext(args.database) if args.database else scratch_database()
    with place as url:
        fill(url, args.days)
        store = Store.connect(url)
        rows = store.log.last_position()
        store.close()
        child = [sys.executable, "-m", "bench.restore", "--child", "--database", url]
        result = json.loads(subprocess.run(child, check=True, capture_output=True).stdout)
    print(
        f"restore after {args.days} simulated days ({rows:,} rows in the log, reading back"
        f" {result['read_back_days']} days): {result['seconds']} s, {result['pending']:,}"
        f" effects pending, peak RSS {result['peak_rss_mb']:,} MB"
        f" ({result['rss_before_restore_mb']:,} MB before the restore; target <= 1,024 MB)"
    )


if __name__ == "__main__":
    main()
