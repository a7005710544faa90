"""The scheduler process: one leader runs the generation jobs, any others wait as standbys.

The leader holds the advisory lock (`app/store/leader.py`), restores the generator from the
log, and runs APScheduler 3 jobs: one per cadence group (its interval from
config/stream-cadences.json, with jitter), the scenarios' lifecycle (settling, settled,
scheduled external events coming due), the hourly rollup's catch-up and the log's retention
(`app/services/retention.py`: the next partition made, old stream events dropped). The generation
jobs share one worker thread, so the generator is never used by two at once; a job that finds
the previous run of its group still busy (catching up) is skipped. A new leader first catches
every group up to now together (`LiveGeneration.catch_up`), so that after downtime no group
runs hours ahead of another. When the lock's connection dies the leader stops its jobs and
becomes a standby; a standby retries every few seconds.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import TextIO

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from app.domain.catalog import Catalog, load_catalog
from app.domain.catchup import CatchUpReport, job_interval
from app.domain.generator import GROUPS
from app.domain.timerange import iso
from app.services import BaselineMissing, clock_of, load_baseline, set_speed
from app.services.retention import enforce_retention
from app.services.scenarios import advance_lifecycle
from app.settings import Settings
from app.store import Store
from app.store.leader import LOCK_KEY, LeaderLock
from jobs.generate import LiveGeneration

log = logging.getLogger(__name__)

STANDBY_RETRY = 2.0
LEASE_CHECK = 1.0
ROLLUP_EVERY = 2.0
LIFECYCLE_EVERY = 2.0
RETENTION_EVERY = 60.0
"""Seconds between retention runs (the next partition made, old ones dropped)."""


class _SkippedWhileBusy(logging.Filter):
    """Drops APScheduler's warning that a group's run was skipped because its previous run is
    still waiting for, or holding, the one generation thread. While a new leader catches up
    that happens every few seconds and is expected; whether generation keeps up shows in the
    `generated ... up to ...` lines and the ticks in the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances" not in record.getMessage()


SKIPPED_WHILE_BUSY = _SkippedWhileBusy()
SUMMARY_EVERY = 60.0


class CatchUpDisplay:
    """A catch-up's progress for whoever watches: on a terminal one line redrawn in place,
    elsewhere a log line every `every` seconds (a catch-up of hours takes tens of seconds)."""

    def __init__(self, stream: TextIO, every: float = 5.0, clock=time.monotonic) -> None:
        self.stream = stream
        self.terminal = getattr(stream, "isatty", lambda: False)()
        self.every = every
        self.clock = clock
        self.last: float | None = None
        self.drawn = False

    def report(self, progress: CatchUpReport) -> None:
        if self.terminal:
            self.stream.write("\r" + progress.line() + "\033[K")
            self.stream.flush()
            self.drawn = True
            return
        now = self.clock()
        if self.last is None or now - self.last >= self.every:
            self.last = now
            log.info(progress.line())

    def done(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()


class GenerationSummary:
    """What the generation jobs wrote, said once a minute: each job's own line (every 1-10 s)
    is at DEBUG, so that a terminal running `marketsim run` stays readable."""

    def __init__(self, every: float = SUMMARY_EVERY, clock=time.monotonic) -> None:
        self.every = every
        self.clock = clock
        self.since = clock()
        self.events: dict[str, int] = {}
        self.until: datetime | None = None

    def add(self, group: str, events: int, until: datetime) -> str | None:
        """Count a job's events; the summary line once `every` seconds have passed."""
        self.events[group] = self.events.get(group, 0) + events
        self.until = until if self.until is None else max(self.until, until)
        if self.clock() - self.since < self.every:
            return None
        counts = ", ".join(f"{g} {n}" for g, n in sorted(self.events.items()))
        line = (
            f"generated {sum(self.events.values())} events in the last "
            f"{self.clock() - self.since:.0f} s ({counts}), up to {iso(self.until)}"
        )
        self.since, self.events, self.until = self.clock(), {}, None
        return line


class Scheduler:
    def __init__(
        self,
        settings: Settings,
        database_url: str,
        *,
        standby_retry: float = STANDBY_RETRY,
        speed: float | None = None,
    ) -> None:
        self.settings = settings
        self.database_url = database_url
        self.standby_retry = standby_retry
        self.speed = speed
        self.lock = LeaderLock(database_url)
        self.leading = threading.Event()
        self.generation: LiveGeneration | None = None
        self.summary = GenerationSummary()
        self._jobs: BackgroundScheduler | None = None
        self._job_speed = 1.0
        """The clock's speed the groups' jobs are timed for (`catchup.job_interval`)."""

    def run(self, stop: threading.Event) -> None:
        """Lead or wait until `stop` is set."""
        while not stop.is_set():
            if self.lock.try_acquire():
                log.info(
                    "scheduler: leader (advisory lock %x held by process %d)",
                    LOCK_KEY,
                    os.getpid(),
                    extra=_leadership("acquired"),
                )
                try:
                    self._lead(stop)
                except BaselineMissing as exc:
                    log.warning("scheduler: %s; retrying", exc)
                    stop.wait(self.standby_retry)
                except Exception:
                    log.exception("scheduler: leadership ended by an error")
                finally:
                    self.leading.clear()
                    self.lock.release()
                    log.info(
                        "scheduler: no longer leader (process %d)",
                        os.getpid(),
                        extra=_leadership("lost"),
                    )
            else:
                stop.wait(self.standby_retry)

    def _lead(self, stop: threading.Event) -> None:
        store = Store.connect(self.database_url)
        try:
            catalog = load_catalog(self.settings.config_dir)
            baseline = load_baseline(store, catalog)
            self._apply_speed(store)
            self.generation = LiveGeneration(store, catalog, baseline, self.settings.sim_seed)
            jobs = self._start_jobs(store, catalog)
            self.leading.set()
            try:
                while not stop.is_set() and self.lock.still_held():
                    stop.wait(LEASE_CHECK)
            finally:
                self.generation.halt()
                jobs.shutdown(wait=True)
        finally:
            self.generation = None
            self._jobs = None
            store.close()

    def _apply_speed(self, store: Store) -> None:
        """SIM_SPEED (when given) sets the clock's speed as the leader starts."""
        if self.speed is None:
            return
        epoch = store.log.current_epoch()
        if clock_of(store, epoch).speed != self.speed:
            set_speed(store, self.speed)
            log.info("scheduler: clock speed set to %sx", self.speed)

    def _start_jobs(self, store: Store, catalog: Catalog) -> BackgroundScheduler:
        jobs = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(1), "projections": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )
        logging.getLogger("apscheduler.scheduler").addFilter(SKIPPED_WHILE_BUSY)
        now = datetime.now(UTC)
        jobs.add_job(self._catch_up, "date", run_date=now, id="catch-up")
        self._job_speed = clock_of(store, store.log.current_epoch()).speed
        for offset, group in enumerate(GROUPS, start=1):
            jobs.add_job(
                self._advance,
                "interval",
                args=[group],
                **self._interval(catalog, group),
                id=f"generate-{group}",
                next_run_time=now + timedelta(seconds=0.2 * offset),
            )
        jobs.add_job(
            self._lifecycle,
            "interval",
            seconds=LIFECYCLE_EVERY,
            id="lifecycle",
            executor="projections",
            next_run_time=now,
        )
        jobs.add_job(
            store.rollup.catch_up,
            "interval",
            seconds=ROLLUP_EVERY,
            id="rollup",
            executor="projections",
            next_run_time=now,
        )
        jobs.add_job(
            self._retention,
            "interval",
            seconds=RETENTION_EVERY,
            id="retention",
            executor="projections",
            next_run_time=now + timedelta(seconds=RETENTION_EVERY / 10),
        )
        self._jobs = jobs
        jobs.start()
        return jobs

    def _interval(self, catalog: Catalog, group: str) -> dict[str, float]:
        """A group's job's interval trigger at the clock's speed (`catchup.job_interval`)."""
        low, high = job_interval(catalog.cadences[group], catalog.cadences, self._job_speed)
        return {"seconds": (low + high) / 2, "jitter": (high - low) / 2}

    def _lifecycle(self) -> None:
        """Settling, settled and scheduled external events, as simulated time brings them;
        and the groups' jobs rescheduled when the clock's speed has changed."""
        generation = self.generation
        if generation is not None:
            written = advance_lifecycle(generation.simulation)
            if written:
                log.info("lifecycle: %s scenario or external events recorded", written)
            self._follow_speed(generation)

    def _follow_speed(self, generation: LiveGeneration) -> None:
        speed = generation.simulation.clock().speed
        if speed == self._job_speed or self._jobs is None:
            return
        self._job_speed = speed
        catalog = generation.simulation.catalog
        for group in GROUPS:
            self._jobs.reschedule_job(
                f"generate-{group}", trigger="interval", **self._interval(catalog, group)
            )
        log.info("scheduler: the groups' jobs follow the clock at %sx", speed)

    def _retention(self) -> None:
        """The next partition of the log made, and what is past retention dropped."""
        generation = self.generation
        if generation is None:
            return
        run = enforce_retention(
            generation.store,
            self.settings.retention,
            read_back_from=generation.reads_back_from(),
        )
        for data in run.dropped:
            log.info(
                "retention: dropped positions %s-%s (%s stream events, %.0f MB; %s)",
                data["firstPosition"],
                data["lastPosition"],
                data["rows"],
                data["bytes"] / 1e6,
                data["reason"],
            )
        if run.held_back:
            log.warning(
                "retention: %s partition(s) past LOG_RETENTION or LOG_MAX_BYTES kept: they hold "
                "stream events of the last %s simulated days, which the generator reads back "
                "when it restarts",
                run.held_back,
                generation.read_back_days(),
            )

    def _catch_up(self) -> None:
        generation = self.generation
        if generation is None:
            return
        started = time.perf_counter()
        shown = CatchUpDisplay(sys.stderr)
        advances = generation.catch_up(report=shown.report)
        shown.done()
        written = sum(advance.events for advance in advances)
        if written:
            log.info(
                "caught up: %s events, every group to %s, in %.2fs",
                written,
                iso(min(advance.until for advance in advances)),
                time.perf_counter() - started,
            )

    def _advance(self, group: str) -> None:
        generation = self.generation
        if generation is None:
            return
        started = time.perf_counter()
        for result in generation.run_job(group):
            if not result.events:
                continue
            log.debug(
                "generated %s: %s events up to %s in %.2fs",
                result.group,
                result.events,
                iso(result.until),
                time.perf_counter() - started,
            )
            line = self.summary.add(result.group, result.events, result.until)
            if line is not None:
                log.info(line)


def _leadership(change: str) -> dict[str, object]:
    """The fields of a leadership line: what changed, and which process on which host."""
    return {"leader": change, "pid": os.getpid(), "host": socket.gethostname()}
