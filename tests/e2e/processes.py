"""Starting the service's processes as deployed, for the end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from app.settings import PROJECT_ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_healthy(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited: {process.communicate()[0]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not answer within 30 s")


def start_gunicorn(database_url: str, workers: int, log: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "PORT": str(port), "CHECK_RESPONSES": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        text=True,
    )
    wait_until_healthy(port, process)
    wait_for_hubs(log, workers)
    return process, port


def hub_lines(log: Path) -> list[str]:
    return [line for line in log.read_text().splitlines() if "feed hub started" in line]


def wait_for_hubs(log: Path, workers: int, timeout: float = 60) -> None:
    """Until every worker has booted and started its hub: the first to answer /healthz may be
    alone for seconds on a busy machine, and would take every connection."""
    deadline = time.monotonic() + timeout
    while len(hub_lines(log)) < workers:
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(hub_lines(log))} of {workers} workers started their hub")
        time.sleep(0.2)
