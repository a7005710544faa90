"""Fixtures of the fault tests: the processes a test starts, and a Postgres it may restart."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.faults.harness import Processes


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    started = Processes(tmp_path)
    try:
        yield started
    finally:
        started.stop_all()


class RestartablePostgres:
    """An embedded Postgres (pgserver) of this test alone, in a temp folder, listening on its
    own Unix socket there (never the shared server on 127.0.0.1:5432)."""

    def __init__(self, directory: Path) -> None:
        from app.store.embedded import EmbeddedPostgres

        self.embedded = EmbeddedPostgres(directory)
        self.url = self.embedded.url
        self.socket_dir = make_url(self.url).query["host"]

    def _pg_ctl(self, *args: str) -> None:
        from pgserver._commands import pg_ctl

        server = self.embedded._server
        pg_ctl(list(args), pgdata=self.embedded.pgdata, user=server.system_user, timeout=60)

    def stop(self) -> None:
        """`pg_ctl stop -m fast`: every session is terminated, open transactions roll back."""
        self._pg_ctl("-w", "-m", "fast", "stop")

    def start(self) -> None:
        """Start it again on the same socket, as pgserver started it."""
        self._pg_ctl(
            "-w",
            "-o",
            '-h ""',
            "-o",
            f"-k {self.socket_dir}",
            "-l",
            str(self.embedded.pgdata / "log"),
            "start",
        )

    def close(self) -> None:
        self.embedded.stop()


@pytest.fixture(scope="session")
def runtime_dir() -> Iterator[None]:
    """An XDG_RUNTIME_DIR for the session when there is none, where pgserver keeps its lock
    file. One fixed folder, kept: EmbeddedPostgres would otherwise pick the first test's
    folder, and pgserver takes its lock there again at exit, after any cleanup of ours."""
    directory = Path(tempfile.gettempdir()) / "marketsim-faults-run"
    directory.mkdir(mode=0o700, exist_ok=True)
    ours = "XDG_RUNTIME_DIR" not in os.environ
    if ours:
        os.environ["XDG_RUNTIME_DIR"] = str(directory)
    try:
        yield
    finally:
        if ours:
            os.environ.pop("XDG_RUNTIME_DIR", None)


@pytest.fixture
def restartable_postgres(runtime_dir, fresh_baseline) -> Iterator[RestartablePostgres]:
    """Migrated, with the baseline written and an empty log.

    Its folder is not under pytest's `tmp_path`: as root, pgserver runs Postgres as another
    user, who must traverse the folder's parents, and every pytest run (other engineers' too)
    makes `/tmp/pytest-of-root` private again, which locks pg_ctl out in the middle of a test.
    """
    from app.store import Store
    from app.store.migrations import upgrade

    directory = Path(tempfile.mkdtemp(prefix="marketsim-faults-"))
    try:
        server = RestartablePostgres(directory)
        try:
            upgrade(server.url)
            store = Store.connect(server.url)
            try:
                store.baselines.write(fresh_baseline)
            finally:
                store.close()
            yield server
        finally:
            server.close()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
