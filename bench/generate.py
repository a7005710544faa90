"""Live generation figures: events appended per second at maximum speed, the generator's own
pace without the log beside it, and the CPU share of one core that the scheduler uses at 1x.

    python -m bench.generate [--hours 24] [--seconds 120] [--start 2026-12-02T00:00:00Z]

Targets: >= 40,000 events/s appended over a full simulated day; < 5% of one core at 1x.

The simulated hours start at `--start` (a Wednesday by default), where the seeded baseline
ends, so every run generates the same events whatever the date (877,380 for that Wednesday;
how many a day holds depends on the day of the week and the season). The 1x figure runs on the
real clock.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from app.domain.catalog import load_catalog
from app.domain.generator import GROUPS
from app.domain.timerange import from_iso
from app.services import load_baseline
from app.settings import PROJECT_ROOT, Settings
from app.store import Store
from bench.scratch import scratch_database
from jobs.collector import collector_paused
from jobs.generate import CHUNK, LiveGeneration
from jobs.scheduler import Scheduler
from seeds.baseline import default_end, seed_baseline


def max_speed(store: Store, catalog, hours: int) -> tuple[int, float]:
    """Advance every group hour by hour (as fast ticks would) for `hours` simulated hours."""
    live = LiveGeneration(store, catalog, load_baseline(store, catalog), seed=3)
    start = live.generator.frontiers["high"]
    events = 0
    began = time.perf_counter()
    for hour in range(1, hours + 1):
        for group in GROUPS:
            events += live.advance(group, start + timedelta(hours=hour)).events
    return events, time.perf_counter() - began


def generation_alone(store: Store, catalog, hours: int) -> tuple[int, float]:
    """The same hours through the generator's rounds, chunk by chunk as `LiveGeneration`
    writes them, with positions counted as the log would give them instead of appended: how
    much of the appended pace is the generator's own work."""
    live = LiveGeneration(store, catalog, load_baseline(store, catalog), seed=3)
    generator = live.generator
    start = generator.frontiers["high"]
    position, events = store.log.last_position() + 1, 0
    began = time.perf_counter()
    with collector_paused():
        for hour in range(1, hours + 1):
            for group in GROUPS:
                target = start + timedelta(hours=hour)
                while generator.frontiers[group] < target:
                    until = min(target, generator.frontiers[group] + CHUNK[group])
                    drafts = generator.first_round(group, until)
                    while drafts:
                        generator.to_events(drafts)
                        generator.committed(drafts, position)
                        position += len(drafts)
                        events += len(drafts)
                        drafts = generator.next_round(group, until)
                    position += 1  # the chunk's tick
                    generator.advance(group, until)
    return events, time.perf_counter() - began


def cpu_at_1x(url: str, seconds: float) -> tuple[float, int]:
    """The scheduler in a thread at 1x: CPU seconds per wall second once it has caught up."""
    settings = Settings(database_url=url, config_dir=PROJECT_ROOT / "config", sim_speed=1.0)
    scheduler = Scheduler(settings, url, speed=1.0)
    stop = threading.Event()
    thread = threading.Thread(target=scheduler.run, args=(stop,), daemon=True)
    thread.start()
    while not scheduler.leading.is_set():
        time.sleep(0.2)
    while True:  # wait for the catch-up from the baseline's end to finish
        generation = scheduler.generation
        if generation and min(generation.generator.frontiers.values()) > datetime.now(UTC) - (
            timedelta(hours=1)
        ):
            break
        time.sleep(1)
    store = Store.connect(url)
    before_events = store.log.last_position()
    cpu, wall = time.process_time(), time.perf_counter()
    time.sleep(seconds)
    share = (time.process_time() - cpu) / (time.perf_counter() - wall)
    events = store.log.last_position() - before_events
    stop.set()
    thread.join(timeout=60)
    store.close()
    return share, events


START = "2026-12-02T00:00:00Z"
"""Where the simulated hours start by default: a Wednesday's midnight."""


@contextmanager
def seeded_scratch(catalog, end: datetime | None = None) -> Iterator[tuple[str, Store]]:
    """A scratch database holding the default baseline ending at `end` (by default the last
    12-hour boundary), and a store on it."""
    config_dir = PROJECT_ROOT / "config"
    with scratch_database() as url:
        store = Store.connect(url)
        try:
            seed_baseline(store.baselines, catalog, config_dir, seed=3, end=end or default_end())
            yield url, store
        finally:
            store.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hours", type=int, default=24, help="simulated hours at maximum speed")
    parser.add_argument("--seconds", type=float, default=120, help="wall seconds at 1x")
    parser.add_argument("--start", default=START, help="where the simulated hours start")
    args = parser.parse_args()
    catalog = load_catalog(PROJECT_ROOT / "config")
    start = from_iso(args.start)
    with seeded_scratch(catalog, start) as (_, store):
        events, elapsed = max_speed(store, catalog, args.hours)
    print(
        f"maximum speed: {events:,} events in {elapsed:.1f} s = {events / elapsed:,.0f} events/s"
        f" appended ({args.hours} simulated hours from {args.start};"
        " target >= 40,000/s over 24)"
    )
    with seeded_scratch(catalog, start) as (_, store):
        events, elapsed = generation_alone(store, catalog, args.hours)
    print(
        f"generation alone: {events:,} events in {elapsed:.1f} s = {events / elapsed:,.0f}"
        " events/s (the same hours, nothing appended)"
    )
    with seeded_scratch(catalog) as (url, _):
        share, events = cpu_at_1x(url, args.seconds)
    print(
        f"1x: {share:.1%} of one core over {args.seconds:.0f} s ({events:,} rows appended,"
        f" {events / args.seconds:.1f}/s; target < 5%)"
    )


if __name__ == "__main__":
    main()
