"""Per-client policies with no I/O: batching, the message rate limit, and the heartbeat.

Each takes the current time as an argument (seconds on a monotonic clock), so tests drive
them with plain numbers.
"""

from __future__ import annotations

import math


class Batcher:
    """When live events go out: at once when no partial frame was sent in the last `window`
    seconds, else together when the window since that send ends.

    A fixed window alone would make every event wait up to a window; flushing the first event
    at once and coalescing only what follows keeps a quiet feed immediate and a busy one at
    one frame per window.

    Full frames (a burst read a page at a time, such as a generator's chunk of thousands of
    events) go out as they fill and do not open a window: coalescing has nothing to gain
    from them, and the burst's last, partial page would otherwise wait a whole window behind
    the full ones.

    Events may go up to `slack` (a share of the window) before the window ends. A source that
    ticks at the window's own rate (a high-frequency group every 100 ms) otherwise lands just
    before each window's end now and then, waits for it, and from there on every tick waits a
    little: its latency creeps up towards a whole window and stays there.
    """

    def __init__(self, window: float, slack: float = 0.1) -> None:
        self.window = window
        self.slack = slack * window
        self._last_flush = -math.inf

    def ready(self, now: float) -> bool:
        """Whether pending events may be sent now."""
        return now >= self.due_at()

    def due_at(self) -> float:
        """The earliest time pending events may be sent."""
        return self._last_flush + self.window - self.slack

    def flushed(self, now: float, *, full: bool = False) -> None:
        """Events went out at `now`: in full frames only (`full`), or with a partial one,
        which opens a window."""
        if not full:
            self._last_flush = now


class MessageBucket:
    """A token bucket: `rate` messages a second on average, bursts of up to `burst`."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._updated: float | None = None

    def allow(self, now: float) -> bool:
        """Take a token if there is one; False means the message is over the limit."""
        if self._updated is not None:
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False


class Heartbeat:
    """The server's side of the heartbeat for one connection.

    - a `ping` goes out every `ping_interval` seconds;
    - the client answers with a `pong` within `pong_timeout` seconds, or it is dropped: a pong
      is the only proof that the client still reads what it is sent;
    - a connection from which nothing at all has arrived for `stale_timeout` seconds is
      dropped, whatever the pings (a safety net when pings cannot go out, e.g. a send that is
      stuck, and the rule that applies when pings are turned off with `ping_interval=None`);
    - neither clock runs while the server is busy sending the client a catch-up.
    """

    PONG_TIMEOUT = "pong_timeout"
    STALE = "stale"

    def __init__(
        self,
        now: float,
        *,
        ping_interval: float | None,
        pong_timeout: float,
        stale_timeout: float,
    ) -> None:
        self.ping_interval = ping_interval
        self.pong_timeout = pong_timeout
        self.stale_timeout = stale_timeout
        self.last_received = now
        self.awaiting_pong_since: float | None = None
        self._next_ping = now + ping_interval if ping_interval else math.inf

    def received(self, now: float) -> None:
        """Anything arrived from the client."""
        self.last_received = now

    def ponged(self, now: float) -> None:
        self.last_received = now
        self.awaiting_pong_since = None

    def stood_still(self, seconds: float) -> None:
        """The handler spent `seconds` sending the client a catch-up, reading none of its
        messages and pinging it not: that time is not the client's silence, so the stale and
        pong clocks do not count it (a client that stops reading meanwhile is caught by the
        send timeout instead)."""
        self.last_received += seconds
        if self.awaiting_pong_since is not None:
            self.awaiting_pong_since += seconds

    def ping_due(self, now: float) -> bool:
        return now >= self._next_ping

    def pinged(self, now: float) -> None:
        if self.awaiting_pong_since is None:
            self.awaiting_pong_since = now
        self._next_ping = now + self.ping_interval if self.ping_interval else math.inf

    def verdict(self, now: float) -> str | None:
        """Why the connection must be dropped now, or None while it is healthy."""
        if (
            self.awaiting_pong_since is not None
            and now >= self.awaiting_pong_since + self.pong_timeout
        ):
            return self.PONG_TIMEOUT
        if now >= self.last_received + self.stale_timeout:
            return self.STALE
        return None

    def next_deadline(self) -> float:
        """The next time something may change: a ping to send or a limit to enforce."""
        deadlines = [self._next_ping, self.last_received + self.stale_timeout]
        if self.awaiting_pong_since is not None:
            deadlines.append(self.awaiting_pong_since + self.pong_timeout)
        return min(deadlines)
