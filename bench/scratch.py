"""A scratch database for a benchmark run: on BENCH_DATABASE_URL's (or DATABASE_URL's) server
when set, else on an embedded Postgres in a temp folder; migrated, and dropped afterwards."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from app.store.database import libpq_url
from app.store.migrations import upgrade


@contextmanager
def _server_url() -> Iterator[str]:
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    from app.store.embedded import EmbeddedPostgres

    with tempfile.TemporaryDirectory() as folder:
        embedded = EmbeddedPostgres(Path(folder))
        try:
            yield embedded.url
        finally:
            embedded.stop()


@contextmanager
def scratch_database() -> Iterator[str]:
    with _server_url() as admin_url:
        name = f"marketsim_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(libpq_url(admin_url), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        try:
            upgrade(url)
            yield url
        finally:
            with psycopg.connect(libpq_url(admin_url), autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
