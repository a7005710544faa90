"""`marketsim run` without DATABASE_URL stops its embedded Postgres on the way out, even when
the server went before it (pgserver kills it when its own stop fails on a busy machine)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import psutil

from app.store.embedded import EmbeddedPostgres


def postmaster_pid(pgdata: Path) -> int:
    return int((pgdata / "postmaster.pid").read_text().split()[0])


def test_a_server_killed_before_the_stop_is_stopped_and_leaves_no_pid_file(tmp_path: Path):
    embedded = EmbeddedPostgres(tmp_path / "data")
    pid = postmaster_pid(embedded.pgdata)
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while psutil.pid_exists(pid) and time.monotonic() < deadline:
        time.sleep(0.05)

    embedded.stop()

    assert not (embedded.pgdata / "postmaster.pid").exists()


def test_a_running_server_is_stopped(tmp_path: Path):
    embedded = EmbeddedPostgres(tmp_path / "data")
    pid = postmaster_pid(embedded.pgdata)

    embedded.stop()

    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert not (embedded.pgdata / "postmaster.pid").exists()
