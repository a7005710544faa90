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
    """Everything the service reads and writes, on one engine."""

    engine: Engine
    log: EventLog
    baselines: BaselineStore
    rollup: HourlyRollup
    generation: GenerationStore
    state: StateStore
    sessions: SessionStore

    @classmethod
    def connect(cls, database_url: str) -> Store:
        engine = create_db_engine(database_url)
        return cls(
            engine=engine,
            log=EventLog(engine),
            baselines=BaselineStore(engine),
            rollup=HourlyRollup(engine),
            generation=GenerationStore(engine),
            state=StateStore(engine),
            sessions=SessionStore(engine),
        )

    def close(self) -> None:
        self.engine.dispose()
