"""The scheduler killed (`kill -9`) in the middle of a scenario and started again: the new
process folds the log and carries on. The scenario's lifecycle goes on to settling and settled,
each transition recorded once; no stream event is generated twice; simulated time has no gap.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from app.domain.timerange import from_iso
from tests.faults.harness import (
    LogReader,
    Processes,
    assert_contiguous,
    post_json,
    start_generating,
    wait_for,
)

SPEED = 500.0
"""Simulated seconds per wall second: the payment outage's 3 h are 21.6 s, its 2 h of settling
14.4 s. Long enough to kill the scheduler while the run is active on a busy machine, short
enough for the suite's time budget."""
SCENARIO = "payment-outage"
ACTIVE = timedelta(hours=3)
TAKEOVER_BOUND = 30.0
"""Seconds from the kill to the new process's first tick; measured 4-6 s (process start,
baseline load, restore from the log)."""


def transitions(log: LogReader, run_id: int) -> list[dict]:
    return log.rows(
        "SELECT position, type, occurred_at, data FROM event_log "
        "WHERE kind = 'scenario' AND (position = %s OR correlation_id = %s) ORDER BY position",
        (run_id, run_id),
    )


def tagged(log: LogReader, run_id: int, after: int = 0) -> int:
    return log.value(
        "SELECT count(*) FROM event_log WHERE kind = 'stream' AND correlation_id = %s "
        "AND position > %s",
        (run_id, after),
    )


@pytest.mark.slow
def test_a_scheduler_killed_mid_scenario_resumes_its_lifecycle_and_generates_nothing_twice(
    seeded_store, seeded_database, fresh_baseline, processes: Processes
):
    log, first, web = start_generating(processes, seeded_database, fresh_baseline.end, SPEED)

    status, body = post_json(f"{web.url}/api/simulation/scenario", {"scenarioId": SCENARIO})
    assert status == 201, body
    run_id = body["scenario"]["runId"]
    wait_for(lambda: tagged(log, run_id), 30, "events of the scenario")

    first.kill()
    killed_at = log.head()
    before_kill = [t["type"] for t in transitions(log, run_id) if t["position"] <= killed_at]
    assert before_kill == ["scenario.activated"]  # killed while the run was active
    second = processes.scheduler(seeded_database, SPEED)
    takeover = wait_for(
        lambda: any(log.ticks_after(killed_at).values()), TAKEOVER_BOUND, "the new process"
    )
    wait_for(lambda: transitions(log, run_id)[-1]["type"] == "scenario.settled", 90, "settled")
    wait_for(lambda: all(log.ticks_after(killed_at).values()), 60, "every group after restart")
    second.stop()
    print(f"generating again {takeover:.1f} s after the kill")

    # The lifecycle: each transition once, at the moment the definition gives; those due
    # after the kill written by the new process.
    recorded = transitions(log, run_id)
    assert [t["type"] for t in recorded] == [
        "scenario.activated",
        "scenario.settling",
        "scenario.settled",
    ]
    activated, settling, settled = recorded
    assert settling["data"]["reason"] == "duration"
    assert settling["occurred_at"] == activated["occurred_at"] + ACTIVE
    assert settled["occurred_at"] == from_iso(settling["data"]["settledAt"])
    assert settling["position"] > killed_at and settled["position"] > killed_at
    injected = log.value(
        "SELECT count(*) FROM event_log WHERE kind = 'external' AND correlation_id = %s",
        (run_id,),
    )
    assert injected == 1  # the outage's stripe-rate-limiting, recorded with the activation
    assert tagged(log, run_id, after=killed_at) > 0  # its effect resumed under the new process

    # Simulated time: one chain per group from the baseline's end, across the kill.
    ticks = log.ticks()
    chains = assert_contiguous(ticks, fresh_baseline.end)
    for group, chain in chains.items():
        assert any(t["position"] < killed_at for t in chain), group
        assert any(t["position"] > killed_at for t in chain), group

    # Stream events: each written in a chunk's transaction, which its tick ends (so the killed
    # process left no part of a chunk); none twice; every cause in the log.
    events = log.stream_events()
    tick_of = {t["tx"]: t for t in ticks}
    assert all(e["tx"] in tick_of and e["position"] < tick_of[e["tx"]]["position"] for e in events)
    same = Counter((e["stream"], e["occurred_at"], e["causation_id"], e["data"]) for e in events)
    assert same.most_common(1)[0][1] == 1, same.most_common(3)
    effects = Counter((e["causation_id"], e["stream"]) for e in events if e["causation_id"])
    assert effects.most_common(1)[0][1] == 1, effects.most_common(3)
    assert log.dangling_causes() == []
