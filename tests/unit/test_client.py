"""The terminal commands say in one line what went wrong when the service cannot be asked,
and exit 2: nothing running there, a URL that is no URL, something that is not the simulator."""

from __future__ import annotations

import argparse
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from app.cli import main
from app.client import duration, in_commands, state_summary


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(404)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<html>no such page</html>")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def web_page():
    server = HTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _one_line(capsys) -> str:
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    return lines[0]


def test_no_service_running_is_one_line_saying_how_to_start_it(capsys):
    code = main(["state", "--url", f"http://127.0.0.1:{_closed_port()}"])

    assert code == 2
    assert "marketsim run" in _one_line(capsys)


def test_a_url_that_is_no_url_is_one_line(capsys):
    code = main(["state", "--url", "nonsense"])

    assert code == 2
    assert "'nonsense' is not the service's URL" in _one_line(capsys)


def test_an_answer_that_is_not_json_is_one_line(capsys, web_page):
    code = main(["scenarios", "--url", web_page])

    assert code == 2
    assert "answered HTTP 404 with no JSON" in _one_line(capsys)


@pytest.mark.parametrize(
    ("given", "iso"),
    [("2h", "PT2H"), ("90m", "PT90M"), ("1h30m", "PT1H30M"), ("1d", "P1D"),
     ("1d6h", "P1DT6H"), ("45s", "PT45S"), ("PT2H", "PT2H"), ("pt30m", "PT30M")],
)  # fmt: skip
def test_a_modifier_runs_for_a_short_or_an_iso_duration(given, iso):
    assert duration(given) == iso


def test_a_duration_in_words_is_refused_naming_the_forms_that_work():
    with pytest.raises(argparse.ArgumentTypeError, match="give 2h, 90m"):
        duration("2 hours")


def test_a_hint_names_the_command_to_type_not_the_endpoint():
    hint = "stop it with POST /api/simulation/stop (it then settles) or reset the simulation"

    assert in_commands(hint) == (
        "stop it with `marketsim stop` (it then settles) or reset the simulation"
    )
    assert in_commands("GET /api/simulation/state lists the modifiers in force") == (
        "`marketsim state` lists the modifiers in force"
    )


@pytest.fixture
def clock_service():
    """A stand-in service whose simulated clock reads 2026-12-04 18:15 and which records the
    events posted to it."""
    import json

    bodies: list[dict] = []

    class Service(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer(200, {"currentSimulationTime": "2026-12-04T18:15:00Z", "speed": 60.0})

        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            bodies.append(json.loads(self.rfile.read(length)))
            self._answer(201, {"success": True})

        def _answer(self, status: int, body: dict) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps(body).encode())

        def log_message(self, *args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Service)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", bodies
    server.shutdown()


def test_an_event_placed_from_simulated_now_reads_the_services_clock(clock_service, capsys):
    """`--at +2h` is two hours after the service's simulated now, not the wall's."""
    url, bodies = clock_service

    code = main(["inject", "tiktok-mention", "--at", "+2h", "--url", url])

    assert code == 0
    assert bodies == [{"template": "tiktok-mention", "actualImpact": True,
                       "timestamp": "2026-12-04T20:15:00Z"}]  # fmt: skip


def test_the_state_reads_in_a_few_lines():
    state = {
        "currentSimulationTime": "2026-12-03T13:13:56Z", "speed": 60.0, "epoch": 1,
        "status": "Running", "liveSince": "2026-12-03T12:00:00Z", "historicalMode": "baseline",
        "activeModifiers": [
            {"id": "run-39323", "type": "scenario", "name": "Payment Gateway Outage",
             "status": "active", "timeRemaining": 10_800.0},
            {"id": "mod-12", "type": "multiplier", "stream": "customer.app.opened",
             "value": 4.0, "status": "active", "timeRemaining": 600.0},
        ],
        "activeEvents": [{"id": "evt-9", "title": "Stripe rate limiting", "severity": "critical"}],
        "recentAnomalies": [{"stream": "customer.payment.failed"}] * 3,
        "log": {"bytes": 412_090_368, "rows": 1_083_512, "retainedFrom": 1,
                "oldestStreamEvent": {"position": 1, "recordedAt": "2026-12-03T09:12:40Z"},
                "retention": {"maxAgeSeconds": 1_209_600.0, "maxBytes": 2_000_000_000}},
    }  # fmt: skip

    assert state_summary(state).splitlines() == [
        "2026-12-03T13:13:56Z  x60  epoch 1  Running  (live since 2026-12-03T12:00:00Z; "
        "history baseline)",
        "  scenario Payment Gateway Outage (run-39323), active, 180 min left",
        "  modifier mod-12: customer.app.opened multiplier 4, 10 min left",
        "  event evt-9: Stripe rate limiting (critical)",
        "  3 recent critical anomalies on customer.payment.failed",
        "  log 412 MB, 1,083,512 rows, stream events from 2026-12-03T09:12:40Z "
        "(kept 14 days, at most 2 GB)",
        "(marketsim state --json prints all of it)",
    ]
