"""The control-request limiter: a burst up to the limit, then one request per refill."""

from __future__ import annotations

from app.api.ratelimit import CallerBuckets


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_up_to_the_limit_passes_and_the_next_waits_for_a_refill():
    clock = FakeClock()
    limiter = CallerBuckets(per_minute=6, clock=clock)

    assert [limiter.take("a") for _ in range(6)] == [0.0] * 6
    assert limiter.take("a") == 10.0  # one request refills every 10 s


def test_time_refills_the_bucket_and_clients_count_apart():
    clock = FakeClock()
    limiter = CallerBuckets(per_minute=6, clock=clock)
    for _ in range(6):
        limiter.take("a")

    assert limiter.take("b") == 0.0
    clock.now += 10
    assert limiter.take("a") == 0.0
    assert limiter.take("a") > 0
