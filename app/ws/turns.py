"""Catch-ups take turns behind live delivery on a worker's one core.

Under gunicorn's gevent worker every client, the listener and every catch-up run on one OS
thread, and a greenlet keeps the core until it waits. A catch-up's work is mostly CPU
(decoding rows, encoding events, building frames of up to `page_size` events), and with a
few of them running, the listener woke up on a notification and each live client's handler
queued behind every catch-up's step: the fault test measured a live client's p99 at about a
second while five clients read a 600k-row log from position 1 (about 150 ms without them).

So a catch-up does its CPU work in small steps, each in a `CatchUpTurns.turn()`: one step at
a time in the process, under gevent only once the event loop has nothing else to run
(`gevent.idle`), so that a notification, a batch to hand out or a frame due to a live client
always goes first, and followed by a rest that keeps catch-ups to `share` of the time
(`FeedOptions.catchup_share`). Waits for the database or the client's socket happen outside
a turn, so a catch-up blocked on either holds up no other. Without gevent (the threaded dev
server, the tests) a turn is the same lock with a plain yield.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

STEP_EVENTS = 100
"""Rows a catch-up decodes and encodes in one turn: a millisecond or two of CPU."""


def _idle_wait() -> Callable[[], None]:
    """`gevent.idle` when gevent has patched threading (this process's greenlets share one
    core), else a plain yield of the OS thread."""
    try:
        from gevent import idle, monkey
    except ImportError:  # pragma: no cover - gevent is a dependency of the web process
        return _yield_thread
    return idle if monkey.is_module_patched("threading") else _yield_thread


def _yield_thread() -> None:
    time.sleep(0)


class CatchUpTurns:
    """The one turn at a time that catch-ups take for their CPU work, with at most `share` of
    the process's time spent in turns."""

    def __init__(
        self,
        share: float = 1.0,
        *,
        wait_for_idle: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if not 0 < share <= 1:
            raise ValueError(f"share must be in (0, 1], got {share!r}")
        self._rest = 1 / share - 1
        self._lock = threading.Lock()
        self._wait_for_idle = wait_for_idle or _idle_wait()
        self._clock = clock

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Hold the turn for one short step of CPU work, once live work has gone first; then
        keep it, resting, for as long again times `1/share - 1`.

        The rest frees the core, not only for live work in this process: with idle priority
        alone, catch-ups keep the worker at 100% of a core, and on a machine whose cores the
        database and the generator share, the listener's wake-ups and reads wait for the OS.
        """
        with self._lock:
            self._wait_for_idle()
            started = self._clock()
            try:
                yield
            finally:
                if self._rest:
                    time.sleep((self._clock() - started) * self._rest)
