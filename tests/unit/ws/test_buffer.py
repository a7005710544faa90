"""The rolling buffer: the last seconds of the log, and the latest events of each stream."""

from __future__ import annotations

from app.ws.buffer import RollingBuffer
from app.ws.protocol import WireEvent


def event(
    position: int,
    stream: str | None = "a",
    *,
    epoch: int = 1,
    anomalous: bool = False,
    kind: str = "stream",
    type_: str | None = None,
) -> WireEvent:
    return WireEvent(position, epoch, kind, type_ or stream or kind, stream, anomalous, "{}")


def positions(events) -> list[int]:
    return [e.position for e in events]


def test_a_resume_within_the_window_is_served_from_memory():
    buffer = RollingBuffer(window=60, per_stream=10)
    buffer.seed(position=100, epoch=1, epoch_start=0, latest=[], anomalies=[])
    buffer.add([event(101), event(102), event(104)], 105, now=0.0)
    assert buffer.covers(100) and buffer.covers(105)
    assert not buffer.covers(99)
    assert not buffer.covers(106)
    assert positions(buffer.after(101)) == [102, 104]
    assert buffer.after(105) == []


def test_events_older_than_the_window_are_forgotten_and_the_floor_rises():
    buffer = RollingBuffer(window=60, per_stream=10)
    buffer.seed(position=0, epoch=1, epoch_start=0, latest=[], anomalies=[])
    buffer.add([event(1), event(2)], 2, now=0.0)
    buffer.add([event(3)], 3, now=30.0)
    buffer.evict(now=61.0)
    assert buffer.floor == 2
    assert not buffer.covers(1)
    assert positions(buffer.after(2)) == [3]
    buffer.evict(now=200.0)
    assert buffer.held == 0
    assert buffer.covers(3) and buffer.after(3) == []


def test_at_a_fast_clock_the_buffer_holds_no_more_than_its_bound_and_says_so():
    """A minute at 600x is hundreds of thousands of events: the oldest go, the floor rises,
    and a resume from before it reads the log instead."""
    buffer = RollingBuffer(window=60, per_stream=10, max_events=1_000)
    buffer.seed(position=0, epoch=1, epoch_start=0, latest=[], anomalies=[])
    buffer.add([event(p) for p in range(1, 5_001)], 5_000, now=0.0)

    assert buffer.held == 1_000
    assert buffer.floor == 4_000
    assert not buffer.covers(3_999)
    assert positions(buffer.after(4_000)) == list(range(4_001, 5_001))


def test_the_latest_events_of_each_stream_stay_whatever_their_age():
    buffer = RollingBuffer(window=1, per_stream=2)
    buffer.seed(position=0, epoch=1, epoch_start=0, latest=[], anomalies=[])
    buffer.add([event(1, "a"), event(2, "b"), event(3, "a"), event(4, "a")], 4, now=0.0)
    buffer.evict(now=100.0)
    assert positions(buffer.snapshot(["a", "b"], anomalies=False)) == [2, 3, 4]
    assert positions(buffer.snapshot(["b"], anomalies=False)) == [2]


def test_the_snapshot_adds_the_latest_anomalies_once_each():
    buffer = RollingBuffer(window=60, per_stream=10)
    buffer.seed(position=0, epoch=1, epoch_start=0, latest=[], anomalies=[])
    buffer.add(
        [event(1, "a", anomalous=True), event(2, "b", anomalous=True), event(3, "b")], 3, now=0.0
    )
    assert positions(buffer.snapshot([], anomalies=True)) == [1, 2]
    assert positions(buffer.snapshot(["a"], anomalies=True)) == [1, 2]


def test_a_reset_opens_an_epoch_whose_snapshot_starts_empty():
    buffer = RollingBuffer(window=60, per_stream=10)
    buffer.seed(position=0, epoch=1, epoch_start=0, latest=[], anomalies=[])
    buffer.add([event(1, "a", anomalous=True)], 1, now=0.0)
    reset = event(2, None, epoch=2, kind="control", type_="control.reset")
    buffer.add([reset, event(3, "b", epoch=2)], 3, now=0.0)
    assert (buffer.epoch, buffer.epoch_start) == (2, 2)
    assert positions(buffer.snapshot(["a", "b"], anomalies=True)) == [3]
    assert positions(buffer.after(0)) == [1, 2, 3]  # the window still spans both epochs


def test_seeding_keeps_the_latest_events_in_position_order():
    buffer = RollingBuffer(window=60, per_stream=2)
    buffer.seed(
        position=50,
        epoch=3,
        epoch_start=40,
        latest=[event(45, "a"), event(41, "a"), event(44, "a")],
        anomalies=[event(44, "a", anomalous=True)],
    )
    assert (buffer.floor, buffer.newest, buffer.epoch, buffer.epoch_start) == (50, 50, 3, 40)
    assert positions(buffer.snapshot(["a"], anomalies=True)) == [44, 45]
