"""An embedded Postgres (the `pgserver` package) for running without `DATABASE_URL`.

The data folder is kept between runs; the server stops when the process that started it exits.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
from pathlib import Path

import psutil
import psycopg
from psycopg import sql

from app.store.database import libpq_url

log = logging.getLogger(__name__)

DATABASE = "marketsim"


class EmbeddedPostgres:
    """A Postgres server in `data_dir/pgdata`, with a `marketsim` database."""

    def __init__(self, data_dir: Path) -> None:
        os.environ.setdefault("XDG_RUNTIME_DIR", str(Path(data_dir).resolve() / "run"))
        Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True, mode=0o700)
        import pgserver  # imported late: it reads XDG_RUNTIME_DIR at import time

        self.pgdata = Path(data_dir).resolve() / "pgdata"
        self.pgdata.mkdir(parents=True, exist_ok=True)
        self._server = pgserver.get_server(self.pgdata, cleanup_mode="stop")
        self._ensure_database(DATABASE)
        self.url = self._server.get_uri(DATABASE)

    def _ensure_database(self, name: str) -> None:
        with psycopg.connect(libpq_url(self._server.get_uri()), autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                log.info("created database %s in %s", name, self.pgdata)

    def create_database(self, name: str) -> str:
        """A further database on the same server (the test harness uses one per run)."""
        self._ensure_database(name)
        return self._server.get_uri(name)

    def stop(self) -> None:
        """Stop the server unless another live process still holds it.

        pgserver skips the stop when its handle list names other processes, including ones
        that died without letting go; a server left running then holds the data folder, so
        handles whose process is gone do not count here. When pgserver's own stop fails (a
        busy machine) it kills the server, which leaves its pid file behind; a server that is
        gone by then is stopped, whatever pg_ctl says.
        """
        self._server.cleanup()
        if self._other_live_handles() or self._postmaster() is None:
            return
        log.warning("embedded Postgres still running after cleanup; stopping it")
        from pgserver._commands import pg_ctl

        try:
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self._server.system_user)
        except subprocess.CalledProcessError:
            if self._postmaster() is not None:
                raise

    def _postmaster(self) -> int | None:
        """The running postmaster's pid, from its pid file; a file left by a server that is
        gone (killed) is removed: no server holds the data folder."""
        pid_file = self.pgdata / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
            return pid
        pid_file.unlink(missing_ok=True)
        log.warning("removed the pid file of embedded Postgres %s, which is gone", pid)
        return None

    def _other_live_handles(self) -> list[int]:
        try:
            pids = json.loads((self.pgdata / ".handle_pids.json").read_text())
        except (OSError, ValueError):
            return []
        return [pid for pid in pids if pid != os.getpid() and psutil.pid_exists(pid)]
