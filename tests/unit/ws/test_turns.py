"""Catch-up turns: one step at a time, after live work, resting to keep to their share."""

from __future__ import annotations

import threading

import pytest

from app.ws import turns
from app.ws.turns import CatchUpTurns


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_turn_waits_for_live_work_first_and_rests_for_its_share(monkeypatch):
    clock = FakeClock()
    waited: list[str] = []
    slept: list[float] = []
    monkeypatch.setattr(turns.time, "sleep", slept.append)
    catch_ups = CatchUpTurns(0.25, wait_for_idle=lambda: waited.append("idle"), clock=clock)

    with catch_ups.turn():
        assert waited == ["idle"]
        clock.now += 0.002

    assert slept == [pytest.approx(0.006)]  # 2 ms of work in 8 ms: a quarter


def test_with_the_whole_share_a_turn_does_not_rest(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(turns.time, "sleep", slept.append)
    catch_ups = CatchUpTurns(1.0, wait_for_idle=lambda: None)

    with catch_ups.turn():
        pass

    assert slept == []


def test_one_turn_at_a_time():
    catch_ups = CatchUpTurns(wait_for_idle=lambda: None)
    inside = threading.Event()
    leave = threading.Event()
    second_entered = threading.Event()

    def first() -> None:
        with catch_ups.turn():
            inside.set()
            leave.wait(5)

    def second() -> None:
        with catch_ups.turn():
            second_entered.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    inside.wait(5)
    threads[1].start()
    assert not second_entered.wait(0.1)
    leave.set()
    for thread in threads:
        thread.join(5)
    assert second_entered.is_set()


@pytest.mark.parametrize("share", [0.0, -0.5, 1.5])
def test_a_share_outside_zero_to_one_is_refused(share):
    with pytest.raises(ValueError, match="share"):
        CatchUpTurns(share, wait_for_idle=lambda: None)
