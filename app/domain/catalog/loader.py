"""load_catalog: read the six config files, validate each and across files, build the Catalog.

Problems in streams, metrics, cadences, relationships or the event library are fatal: the
loader raises ConfigError with every problem it found. A scenario with problems is reported in
`Catalog.problems` and skipped; the other scenarios load and the service runs.
"""

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from ._base import (
    CADENCES_FILE,
    LIBRARY_FILE,
    METRICS_FILE,
    RELATIONSHIPS_FILE,
    SCENARIOS_FILE,
    STREAMS_FILE,
    ConfigModel,
    schema_ref,
)
from .baseline_metrics import BaselineMetrics
from .cadences import CadencesFile
from .catalog import Catalog, effects_by_stream
from .checks import check_cadences, check_library, check_metrics, check_streams
from .flow import compute_flow
from .library import EventTemplate, LibraryFile
from .problems import ConfigError, ConfigProblem, Section, problems_from_validation_error
from .relationships import RelationshipsFile, edges
from .rule_checks import check_flow, check_rates_used, check_relationships
from .scenario_checks import check_scenario
from .scenarios import Scenario
from .streams import Stream, StreamsFile

M = TypeVar("M", bound=ConfigModel)

SECTIONS: dict[str, dict[tuple[str, ...], Section]] = {
    STREAMS_FILE: {("streams",): Section("stream", "name")},
    METRICS_FILE: {
        ("rates",): Section("rate", None),
        ("profiles",): Section("profile", None),
        ("streams",): Section("stream baseline", None),
        ("calendar", "periods"): Section("calendar period", "id"),
    },
    CADENCES_FILE: {("groups",): Section("cadence group", None)},
    RELATIONSHIPS_FILE: {
        ("chains",): Section("chain", "id"),
        ("cascades",): Section("cascade", "id"),
        ("couplings",): Section("coupling", "id"),
        ("capacities",): Section("capacity", "id"),
        ("dependencies",): Section("dependency", "id"),
    },
    LIBRARY_FILE: {("templates",): Section("template", "id")},
}


def load_catalog(config_dir: Path) -> Catalog:
    """Load and validate config/; raise ConfigError listing every fatal problem."""
    problems: list[ConfigProblem] = []
    streams_file = _parse(config_dir, STREAMS_FILE, StreamsFile, problems)
    metrics = _parse(config_dir, METRICS_FILE, BaselineMetrics, problems)
    cadences = _parse(config_dir, CADENCES_FILE, CadencesFile, problems)
    relationships = _parse(config_dir, RELATIONSHIPS_FILE, RelationshipsFile, problems)
    library = _parse(config_dir, LIBRARY_FILE, LibraryFile, problems)
    if problems:
        raise ConfigError(problems)
    assert streams_file and metrics and cadences and relationships and library

    streams = {stream.name: stream for stream in streams_file.streams}
    rules = tuple(edges(relationships))
    problems += check_streams(streams_file)
    problems += check_cadences(cadences, streams)
    problems += check_metrics(metrics, streams)
    problems += check_relationships(relationships, rules, streams, metrics)
    problems += check_library(library, streams)
    problems += check_rates_used(metrics, rules, relationships)
    if problems:
        raise ConfigError(problems)
    flow = compute_flow(streams, metrics.streams, metrics.profiles, metrics.rates, rules)
    problems += check_flow(flow, metrics)
    if problems:
        raise ConfigError(problems)

    templates = {template.id: template for template in library.templates}
    scenarios, skipped = _load_scenarios(
        config_dir, streams, metrics, templates, effects_by_stream(rules)
    )
    return Catalog.build(
        streams=streams_file.streams,
        cadences=cadences.groups,
        metrics=metrics,
        relationships=relationships,
        magnitudes=library.magnitudes,
        templates=library.templates,
        scenarios=scenarios,
        problems=skipped,
        flow=flow,
        edges=rules,
    )


def _read_json(path: Path, file: str) -> tuple[Any, list[ConfigProblem]]:
    """The parsed JSON (None if unreadable) and its problems, duplicate keys included."""
    repeated: list[str] = []

    def keep_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        counts = Counter(key for key, _ in pairs)
        repeated.extend(key for key, count in counts.items() if count > 1)
        return dict(pairs)

    try:
        text = path.read_text(encoding="utf-8")
        raw = json.loads(text, object_pairs_hook=keep_pairs)
    except FileNotFoundError:
        return None, [ConfigProblem(file, "", "", f"file not found: {path}")]
    except json.JSONDecodeError as error:
        message = f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        return None, [ConfigProblem(file, "", "", message)]
    problems = [
        ConfigProblem(file, "", "", f"key '{key}' appears twice in one object; JSON keeps the last")
        for key in repeated
    ]
    return raw, problems


def _parse(config_dir: Path, file: str, model: type[M], problems: list[ConfigProblem]) -> M | None:
    """Validate one fatal file against its model; append what is wrong to `problems`."""
    raw, found = _read_json(config_dir / file, file)
    problems += found
    if raw is None:
        return None
    try:
        parsed = model.model_validate_json(json.dumps(raw))
    except ValidationError as error:
        problems += problems_from_validation_error(file, raw, error, SECTIONS[file])
        return None
    problems += _schema_ref_problems(file, raw)
    return parsed


def _schema_ref_problems(file: str, raw: Any) -> list[ConfigProblem]:
    expected = schema_ref(file)
    if isinstance(raw, dict) and raw.get("$schema") == expected:
        return []
    return [ConfigProblem(file, "", "$schema", f"expected '{expected}' (the file's JSON Schema)")]


def _load_scenarios(
    config_dir: Path,
    streams: dict[str, Stream],
    metrics: BaselineMetrics,
    templates: dict[str, EventTemplate],
    effects_of: Mapping[str, Sequence[str]],
) -> tuple[list[Scenario], list[ConfigProblem]]:
    """The valid scenarios, and the problems of the ones skipped."""
    raw, problems = _read_json(config_dir / SCENARIOS_FILE, SCENARIOS_FILE)
    items = _scenario_items(raw, problems)
    scenarios: list[Scenario] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        name = item.get("id") if isinstance(item, dict) else None
        entry = f"scenario '{name}'" if isinstance(name, str) else f"scenario #{index}"
        try:
            scenario = Scenario.model_validate_json(json.dumps(item))
        except ValidationError as error:
            problems += problems_from_validation_error(SCENARIOS_FILE, item, error, {}, entry)
            continue
        found = check_scenario(scenario, streams, metrics, templates, effects_of)
        if scenario.id in seen:
            found.append(ConfigProblem(SCENARIOS_FILE, entry, "id", "duplicate scenario id"))
        problems += found
        if not found:
            scenarios.append(scenario)
            seen.add(scenario.id)
    return scenarios, problems


def _scenario_items(raw: Any, problems: list[ConfigProblem]) -> list[Any]:
    """The list of scenario objects, reporting a malformed envelope."""
    if raw is None:
        return []
    if not isinstance(raw, dict) or not isinstance(raw.get("scenarios"), list):
        message = "expected an object with a list 'scenarios'"
        problems.append(ConfigProblem(SCENARIOS_FILE, "", "scenarios", message))
        return []
    for key in sorted(raw.keys() - {"$schema", "scenarios"}):
        message = "unknown key, not part of the schema (check the spelling)"
        problems.append(ConfigProblem(SCENARIOS_FILE, "", key, message))
    problems += _schema_ref_problems(SCENARIOS_FILE, raw)
    return raw["scenarios"]
