"""`marketsim scenarios | activate | stop | reset | state | templates | inject | modify |
end-modifier | clock | export | score`: the simulation's API from a terminal. Each command is
one or two HTTP calls; errors print the API's message and hint."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any, get_args

from pydantic import TypeAdapter, ValidationError

from app.domain.catalog import ManualModifierType
from app.domain.timerange import from_iso, iso, iso_duration

DEFAULT_URL = "http://127.0.0.1:8000"


class ClientError(Exception):
    """The service could not be asked (not running, a wrong URL, not this service): one
    line for the terminal; `marketsim` exits 2."""


def call(base: str, method: str, path: str, body: dict | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    try:
        request = urllib.request.Request(
            base.rstrip("/") + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"} if data is not None else {},
        )
    except ValueError:
        raise ClientError(
            f"'{base}' is not the service's URL: give --url http://host:port"
        ) from None
    token = os.environ.get("ADMIN_TOKEN")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, _json(base, response.status, response.read())
    except urllib.error.HTTPError as err:
        return err.code, _json(base, err.code, err.read())
    except urllib.error.URLError as err:
        raise ClientError(
            f"cannot reach {base} ({_reason(err.reason)}): start it with `marketsim run`, "
            "or give --url (or MARKETSIM_URL)"
        ) from None
    except (TimeoutError, ConnectionError, http.client.HTTPException) as err:
        raise ClientError(
            f"{base} did not answer as HTTP ({_reason(err)}): is --url the simulator's address?"
        ) from None


def _json(base: str, status: int, raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        raise ClientError(
            f"{base} answered HTTP {status} with no JSON: is --url the simulator's address?"
        ) from None


def _reason(reason: object) -> str:
    text = getattr(reason, "strerror", None) or str(reason)
    return text or type(reason).__name__


_COMMANDS = {
    "POST /api/simulation/stop": "`marketsim stop`",
    "POST /api/simulation/scenario": "`marketsim activate ID`",
    "POST /api/simulation/reset": "`marketsim reset`",
    "GET /api/simulation/scenarios": "`marketsim scenarios`",
    "GET /api/simulation/state": "`marketsim state`",
    "GET /api/events/templates": "`marketsim templates`",
}
"""The endpoints an API hint may name, as the commands a terminal user types instead."""


def in_commands(hint: str) -> str:
    """An API hint in the terminal's words: `marketsim stop`, not its endpoint."""
    for endpoint, command in _COMMANDS.items():
        hint = hint.replace(endpoint, command)
    return hint


def _print(status: int, body: Any) -> int:
    if status >= 400:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        print(f"error {status} {error.get('code')}: {error.get('message')}", file=sys.stderr)
        if error.get("hint"):
            print(f"hint: {in_commands(error['hint'])}", file=sys.stderr)
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


def cmd_benchmark(args: argparse.Namespace, _settings) -> int:
    return _print(*call(args.url, "POST", "/api/simulation/benchmark"))


def cmd_state(args: argparse.Namespace, _settings) -> int:
    status, state = call(args.url, "GET", "/api/simulation/state")
    if status >= 400 or args.json:
        return _print(status, state)
    print(state_summary(state))
    return 0


def state_summary(state: dict) -> str:
    """The state in a few lines: time and speed, what is acting, what is anomalous."""
    lines = [
        f"{state['currentSimulationTime']}  x{state['speed']:g}  epoch {state['epoch']}  "
        f"{state['status']}  (live since {state['liveSince']}; history {state['historicalMode']})"
    ]
    lines += [f"  {_acting(modifier)}" for modifier in state["activeModifiers"]]
    lines += [
        f"  event {event['id']}: {event['title']} ({event['severity']})"
        for event in state["activeEvents"]
    ]
    lines.append(f"  {_anomalies(state['recentAnomalies'])}")
    if state.get("log"):
        lines.append(f"  {_log_line(state['log'])}")
    lines.append("(marketsim state --json prints all of it)")
    return "\n".join(lines)


def _log_line(log: dict) -> str:
    kept = log["retention"]["maxAgeSeconds"]
    budget = log["retention"]["maxBytes"]
    policy = f"kept {kept / 86400:g} days" if kept else "kept for ever"
    if budget:
        policy += f", at most {budget / 1e9:g} GB"
    oldest = log["oldestStreamEvent"]
    since = f", stream events from {oldest['recordedAt']}" if oldest else ""
    return f"log {log['bytes'] / 1e6:,.0f} MB, {log['rows']:,} rows{since} ({policy})"


def _acting(modifier: dict) -> str:
    if modifier["type"] == "scenario":
        name = modifier.get("name") or modifier.get("scenarioId")
        what = f"scenario {name} ({modifier['id']}), {modifier['status']}"
    else:
        change = f"{modifier['type']} {modifier['value']:g}"
        what = f"modifier {modifier['id']}: {modifier['stream']} {change}"
    left = modifier.get("timeRemaining")
    return f"{what}, {left / 60:.0f} min left" if left else what


def _anomalies(anomalies: list[dict]) -> str:
    if not anomalies:
        return "no recent critical anomalies"
    streams = sorted({a["stream"] for a in anomalies})
    more = f" and {len(streams) - 5} more" if len(streams) > 5 else ""
    return f"{len(anomalies)} recent critical anomalies on {', '.join(streams[:5])}{more}"


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
        body["timestamp"] = _moment(args.url, args.at)
    return _print(*call(args.url, "POST", "/api/events", body))


def _moment(base: str, at: str) -> str:
    """`--at` as the API takes it: a time as given, or `+2h` / `-3d` from simulated now (the
    service's clock, which runs ahead of the wall's at a fast speed)."""
    if not at.startswith(("+", "-")):
        return at
    try:
        offset = _ISO_DURATION.validate_python(duration(at[1:]))
    except (argparse.ArgumentTypeError, ValidationError) as exc:
        raise ClientError(f"--at {at}: {exc}") from None
    status, clock = call(base, "GET", "/api/simulation/clock")
    if status >= 400:
        raise ClientError(f"--at {at}: the clock could not be read (HTTP {status})")
    now = from_iso(clock["currentSimulationTime"])
    moment = now + offset if at.startswith("+") else now - offset
    return iso(moment)


def duration(text: str) -> str:
    """A duration as `--for` takes it (see `iso_duration`), as ISO-8601 for the API."""
    try:
        return iso_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


_ISO_DURATION = TypeAdapter(timedelta)
"""The API's own reading of an ISO-8601 duration (pydantic's, as its bodies use)."""


def cmd_modify(args: argparse.Namespace, _settings) -> int:
    body = {"stream": args.stream, "type": args.type, "duration": args.for_}
    if args.value is not None:
        body["value"] = args.value
    if args.sigma is not None:
        body["sigma"] = args.sigma
    return _print(*call(args.url, "POST", "/api/simulation/modifiers", body))


def cmd_end_modifier(args: argparse.Namespace, _settings) -> int:
    return _print(*call(args.url, "POST", f"/api/simulation/modifiers/{args.id}/end"))


def cmd_clock(args: argparse.Namespace, _settings) -> int:
    if args.speed is None:
        return _print(*call(args.url, "GET", "/api/simulation/clock"))
    return _print(*call(args.url, "POST", "/api/simulation/clock", {"speed": args.speed}))


def _query(**params: str | int | None) -> str:
    chosen = {k: v for k, v in params.items() if v}
    return f"?{urllib.parse.urlencode(chosen)}" if chosen else ""


def cmd_export(args: argparse.Namespace, _settings) -> int:
    """A labelled dataset: every stream's hourly series and the ground truth of a range."""
    from app.dataset import write_dataset

    status, truth = call(
        args.url,
        "GET",
        "/api/ground-truth" + _query(start=args.start, end=args.end, streams=args.streams),
    )
    if status >= 400:
        return _print(status, truth)
    span = truth["timeRange"]
    status, history = call(
        args.url,
        "GET",
        "/api/simulation/history"
        + _query(start=span["start"], end=span["end"], streams=args.streams, resolution="1h"),
    )
    if status >= 400:
        return _print(status, history)
    series = history["streams"]
    status, deliveries = _all_deliveries(args.url, span, args.streams)
    if status >= 400:
        return _print(status, deliveries)
    folder = Path(args.labels)
    truth = {**truth, "streams": sorted(series)}
    write_dataset(folder, series, truth, args.calendar, deliveries)
    causal = [w for w in truth["windows"] if w["causal"]]
    clear = sum(w["detectability"] == "clear" for w in causal)
    visible = sum(w["detectability"] == "visible" for w in causal)
    print(
        f"marketsim: wrote {len(series)} series, {span['start']} to {span['end']}, and "
        f"{len(truth['windows'])} windows ({len(causal)} causal: {clear} clear, {visible} "
        "visible) of "
        f"{len(truth['causes'])} causes, and {len(deliveries)} faulted deliveries to {folder}"
    )
    return 0


def _all_deliveries(url: str, span: dict, streams: str | None) -> tuple[int, Any]:
    """Every faulted delivery of the span, page by page: (status, the list or the error)."""
    found: list = []
    after = 0
    while True:
        path = "/api/ground-truth/deliveries" + _query(
            start=span["start"], end=span["end"], streams=streams, after=after, limit=10_000
        )
        status, page = call(url, "GET", path)
        if status >= 400:
            return status, page
        found.extend(page["deliveries"])
        if page["nextAfter"] is None:
            return status, found
        after = page["nextAfter"]


def cmd_score(args: argparse.Namespace, _settings) -> int:
    """Score a detector's findings: against an export (`--labels DIR`, no server needed) or
    against the service's ground truth."""
    from app.domain.scoring import DetectionError, read_detections

    try:
        document = json.loads(Path(args.detections).read_text())
        detections = read_detections(document, args.min_score)
    except (OSError, ValueError) as exc:
        kind = "detections" if isinstance(exc, DetectionError) else "file"
        print(f"marketsim: cannot read {args.detections} ({kind}): {exc}", file=sys.stderr)
        return 2
    if args.labels:
        report = _score_export(Path(args.labels), detections, args)
        if report is None:
            return 2
        status = 200
    else:
        body = {
            "detections": [
                {"stream": d.stream, "timestamp": iso(d.at)}
                | ({"score": d.score} if d.score is not None else {})
                for d in detections
            ],
            "calendar": args.calendar,
        } | {k: v for k, v in (("start", args.start), ("end", args.end),
                                ("streams", args.streams)) if v}  # fmt: skip
        status, report = call(args.url, "POST", "/api/ground-truth/score", body)
    if status >= 400 or args.json:
        return _print(status, report)
    print(summary(report))
    return 0


def _score_export(folder: Path, detections, args: argparse.Namespace) -> dict | None:
    from app.dataset import read_ground_truth
    from app.domain.scoring import score

    try:
        truth = read_ground_truth(folder)
    except (OSError, ValueError) as exc:
        print(f"marketsim: {folder} holds no readable export: {exc}", file=sys.stderr)
        return None
    span = truth["timeRange"]
    start = from_iso(args.start or span["start"])
    end = from_iso(args.end or span["end"])
    streams = _chosen(truth["streams"], args.streams)
    if not streams:
        print(f"marketsim: no stream of the export matches {args.streams!r}", file=sys.stderr)
        return None
    return score(truth["windows"], detections, start, end, streams, args.calendar)


def _chosen(names: list[str], raw: str | None) -> list[str]:
    """The names matching a comma-separated list of names or `domain.*` patterns."""
    if not raw:
        return names
    wanted = [part.strip() for part in raw.split(",") if part.strip()]
    return [n for n in names if any(n == w or (w.endswith(".*") and n.startswith(w[:-1]))
                                    for w in wanted)]  # fmt: skip


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def summary(report: dict) -> str:
    """A score report in a few lines."""
    span, counts = report["timeRange"], report["detections"]
    windows, causes = report["windows"], report["causes"]
    alarms, herrings = report["falseAlarms"], report["redHerrings"]
    worst = max(alarms["byStream"].items(), key=lambda kv: kv[1]["rate"] or 0, default=(None, None))
    lines = [
        f"scored {counts['scored']} of {counts['total']} detections on {report['streams']} "
        f"streams, {span['start']} to {span['end']} (calendar: {report['calendar']})",
        f"windows  recall {_percent(windows['recall'])} ({windows['detected']}/"
        f"{windows['count']}); clear {_percent(windows['clear']['recall'])} "
        f"({windows['clear']['detected']}/{windows['clear']['count']}); visible "
        f"{_percent(windows['visible']['recall'])}; subtle "
        f"{_percent(windows['subtle']['recall'])}",
    ]
    lines += [
        f"  {kind:<10} clear {_percent(row['clear']['recall'])} "
        f"({row['clear']['detected']}/{row['clear']['count']}), all "
        f"{_percent(row['recall'])} ({row['detected']}/{row['count']})"
        for kind, row in windows["byKind"].items()
    ]
    lines += [
        f"  {shape:<10} all {_percent(row['recall'])} ({row['detected']}/{row['count']}); "
        + ", ".join(
            f"{level} {row[level]['detected']}/{row[level]['count']}"
            for level in ("clear", "visible", "subtle")
        )
        for shape, row in windows.get("byShape", {}).items()
    ]
    lines += [
        f"causes   {causes['detected']}/{causes['count']} found; with a clear window "
        f"{causes['withClearWindows']['detected']}/{causes['withClearWindows']['count']}",
        f"precision {_percent(report['precision'])}; false alarms {alarms['total']} "
        f"({_percent(alarms['rate'])} of quiet stream-hours"
        + (f"; worst {worst[0]} {_percent(worst[1]['rate'])})" if worst[0] else ")"),
        f"red herrings  {herrings['flagged']} of {herrings['unconfounded']} unconfounded "
        f"flagged; base rate {_percent(herrings['baseRate'])}",
        f"NAB score (standard profile) {report['nab']['score']}",
    ]
    return "\n".join(lines)


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
    parser(
        "benchmark",
        "lay out the detector benchmark: an anomaly of each shape and red herrings over the "
        "next simulated day",
        cmd_benchmark,
    )
    state = parser("state", "show the simulation's state in a few lines", cmd_state)
    state.add_argument("--json", action="store_true", help="print the whole state as JSON")
    templates = parser("templates", "list the external-event library's templates", cmd_templates)
    templates.add_argument("--type", help="only one category, e.g. infrastructure")
    inject = parser("inject", "inject an external event from a template", cmd_inject)
    inject.add_argument("template", help="library template id, e.g. tiktok-mention")
    inject.add_argument(
        "--at",
        help="when: ISO-8601, or from simulated now: +2h, -3d (default now); past or future",
    )
    inject.add_argument(
        "--red-herring", action="store_true", help="record it without any real effect"
    )
    modify = parser("modify", "apply a manual modifier to one stream", cmd_modify)
    modify.add_argument("stream", help="stream name, e.g. customer.app.opened")
    modify.add_argument(
        "value",
        type=float,
        nargs="?",
        help="e.g. 10 for ten times (none for --type missing, flatline or correlation-break; "
        "minutes for late, out-of-order and clock-skew; a share for duplicate)",
    )
    modify.add_argument(
        "--type",
        default="multiplier",
        choices=get_args(ManualModifierType),
        help="how the value changes the stream (default multiplier); spike to "
        "correlation-break are shaped anomalies, late to clock-skew faults of delivery "
        "(docs/anomalies)",
    )
    modify.add_argument(
        "--sigma",
        type=float,
        help="instead of a value (multiplier, spike, trend): the change in the stream's own "
        "standard deviations at that hour, e.g. 4, or -3 for a dip",
    )
    modify.add_argument(
        "--for",
        dest="for_",
        type=duration,
        default="PT1H",
        help="how long: 2h, 90m, 1h30m, 1d, or ISO-8601 such as PT2H (default 1h)",
    )
    end = parser("end-modifier", "end a manual modifier now", cmd_end_modifier)
    end.add_argument("id", help="the modifier's id, e.g. mod-12 (marketsim state lists them)")
    clock = parser("clock", "show the simulated clock, or set its speed", cmd_clock)
    clock.add_argument(
        "speed", nargs="?", type=float, help="simulated seconds per wall second, e.g. 60"
    )
    export = parser(
        "export", "write a labelled dataset: hourly series (CSV) and ground truth", cmd_export
    )
    export.add_argument("--labels", required=True, metavar="DIR", help="the folder to write")
    _range_arguments(export)
    score = parser("score", "score a detector's findings against the ground truth", cmd_score)
    score.add_argument(
        "detections", help="JSON: a list of {stream, timestamp, score?} (or {detections: [...]})"
    )
    score.add_argument(
        "--labels", metavar="DIR", help="score against this export, offline (default: the service)"
    )
    score.add_argument("--min-score", type=float, help="leave out detections scored lower")
    score.add_argument("--json", action="store_true", help="print the whole report as JSON")
    _range_arguments(score)


def _range_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--start", help="ISO-8601 (default: the service's or the export's range)")
    sub.add_argument("--end", help="ISO-8601 (default: now, or the export's end)")
    sub.add_argument("--streams", help="comma-separated names or domain.* (default: all)")
    sub.add_argument(
        "--calendar",
        choices=("expected", "anomaly"),
        default="expected",
        help="the academic calendar's windows: expected behaviour (default) or targets",
    )
