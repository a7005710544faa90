"""The rolling buffer: what a web process keeps of the log in memory, whether or not a client
is connected.

- Every event of the last `window` seconds (by the time the process read it), but never more
  than `max_events` (at 600x a minute is hundreds of thousands of events: a small instance
  would run out of memory), in position order: a client that reconnects within that window
  resumes from memory, an older resume reads the log. The buffer knows the position below
  which it holds nothing (`floor`), so it never claims a resume it cannot serve.
- The latest `per_stream` events of each stream in the current epoch, however old, and the
  latest flagged events (the `anomalies` topic): snapshots come from here.

A `control.reset` (an event of a newer epoch) empties the per-stream part: the snapshot of a
new epoch starts empty. Pure: no I/O, no locks (the hub holds its lock around every call).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence

from app.ws.protocol import WireEvent


class RollingBuffer:
    def __init__(self, *, window: float, per_stream: int, max_events: int = 50_000) -> None:
        self.window = window
        self.per_stream = per_stream
        self.max_events = max_events
        self.floor = 0
        """Every event with `floor < position <= newest` is held in memory."""
        self.newest = 0
        """The highest log position read (events may be fewer: gaps are rolled-back appends)."""
        self.epoch = 1
        self.epoch_start = 0
        """The position of the `control.reset` that opened `epoch` (0 for the first epoch)."""
        self._recent: deque[tuple[float, WireEvent]] = deque()
        self._latest: dict[str, deque[WireEvent]] = {}
        self._anomalies: deque[WireEvent] = deque(maxlen=per_stream)

    def seed(
        self,
        *,
        position: int,
        epoch: int,
        epoch_start: int,
        latest: Iterable[WireEvent],
        anomalies: Iterable[WireEvent],
    ) -> None:
        """Start from the log's head as read at start: nothing recent yet, the latest events
        of each stream for snapshots."""
        self.floor = self.newest = position
        self.epoch = epoch
        self.epoch_start = epoch_start
        self._recent.clear()
        self._latest.clear()
        self._anomalies.clear()
        for event in sorted(latest, key=lambda e: e.position):
            self._remember_latest(event)
        for event in sorted(anomalies, key=lambda e: e.position):
            self._anomalies.append(event)

    def add(self, events: Sequence[WireEvent], through: int, now: float) -> None:
        """Events read after `newest`, in position order; `through` is the highest position
        the read covered (at least the last event's)."""
        for event in events:
            if event.epoch > self.epoch:
                self._open_epoch(event)
            self._recent.append((now, event))
            if event.kind == "stream" and event.stream is not None:
                self._remember_latest(event)
                if event.anomalous:
                    self._anomalies.append(event)
        self.newest = max(self.newest, through)
        self.evict(now)

    def evict(self, now: float) -> None:
        """Forget what was read more than `window` seconds ago, and the oldest beyond
        `max_events`."""
        horizon = now - self.window
        while self._recent and (
            self._recent[0][0] < horizon or len(self._recent) > self.max_events
        ):
            _, event = self._recent.popleft()
            self.floor = event.position

    def covers(self, position: int) -> bool:
        """Whether every event after `position` (up to `newest`) is in memory."""
        return self.floor <= position <= self.newest

    def after(self, position: int) -> list[WireEvent]:
        """The held events with a position above `position`, oldest first (see `covers`)."""
        found = []
        for _, event in reversed(self._recent):
            if event.position <= position:
                break
            found.append(event)
        found.reverse()
        return found

    def snapshot(self, streams: Iterable[str], anomalies: bool) -> list[WireEvent]:
        """The latest events of `streams` in the current epoch (and the latest flagged events
        when `anomalies`), oldest first, each once."""
        chosen: dict[int, WireEvent] = {}
        for stream in streams:
            for event in self._latest.get(stream, ()):
                chosen[event.position] = event
        if anomalies:
            for event in self._anomalies:
                chosen[event.position] = event
        return [chosen[p] for p in sorted(chosen)]

    @property
    def held(self) -> int:
        """How many events the time window holds (for stats and memory checks)."""
        return len(self._recent)

    def _open_epoch(self, event: WireEvent) -> None:
        self.epoch = event.epoch
        self.epoch_start = event.position
        self._latest.clear()
        self._anomalies.clear()

    def _remember_latest(self, event: WireEvent) -> None:
        latest = self._latest.get(event.stream)
        if latest is None:
            latest = self._latest[event.stream] = deque(maxlen=self.per_stream)
        latest.append(event)
