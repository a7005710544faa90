"""A per-client limit on control requests (every method that changes something).

A token bucket per caller (`key`: the admin token's holder, a signed-in session, or a client
address): `limit` requests at once, refilled at `limit` a minute. It lives in the web process,
so with several workers each counts on its own. Reads are
never limited; a refused request is a 429 in the JSON error shape with `Retry-After`.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, request

from app.api.errors import ApiError

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_CLIENTS = 10_000
"""Buckets kept before the full ones (clients idle long enough to refill) are dropped."""


@dataclass
class _Bucket:
    tokens: float
    updated: float


class CallerBuckets:
    """Token buckets by key; `clock` is injectable so the arithmetic is testable."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.refill_per_second = per_minute / 60.0
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Spend one request for `key`: 0 when allowed, else the seconds until one is."""
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                self._forget_full(now)
                bucket = self._buckets[key] = _Bucket(self.capacity, now)
            bucket.tokens = min(
                self.capacity, bucket.tokens + (now - bucket.updated) * self.refill_per_second
            )
            bucket.updated = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / self.refill_per_second

    def _forget_full(self, now: float) -> None:
        if len(self._buckets) < MAX_CLIENTS:
            return
        refill_time = self.capacity / self.refill_per_second
        self._buckets = {
            key: bucket
            for key, bucket in self._buckets.items()
            if now - bucket.updated < refill_time
        }


def init_app(app: Flask, per_minute: int, key: Callable[[], str]) -> None:
    """Limit this app's mutating requests to `per_minute` per caller, as `key` names the
    caller of the request (0: no limit)."""
    if per_minute <= 0:
        return
    limiter = CallerBuckets(per_minute)

    @app.before_request
    def _limit() -> None:
        if request.method in SAFE_METHODS:
            return
        wait = limiter.take(key())
        if wait > 0:
            raise ApiError(
                429,
                "rate_limited",
                f"more than {per_minute} changes a minute from this client",
                f"retry after {math.ceil(wait)} s",
                headers={"Retry-After": str(math.ceil(wait))},
            )
