"""Two `marketsim scheduler` processes on one database: one leads, the other takes over
within seconds of a kill -9, and nothing is generated twice or skipped."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from app.domain.generator import TICK_TYPE

LEADER_LINE = "scheduler: leader"


def start_scheduler(url: str, log: Path) -> subprocess.Popen:
    env = os.environ | {"DATABASE_URL": url, "SIM_SPEED": "600"}
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "app.cli", "scheduler"], env=env, stdout=out, stderr=out
        )


def wait_for(predicate, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout} s")


def ticks_per_group(store) -> Counter:
    ticks = store.log.read_after(0, types=[TICK_TYPE], limit=1_000_000)
    return Counter(t.data["group"] for t in ticks)


def all_groups_moved_on(store, before: Counter) -> bool:
    """Every cadence group has written a tick since `before` (the new leader generates all)."""
    now = ticks_per_group(store)
    return all(now[group] > before[group] for group in ("high", "medium", "low"))


def leads(log: Path) -> bool:
    return LEADER_LINE in log.read_text()


@pytest.mark.slow
def test_the_standby_takes_over_within_seconds_and_nothing_is_generated_twice(
    seeded_store, seeded_database, tmp_path
):
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    processes = [start_scheduler(seeded_database, log) for log in logs]
    try:
        wait_for(lambda: any(leads(log) for log in logs), timeout=30)
        leader = 0 if leads(logs[0]) else 1
        standby = 1 - leader
        wait_for(lambda: seeded_store.log.read_after(0, types=[TICK_TYPE]), timeout=30)
        assert not leads(logs[standby])

        processes[leader].send_signal(signal.SIGKILL)
        processes[leader].wait(timeout=10)
        takeover = wait_for(lambda: leads(logs[standby]), timeout=15)
        before = ticks_per_group(seeded_store)
        wait_for(lambda: all_groups_moved_on(seeded_store, before), timeout=120)
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)

    assert takeover < 10
    events = seeded_store.log.read_after(0, limit=10_000_000)
    ticks = [e for e in events if e.type == TICK_TYPE]
    for group in ("high", "medium", "low"):
        chain = [t for t in ticks if t.data["group"] == group]
        assert chain, group
        for before_tick, after_tick in itertools.pairwise(chain):
            assert after_tick.data["from"] == before_tick.data["until"], group
    effects = Counter((e.causation_id, e.stream) for e in events if e.causation_id)
    assert max(effects.values()) == 1
