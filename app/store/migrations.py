"""Schema migrations (Alembic) run from code, and the readiness check that compares the
database's revision with the code's head."""

from __future__ import annotations

from dataclasses import dataclass

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from app.settings import PROJECT_ROOT

ALEMBIC_INI = PROJECT_ROOT / "alembic.ini"


def alembic_config(database_url: str) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logger"] = False
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database to `revision` (idempotent)."""
    command.upgrade(alembic_config(database_url), revision)


def head_revision() -> str:
    script = ScriptDirectory.from_config(Config(str(ALEMBIC_INI)))
    head = script.get_current_head()
    if head is None:
        raise RuntimeError("the migrations folder has no head revision")
    return head


@dataclass(frozen=True)
class Readiness:
    ready: bool
    reason: str
    revision: str | None = None
    head: str | None = None


def readiness(engine: Engine, role: str = "database") -> Readiness:
    """Whether the database answers and its schema is at the code's head revision (`role`
    names it in the reason)."""
    head = head_revision()
    try:
        with engine.connect() as conn:
            revision = MigrationContext.configure(conn).get_current_revision()
    except SQLAlchemyError as exc:
        reason = f"{role} unreachable: {type(exc.__cause__ or exc).__name__}"
        return Readiness(False, reason, None, head)
    if revision != head:
        reason = f"migrations not at head ({role} at {revision or 'none'}, code at {head})"
        return Readiness(False, reason, revision, head)
    return Readiness(True, "ok", revision, head)
