"""`marketsim run` on a fresh machine: embedded Postgres, migrations, ready within 30 s."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


@pytest.mark.slow
def test_run_without_database_url_seeds_and_serves_on_an_embedded_postgres(tmp_path: Path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DATA_DIR"] = str(tmp_path / "data")
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "run", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        status, body = None, None
        while time.monotonic() < deadline:
            try:
                status, body = _get(f"http://127.0.0.1:{port}/readyz")
                if status == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            time.sleep(0.25)
        assert status == 200, f"not ready within 30 s: {status} {body}"
        status, history = _get(
            f"http://127.0.0.1:{port}/api/simulation/history?streams=session.started"
        )
        assert status == 200, history
        assert len(history["streams"]["session.started"]) >= 150
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)

    assert process.returncode == 0, output
    assert "baseline seed 20261125" in output
    assert f"serving on http://127.0.0.1:{port}" in output
    assert "embedded Postgres stopped" in output
    assert not (tmp_path / "data" / "pgdata" / "postmaster.pid").exists(), output
