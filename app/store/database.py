"""Connections: one URL format in, SQLAlchemy engines and raw psycopg connections out."""

from __future__ import annotations

import psycopg
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

DRIVER = "postgresql+psycopg"


def sqlalchemy_url(url: str) -> str:
    """The SQLAlchemy form of a Postgres URL (`postgres://` and `postgresql://` both accepted)."""
    parsed = make_url(url)
    if parsed.get_backend_name() not in ("postgres", "postgresql"):
        raise ValueError(f"not a PostgreSQL URL: {parsed.render_as_string(hide_password=True)}")
    return parsed.set(drivername=DRIVER).render_as_string(hide_password=False)


def libpq_url(url: str) -> str:
    """The libpq form of a Postgres URL, for psycopg connections made outside SQLAlchemy."""
    parsed = make_url(sqlalchemy_url(url))
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def create_db_engine(url: str, *, pool_size: int = 5) -> Engine:
    """An engine whose pooled connections are checked before use, so a restarted server is
    noticed on the next checkout rather than on a failed query."""
    return create_engine(
        sqlalchemy_url(url),
        pool_size=pool_size,
        max_overflow=10,
        pool_pre_ping=True,
        pool_recycle=1800,
    )


def connect(url: str, *, autocommit: bool = False) -> psycopg.Connection:
    """A raw psycopg connection (listeners and advisory-lock holders need their own)."""
    return psycopg.connect(libpq_url(url), autocommit=autocommit)
