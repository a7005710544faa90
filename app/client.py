"""`marketsim scenarios | activate | stop | reset | state | templates | inject | modify |
end-modifier | clock`: the simulation's API from a terminal. Each command is one HTTP call;
errors print the API's message and hint."""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

DEFAULT_URL = "http://127.0.0.1:8000"


def call(base: str, method: str, path: str, body: dict | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        base.rstrip("/") + path,
        data=data,
        method=method,
        headers={"Content-Type": "application/json"} if data is not None else {},
    )
    token = os.environ.get("ADMIN_TOKEN")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def _print(status: int, body: Any) -> int:
    if status >= 400:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        print(f"error {status} {error.get('code')}: {error.get('message')}", file=sys.stderr)
        if error.get("hint"):
            print(f"hint: {error['hint']}", file=sys.stderr)
        return 1
    print(json.dumps(body, indent=2))
    return 0


def cmd_scenarios(args: argparse.Namespace, _settings) -> int:
    status, body = call(args.url, "GET", "/api/simulation/scenarios")
    if status >= 400:
        return _print(status, body)
    for scenario in body["scenarios"]:
        print(f"{scenario['id']:<24} {scenario['duration']:<6} {scenario['name']}")
    return 0


def cmd_activate(args: argparse.Namespace, _settings) -> int:
    return _print(*call(args.url, "POST", "/api/simulation/scenario", {"scenarioId": args.id}))


def cmd_stop(args: argparse.Namespace, _settings) -> int:
    return _print(*call(args.url, "POST", "/api/simulation/stop"))


def cmd_reset(args: argparse.Namespace, _settings) -> int:
    return _print(*call(args.url, "POST", "/api/simulation/reset"))


def cmd_state(args: argparse.Namespace, _settings) -> int:
    return _print(*call(args.url, "GET", "/api/simulation/state"))


def cmd_templates(args: argparse.Namespace, _settings) -> int:
    query = f"?{urllib.parse.urlencode({'type': args.type})}" if args.type else ""
    status, body = call(args.url, "GET", f"/api/events/templates{query}")
    if status >= 400:
        return _print(status, body)
    for template in body["templates"]:
        streams = ", ".join(template["expectedImpact"]["streams"])
        print(
            f"{template['template']:<28} {template['type']:<15} {template['severity']:<9}"
            f" {template['title']} -> {streams}"
        )
    return 0


def cmd_inject(args: argparse.Namespace, _settings) -> int:
    body: dict[str, Any] = {"template": args.template, "actualImpact": not args.red_herring}
    if args.at:
        body["timestamp"] = args.at
    return _print(*call(args.url, "POST", "/api/events", body))


def cmd_modify(args: argparse.Namespace, _settings) -> int:
    body = {"stream": args.stream, "type": args.type, "value": args.value, "duration": args.for_}
    return _print(*call(args.url, "POST", "/api/simulation/modifiers", body))


def cmd_end_modifier(args: argparse.Namespace, _settings) -> int:
    return _print(*call(args.url, "POST", f"/api/simulation/modifiers/{args.id}/end"))


def cmd_clock(args: argparse.Namespace, _settings) -> int:
    if args.speed is None:
        return _print(*call(args.url, "GET", "/api/simulation/clock"))
    return _print(*call(args.url, "POST", "/api/simulation/clock", {"speed": args.speed}))


def add_parsers(commands) -> None:
    """The client commands, for app/cli.py."""
    url = os.environ.get("MARKETSIM_URL", DEFAULT_URL)

    def parser(name: str, help_: str, handler) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_)
        sub.add_argument("--url", default=url, help=f"the service (default {url})")
        sub.set_defaults(handler=handler)
        return sub

    parser("scenarios", "list the pre-defined scenarios", cmd_scenarios)
    activate = parser("activate", "activate a scenario", cmd_activate)
    activate.add_argument("id", help="scenario id, e.g. payment-outage")
    parser("stop", "stop the active scenario (it settles)", cmd_stop)
    parser("reset", "reset to the baseline (a new epoch)", cmd_reset)
    parser("state", "show the simulation's state", cmd_state)
    templates = parser("templates", "list the external-event library's templates", cmd_templates)
    templates.add_argument("--type", help="only one category, e.g. infrastructure")
    inject = parser("inject", "inject an external event from a template", cmd_inject)
    inject.add_argument("template", help="library template id, e.g. tiktok-mention")
    inject.add_argument("--at", help="ISO-8601 time (default now); past or future")
    inject.add_argument(
        "--red-herring", action="store_true", help="record it without any real effect"
    )
    modify = parser("modify", "apply a manual modifier to one stream", cmd_modify)
    modify.add_argument("stream", help="stream name, e.g. customer.app.opened")
    modify.add_argument("value", type=float, help="e.g. 10 for ten times (a multiplier)")
    modify.add_argument(
        "--type",
        default="multiplier",
        choices=("multiplier", "additive", "override"),
        help="how the value changes the stream (default multiplier)",
    )
    modify.add_argument(
        "--for", dest="for_", default="PT1H", help="ISO-8601 duration (default PT1H)"
    )
    end = parser("end-modifier", "end a manual modifier now", cmd_end_modifier)
    end.add_argument("id", help="the modifier's id, e.g. mod-12 (marketsim state lists them)")
    clock = parser("clock", "show the simulated clock, or set its speed", cmd_clock)
    clock.add_argument(
        "speed", nargs="?", type=float, help="simulated seconds per wall second, e.g. 60"
    )
