"""JSON Schemas of the config files, generated from the models and checked in under
config/schemas/ so that an editor documents and validates the config as it is typed."""

import json
from pathlib import Path
from typing import Any

from pydantic.json_schema import GenerateJsonSchema

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
from .library import LibraryFile
from .relationships import RelationshipsFile
from .scenarios import ScenariosFile
from .streams import StreamsFile

MODELS: dict[str, type[ConfigModel]] = {
    STREAMS_FILE: StreamsFile,
    METRICS_FILE: BaselineMetrics,
    CADENCES_FILE: CadencesFile,
    RELATIONSHIPS_FILE: RelationshipsFile,
    SCENARIOS_FILE: ScenariosFile,
    LIBRARY_FILE: LibraryFile,
}
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


class _ConfigSchema(GenerateJsonSchema):
    """Pydantic's generator without the per-property titles (the camelCase key says it)."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def json_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of each config file, keyed by the config file's name ("streams.json")."""
    schemas = {}
    for file, model in MODELS.items():
        schema = model.model_json_schema(by_alias=True, schema_generator=_ConfigSchema)
        schemas[file] = {"$schema": JSON_SCHEMA_DIALECT, **schema}
    return schemas


def schema_path(config_dir: Path, config_file: str) -> Path:
    """Where the schema of `config_file` lives: config/schemas/<name>.schema.json."""
    return (config_dir / schema_ref(config_file)).resolve()


def render_schema(schema: dict[str, Any]) -> str:
    """Deterministic text of a schema: stable key order, 2-space indent, trailing newline."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write_schemas(config_dir: Path) -> list[Path]:
    """(Re)write config/schemas/*.schema.json from the models; returns the paths written."""
    written = []
    for file, schema in json_schemas().items():
        path = schema_path(config_dir, file)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_schema(schema), encoding="utf-8")
        written.append(path)
    return written
