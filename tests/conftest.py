"""The test harness: a real Postgres, one fresh database per test run, clean tables per test.

Which Postgres: `TEST_DATABASE_URL` when set (a server where we may create databases), else
testcontainers when a Docker engine answers, else an embedded `pgserver` in a temp folder.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from app.store.database import libpq_url


class PostgresServer:
    """A server on which the harness creates and drops its own databases."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url

    def create_database(self) -> str:
        name = f"marketsim_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(libpq_url(self.admin_url), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def drop_database(self, url: str) -> None:
        name = make_url(url).database
        with psycopg.connect(libpq_url(self.admin_url), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    if url := os.environ.get("TEST_DATABASE_URL"):
        yield PostgresServer(url)
    elif _docker_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16-alpine", driver="psycopg") as container:
            yield PostgresServer(container.get_connection_url())
    else:
        from app.store.embedded import EmbeddedPostgres

        embedded = EmbeddedPostgres(Path(tmp_path_factory.mktemp("pgserver")))
        try:
            yield PostgresServer(embedded.url)
        finally:
            embedded.stop()


@pytest.fixture(scope="session")
def migrated_database(postgres_server: PostgresServer) -> Iterator[str]:
    """A database of this test run, migrated to head once."""
    from app.store.migrations import upgrade

    url = postgres_server.create_database()
    upgrade(url)
    yield url
    postgres_server.drop_database(url)


@pytest.fixture
def empty_database(postgres_server: PostgresServer) -> Iterator[str]:
    """A database with no schema at all (for readiness before migrations)."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


KEPT_TABLES = ("alembic_version", "event_log_partitioning")
"""What the harness never empties: the schema's revision and the log's partition size."""


def drop_log_partitions(conn: psycopg.Connection) -> None:
    """Drop the stream events' partitions; `prepare_log` makes the first again once the log
    is empty, as a migration does."""
    for (name,) in conn.execute("SELECT name FROM event_log_partition").fetchall():
        conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(name)))
    conn.execute("DELETE FROM event_log_partition")


PARTITION_POSITIONS = 1_000_000
"""The migration's partition size, which every test starts from."""


def prepare_log(conn: psycopg.Connection, positions: int = PARTITION_POSITIONS) -> None:
    conn.execute("UPDATE event_log_partitioning SET partition_positions = %s", (positions,))
    conn.execute("SELECT event_log_prepare()")


def partition_log(url: str, positions: int) -> None:
    """Start the (empty) log over with partitions of `positions` positions."""
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        drop_log_partitions(conn)
        prepare_log(conn, positions)


def _truncate_everything(url: str) -> None:
    """Empty every table. The append-only triggers refuse TRUNCATE, so the harness turns
    triggers off for its own session (`session_replication_role = replica`)."""
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        drop_log_partitions(conn)
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> ALL(%s)",
                (list(KEPT_TABLES),),
            )
        ]
        if tables:
            conn.execute("SET session_replication_role = replica")
            conn.execute(
                sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
                    sql.SQL(", ").join(sql.Identifier(t) for t in tables)
                )
            )
            prepare_log(conn)


@pytest.fixture
def database_url(migrated_database: str) -> str:
    """The migrated database, emptied for this test."""
    _truncate_everything(migrated_database)
    return migrated_database


@pytest.fixture
def store(database_url: str) -> Iterator:
    from app.store import Store

    store = Store.connect(database_url)
    yield store
    store.close()


@pytest.fixture
def app(store, database_url: str):
    from app.settings import Settings
    from app.web import create_app

    return create_app(Settings(database_url=database_url, check_responses=True), store=store)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def fresh_baseline():
    """A baseline that ends at the last 12-hour boundary, as a first start would seed it."""
    from app.domain.catalog import load_catalog
    from app.settings import PROJECT_ROOT
    from seeds.baseline import build, default_end

    config_dir = PROJECT_ROOT / "config"
    return build(load_catalog(config_dir), config_dir, seed=20261125, end=default_end())


@pytest.fixture(scope="session")
def seeded_database(postgres_server: PostgresServer, fresh_baseline) -> Iterator[str]:
    """A database of this test run, migrated, with `fresh_baseline` written once."""
    from app.store import Store
    from app.store.migrations import upgrade

    url = postgres_server.create_database()
    upgrade(url)
    store = Store.connect(url)
    store.baselines.write(fresh_baseline)
    store.close()
    yield url
    postgres_server.drop_database(url)


LIVE_TABLES = ("event_log", "stream_hourly", "projection_position")


@pytest.fixture
def seeded_store(seeded_database: str) -> Iterator:
    """The seeded database with an empty log (the baseline tables are kept)."""
    from app.store import Store

    with psycopg.connect(libpq_url(seeded_database), autocommit=True) as conn:
        drop_log_partitions(conn)
        conn.execute("SET session_replication_role = replica")
        conn.execute(
            sql.SQL("TRUNCATE {} RESTART IDENTITY").format(
                sql.SQL(", ").join(sql.Identifier(t) for t in LIVE_TABLES)
            )
        )
        prepare_log(conn)
    store = Store.connect(seeded_database)
    yield store
    store.close()


class MovableWall:
    """The machine's clock, which a test moves on instead of sleeping while time passes."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, span: timedelta) -> None:
        self.offset += span


@pytest.fixture
def wall() -> MovableWall:
    return MovableWall()


@pytest.fixture
def seeded_client(seeded_store, seeded_database: str, wall: MovableWall):
    """A test client of the app on the seeded database, its wall clock the `wall` fixture."""
    from app.settings import Settings
    from app.web import create_app

    settings = Settings(database_url=seeded_database, check_responses=True)
    return create_app(settings, store=seeded_store, wall=wall).test_client()


@pytest.fixture
def seeded_twin(postgres_server: PostgresServer, fresh_baseline) -> Iterator[str]:
    """A second database with the same baseline (to compare two runs side by side)."""
    from app.store import Store
    from app.store.migrations import upgrade

    url = postgres_server.create_database()
    upgrade(url)
    store = Store.connect(url)
    store.baselines.write(fresh_baseline)
    store.close()
    yield url
    postgres_server.drop_database(url)
