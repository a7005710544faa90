"""A bounded schemathesis run against /api/openapi.json: whatever it sends, valid or not,
no 5xx, every status and body as documented, and every error in the JSON error shape."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.api.schemas import Error

EXAMPLES_PER_OPERATION = 15
CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]


def _answers_as_documented(case) -> None:
    response = case.call()
    where = f"{case.method} {case.formatted_path} {case.query or ''} {case.body!r:.300}"
    assert response.status_code < 500, f"{where}: {response.text}"
    if response.status_code >= 400:
        Error.model_validate(response.json())
    case.validate_response(response, checks=CHECKS)


@pytest.mark.slow
@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda mode: mode.value)
def test_the_api_answers_every_generated_request_as_documented(seeded_store, seeded_database, mode):
    """schemathesis' pytest integration does not run under pytest 9, so each operation's
    strategy is driven with hypothesis directly (still bounded and derandomized)."""
    from app.settings import Settings
    from app.web import create_app

    app = create_app(
        Settings(database_url=seeded_database, control_rate_limit=0), store=seeded_store
    )
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 18

    exercised = []
    for operation in operations:
        if mode is GenerationMode.NEGATIVE and not _has_inputs(operation):
            continue

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case) -> None:
            _answers_as_documented(case)

        try:
            run()
        except Unsatisfiable:
            # Negative mode cannot break a free-text-only input; positive mode never lands here.
            assert mode is GenerationMode.NEGATIVE, operation.label
            continue
        exercised.append(operation.label)

    assert len(exercised) >= (18 if mode is GenerationMode.POSITIVE else 6), exercised


def _has_inputs(operation) -> bool:
    """Negative cases need something to break: a parameter or a body."""
    definition = operation.definition.raw
    return bool(definition.get("parameters") or definition.get("requestBody"))
