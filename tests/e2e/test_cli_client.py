"""The terminal commands against a running simulator: list, activate, state, inject, modify
and end a modifier, stop, reset, and refusals' messages."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> str:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DATA_DIR"] = str(tmp_path_factory.mktemp("cli") / "data")
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "run", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/api/simulation/scenarios", timeout=2):
                break
        except OSError:
            time.sleep(0.3)
    yield url
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)


def marketsim(url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args, "--url", url],
        capture_output=True, text=True, timeout=60, cwd=Path(__file__).parents[2],
    )  # fmt: skip


@pytest.mark.slow
def test_a_newcomer_can_drive_a_scenario_from_the_terminal(server):
    sped_up = marketsim(server, "clock", "60")
    assert sped_up.returncode == 0, sped_up.stderr
    assert json.loads(sped_up.stdout)["speed"] == 60.0
    assert json.loads(marketsim(server, "clock").stdout)["speed"] == 60.0
    too_fast = marketsim(server, "clock", "1e9")
    assert too_fast.returncode == 1 and "invalid_field" in too_fast.stderr

    listed = marketsim(server, "scenarios")
    assert listed.returncode == 0
    assert "payment-outage" in listed.stdout

    activated = marketsim(server, "activate", "payment-outage")
    assert activated.returncode == 0, activated.stderr
    assert json.loads(activated.stdout)["scenario"]["status"] == "active"

    refused = marketsim(server, "activate", "supply-crisis")
    assert refused.returncode == 1
    assert "scenario_active" in refused.stderr and "hint:" in refused.stderr
    assert "marketsim stop" in refused.stderr and "/api/" not in refused.stderr

    state = json.loads(marketsim(server, "state", "--json").stdout)
    assert state["status"] == "Running"

    templates = marketsim(server, "templates", "--type", "marketing")
    assert templates.returncode == 0, templates.stderr
    assert "tiktok-mention" in templates.stdout and "aws-outage" not in templates.stdout
    unknown_type = marketsim(server, "templates", "--type", "weather")
    assert unknown_type.returncode == 1 and "invalid_parameter" in unknown_type.stderr

    injected = marketsim(server, "inject", "tiktok-mention")
    assert json.loads(injected.stdout)["event"]["id"].startswith("evt-")

    modified = marketsim(server, "modify", "customer.app.opened", "10", "--for", "PT2H")
    modifier = json.loads(modified.stdout)["modifier"]
    assert (modifier["stream"], modifier["value"], modifier["timeRemaining"]) == (
        "customer.app.opened", 10.0, 7200.0
    )  # fmt: skip
    ended = json.loads(marketsim(server, "end-modifier", modifier["id"]).stdout)
    assert ended["modifier"]["status"] == "ended"
    again = marketsim(server, "end-modifier", modifier["id"])
    assert again.returncode == 1 and "modifier_over" in again.stderr
    spike = marketsim(server, "modify", "customer.app.opened", "--sigma", "5", "--type", "spike",
                      "--for", "20m")  # fmt: skip
    spiked = json.loads(spike.stdout)["modifier"]
    assert (spiked["kind"], spiked["sigma"]) == ("spike", 5.0) and spiked["value"] > 1

    stopped = json.loads(marketsim(server, "stop").stdout)
    assert stopped["settlingUntil"]

    reset = json.loads(marketsim(server, "reset").stdout)
    assert reset["epoch"] == 2
    assert json.loads(marketsim(server, "state", "--json").stdout)["status"] == "Baseline"
    assert "Baseline" in marketsim(server, "state").stdout.splitlines()[0]
