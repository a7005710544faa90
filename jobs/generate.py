"""The generation job: advance one cadence group to simulated now, appending as it goes.

Each chunk of simulated time is one transaction: the group's roots, samples and due caused
events, the rounds of effects they cause within the chunk, and the group's tick marker. So
the log holds either all of a chunk or none of it, and a restart carries on from the last
tick with nothing twice and nothing missing. Any failure rebuilds the generator from the log.

A chunk commits behind the job: the next chunk's first round is drawn meanwhile, and its
transaction begins once that commit is done (a failed commit fails the job, which restores).
A job returns when its last chunk is committed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, wait
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain.catalog import Catalog
from app.domain.catchup import CatchUpReport, progress
from app.domain.effects import EffectsSource
from app.domain.events import NewEvent
from app.domain.generator import GROUPS, RECENT, TICK_TYPE, StreamGenerator
from app.domain.history import BaselineView
from app.domain.model import MarketModel
from app.domain.state_effects import StateEffects
from app.domain.timerange import from_iso, iso
from app.services import Simulation, clock_of
from app.store import Store
from app.store.eventlog import EpochChanged
from jobs.collector import collector_paused

log = logging.getLogger(__name__)

CHUNK = {
    "high": timedelta(minutes=10),
    "medium": timedelta(minutes=30),
    "low": timedelta(hours=2),
}
"""The most simulated time one transaction covers, per group (catch-up and fast clocks)."""

CATCH_UP_STEP = CHUNK["high"]
"""How far all groups advance together per turn of a catch-up (`LiveGeneration.catch_up`)."""

JOB_BUDGET = 10.0
"""Wall seconds a group's job catches up for before it hands back (`run_job`): the scheduler
then says what was written, and a catch-up whose target the clock has since moved (a change
of speed) goes on from where the clock is."""


@dataclass(frozen=True)
class Advance:
    group: str
    until: datetime
    events: int
    chunks: int


class LiveGeneration:
    """The generator bound to the store: restored from the log, advanced group by group."""

    def __init__(
        self,
        store: Store,
        catalog: Catalog,
        baseline: BaselineView,
        seed: int,
        effects: EffectsSource | None = None,
    ) -> None:
        self.store = store
        self.baseline = baseline
        self.halted = threading.Event()
        self.model = MarketModel(catalog, anchor=baseline.end)
        self.simulation = Simulation(store, catalog, seed, baseline=baseline)
        self.generator = StreamGenerator(self.model, baseline, seed, effects=effects)
        self._effects_at = -1
        self._restored = False
        self._committing: Future[None] | None = None
        self.restore()

    def restore(self) -> None:
        """Rebuild the generator from the log (at start, after a failure or a reset).

        Until a restore has succeeded, `advance` restores before it writes: after a chunk that
        failed (its transaction rolled back, but the generator had already taken its first
        events as written) and a restore that failed too (Postgres down), the generator's
        state holds effects of events that never committed and lacks the due effects that
        chunk took off the queue; writing from it would record them."""
        self._restored = False
        self._commit_settled()
        store, generator = self.store, self.generator
        epoch = store.log.current_epoch()
        start, frontiers, oldest = self._frontiers(epoch)
        store.rollup.catch_up()
        entity = [n for i, n in enumerate(self.model.names) if self.model.is_entity(i)]
        gauges = [n for i, n in enumerate(self.model.names) if not self.model.is_entity(i)]
        snapshot = store.generation.snapshot(
            epoch,
            frontiers,
            {name: oldest - window for name, window in generator.cause_windows().items()},
            entity,
            gauges,
            recent_since=oldest - RECENT,
            hourly_since=oldest - timedelta(days=15),
        )
        generator.restore(snapshot, start)
        self._effects_at = -1
        self._follow_state()
        self._restored = True
        log.info(
            "generator restored: epoch %s, frontiers %s, %s effects pending",
            epoch,
            {g: iso(t) for g, t in generator.frontiers.items()},
            generator.pending_count(),
        )

    def reads_back_from(self) -> datetime:
        """The oldest simulated time a restore reads stream events from the log (retention
        keeps them)."""
        _, _, oldest = self._frontiers(self.store.log.current_epoch())
        return oldest - self._read_back()

    def read_back_days(self) -> float:
        return round(self._read_back() / timedelta(days=1), 1)

    def _read_back(self) -> timedelta:
        return max([*self.generator.cause_windows().values(), RECENT])

    def _frontiers(self, epoch: int) -> tuple[datetime, dict[str, datetime], datetime]:
        """The epoch's start, each group's frontier, and the oldest of them (a group with
        no tick yet in the epoch stands at its start)."""
        start = self.store.generation.epoch_start(epoch) or self.baseline.end
        frontiers = self.store.generation.frontiers(epoch, GROUPS)
        oldest = min(frontiers.get(group, start) for group in GROUPS)
        return start, frontiers, oldest

    def halt(self) -> None:
        """Stop after the chunk in progress (a long catch-up must not hold up a shutdown)."""
        self.halted.set()

    def now(self) -> datetime:
        """Simulated now, by the clock in the log."""
        wall = self.simulation.wall
        return clock_of(self.store, self.generator.epoch, wall).now(wall())

    def run_job(self, group: str) -> list[Advance]:
        """A group's job: the group up to simulated now; or, when generation is catching up
        (a group further behind than its cadence explains: `catchup.progress`), every group
        together in step (`catch_up`, for `JOB_BUDGET`). Left each to its own job at 3,600x,
        the medium group ran 5 simulated days ahead of a high group that could not keep up:
        booking requests (caused by high-cadence searches) read as days of zeros and came in
        days late."""
        wall = self.simulation.wall
        clock = clock_of(self.store, self.generator.epoch, wall)
        now = clock.now(wall())
        cadences = self.model.catalog.cadences
        if progress(self.generator.frontiers, now, clock.speed, cadences).catching_up:
            return self.catch_up(now, budget=JOB_BUDGET)
        return [self.advance(group, now)]

    def advance(self, group: str, now: datetime | None = None) -> Advance:
        """Generate `group` from its frontier up to `now` (simulated), chunk by chunk."""
        if not self._restored:
            self.restore()  # the last restore failed: the log first (raises if still down)
        target = now or self.now()
        events = chunks = 0
        try:
            while self.generator.frontiers[group] < target and not self.halted.is_set():
                until = min(target, self.generator.frontiers[group] + CHUNK[group])
                events += self._chunk(group, until)
                chunks += 1
            self._committed()
        except EpochChanged as exc:
            log.info("the log moved to epoch %s: restoring the generator", exc.actual)
            self.restore()
        except FrontierMoved as exc:
            log.warning("another generator wrote %s: restoring from the log", exc)
            self.restore()
        except Exception:
            log.exception("generation of %s failed: restoring the generator from the log", group)
            self.restore()
            raise
        return Advance(group, self.generator.frontiers[group], events, chunks)

    def catch_up(
        self,
        now: datetime | None = None,
        report: Callable[[CatchUpReport], None] | None = None,
        budget: float | None = None,
    ) -> list[Advance]:
        """Bring every group up to `now` together, one step of `CATCH_UP_STEP` at a time (or
        as far as `budget` wall seconds go).

        Caused events cross groups (a medium-cadence booking confirmation schedules a
        high-cadence session). A group's effect whose due time its group has already generated
        past is written with that group's next chunk, dated when it was due: late. Advancing
        the groups one after the other over hours of downtime (each its whole way) wrote such
        effects hours late (10.5 h seen on a first start); in step, none is more than a step
        late."""
        target = now or self.now()
        events: Counter[str] = Counter()
        chunks: Counter[str] = Counter()
        start, started = min(self.generator.frontiers.values()), time.perf_counter()
        while not self.halted.is_set():
            if budget is not None and time.perf_counter() - started >= budget:
                break
            behind = min(self.generator.frontiers.values())
            if behind >= target:
                break
            until = min(target, behind + CATCH_UP_STEP)
            for group in GROUPS:
                if self.generator.frontiers[group] < until:
                    step = self.advance(group, until)
                    events[group] += step.events
                    chunks[group] += step.chunks
            if report is not None:
                elapsed = time.perf_counter() - started
                report(CatchUpReport(start, until, target, sum(events.values()), elapsed))
        frontiers = self.generator.frontiers
        return [Advance(g, frontiers[g], events[g], chunks[g]) for g in GROUPS]

    def _follow_state(self) -> None:
        """Take up what scenarios, modifiers and external events the log holds now."""
        state = self.simulation.state()
        if state.last_position != self._effects_at:
            self.generator.set_effects(StateEffects(state, self.model))
            self._effects_at = state.last_position

    def _chunk(self, group: str, until: datetime) -> int:
        """One chunk in one transaction, committed behind the caller: its first round (pure
        work) is drawn while the previous chunk's commit goes on, and this chunk's own
        commit goes on while the next chunk's first round is drawn (`_committed` waits)."""
        self._follow_state()
        generator = self.generator
        start = generator.frontiers[group]
        written = 0
        with collector_paused():
            drafts = generator.first_round(group, until)
            self._committed()
            transaction = self.store.log.begin()
            try:
                self._fence(transaction.writer, group, start)
                while drafts:
                    appended = transaction.writer.append_stream(
                        generator.to_events(drafts), expected_epoch=generator.epoch
                    )
                    generator.committed(drafts, appended.first_position)
                    written += len(drafts)
                    drafts = generator.next_round(group, until)
                transaction.writer.append(
                    [tick(group, start, until)], expected_epoch=generator.epoch
                )
            except BaseException as error:
                transaction.rollback(error)
                raise
            self._committing = transaction.commit_behind()
        generator.advance(group, until)
        return written

    def _committed(self) -> None:
        """Wait for the last chunk's commit; raise what failed it."""
        committing, self._committing = self._committing, None
        if committing is not None:
            committing.result()

    def _commit_settled(self) -> None:
        """Wait for the last chunk's commit to end, whatever came of it (a restore reads the
        log next)."""
        committing, self._committing = self._committing, None
        if committing is not None:
            wait([committing])

    def _fence(self, writer, group: str, start: datetime) -> None:
        """Under the append lock, check that the log's last tick of this group is where this
        generator believes it is: a second generator that kept running after losing the
        leadership is stopped here, before it writes anything twice."""
        epoch = writer.lock()
        if epoch != self.generator.epoch:
            raise EpochChanged(self.generator.epoch, epoch)
        _fence_check(writer.last_tick(group, epoch), start, group)


class FrontierMoved(RuntimeError):
    """Another generator advanced this group since this one read the log."""


def _fence_check(latest: dict | None, start: datetime, group: str) -> None:
    found = from_iso(latest["until"]) if latest else None
    if found is not None and found != start:
        raise FrontierMoved(f"{group} is at {iso(found)}, not {iso(start)}")


def tick(group: str, start: datetime, until: datetime) -> NewEvent:
    """The marker of a group's generation reaching `until`."""
    return NewEvent(
        kind="control",
        type=TICK_TYPE,
        occurred_at=until,
        data={"group": group, "from": iso(start), "until": iso(until)},
    )
