"""The store: the only code that speaks SQL (engines, the event log, projections, queries)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from app.store.baseline_tables import BaselineStore
from app.store.database import create_db_engine
from app.store.eventlog import EventLog
from app.store.generation import GenerationStore
from app.store.rollup import HourlyRollup
from app.store.sessions import SessionStore
from app.store.state import StateStore


@dataclass(frozen=True)
class Store:
    """Everything the service reads and writes: on one engine, or with the read-heavy tables
    (the hourly rollup's rows, the baseline) read from a replica."""

    engine: Engine
    log: EventLog
    baselines: BaselineStore
    rollup: HourlyRollup
    generation: GenerationStore
    state: StateStore
    sessions: SessionStore
    read_engine: Engine | None = None
    """The replica's engine, when reads go to one."""

    @classmethod
    def connect(cls, database_url: str, read_url: str | None = None) -> Store:
        """A store on `database_url`; with `read_url`, the rollup's rows and the baseline
        are read from that replica (which may lag the primary by its replay delay)."""
        engine = create_db_engine(database_url)
        replica = create_db_engine(read_url) if read_url else None
        reads = replica or engine
        return cls(
            engine=engine,
            log=EventLog(engine),
            baselines=BaselineStore(engine, reads=reads),
            rollup=HourlyRollup(engine, reads=reads),
            generation=GenerationStore(engine),
            state=StateStore(engine),
            sessions=SessionStore(engine),
            read_engine=replica,
        )

    def close(self) -> None:
        self.log.close()
        self.engine.dispose()
        if self.read_engine is not None:
            self.read_engine.dispose()
