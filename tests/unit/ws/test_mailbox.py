"""A client's mailbox: the hub never waits on it, and a client that falls behind overflows."""

from __future__ import annotations

import threading
import time

from app.ws.mailbox import Batch, Mailbox
from app.ws.protocol import WireEvent


def batch(*positions: int) -> Batch:
    events = tuple(WireEvent(p, 1, "stream", "a", "a", False, "{}") for p in positions)
    return Batch(events, positions[-1])


def test_batches_and_messages_are_taken_together_in_order():
    box = Mailbox(limit=10)
    box.offer(batch(1, 2))
    box.post('{"type": "ping"}')
    box.offer(batch(3))
    got = box.wait(0)
    assert [b.through for b in got.batches] == [2, 3]
    assert got.messages == ['{"type": "ping"}']
    assert not got.overflowed and not got.closed
    assert box.wait(0).batches == []


def test_more_events_than_the_limit_overflow_the_mailbox_and_free_them():
    box = Mailbox(limit=3)
    box.offer(batch(1, 2))
    box.offer(batch(3, 4))
    assert box.overflowed
    assert box.waiting_events == 0
    box.offer(batch(5))  # ignored from now on
    got = box.wait(0)
    assert got.overflowed and got.batches == []


def test_the_limit_counts_only_what_waits():
    box = Mailbox(limit=3)
    box.offer(batch(1, 2))
    box.wait(0)
    box.offer(batch(3, 4))
    assert not box.overflowed


def test_a_flood_of_client_messages_is_capped_and_counted():
    box = Mailbox(limit=10, message_limit=2)
    for _ in range(5):
        box.post("x")
    got = box.wait(0)
    assert got.messages == ["x", "x"]
    assert got.dropped_messages == 3


def test_wait_wakes_on_an_offer_and_returns_empty_on_timeout():
    box = Mailbox(limit=10)
    started = time.monotonic()
    assert box.wait(0.05).batches == []
    assert time.monotonic() - started >= 0.04
    threading.Timer(0.05, box.offer, args=(batch(1),)).start()
    assert [b.through for b in box.wait(5).batches] == [1]


def test_closing_wakes_the_waiting_handler():
    box = Mailbox(limit=10)
    threading.Timer(0.05, box.close).start()
    assert box.wait(5).closed
