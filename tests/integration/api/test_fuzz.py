"""A bounded schemathesis run against /api/openapi.json with every check that applies: whatever
it sends, valid or not, no 5xx, every status, header and body as documented, every error in
the JSON error shape, what the schema forbids refused, and what it allows accepted, except
where a rule spans several inputs and no schema can say it (`CROSS_FIELD_RULES`)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    ensure_resource_availability,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
    use_after_free,
)

from app.api.schemas import Error

EXAMPLES_PER_OPERATION = 15
CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    allow_header_conformance,
    negative_data_rejection,
    missing_required_header,
    unsupported_method,
    ignored_auth,
    use_after_free,
    ensure_resource_availability,
]
CROSS_FIELD_RULES = {
    "GET /api/events": "range is not given with start or end; start comes before end",
    "GET /api/ground-truth": "range is not given with start or end; start comes before end",
    "GET /api/ground-truth/deliveries": "range is not given with start or end; start comes "
    "before end",
    "GET /api/simulation/history": "range not with start/end; start before end; 60 days at most",
    "GET /api/simulation/diff": "range not with start/end; start before end; 60 days at most",
    "POST /api/events": "a template, or type, title and expectedImpact; a time within 60 days",
    "POST /api/simulation/modifiers": "a value but for missing; a chain stream takes only a "
    "multiplying type; each type its own durations (30 days at most)",
    "POST /api/ground-truth/score": "start before end; each detection's time is readable",
}
"""Where the server refuses some requests the schema allows (API.md says so): the check that
schema-valid data is accepted is left out for these operations alone."""


def _answers_as_documented(case) -> None:
    response = case.call()
    where = f"{case.method} {case.formatted_path} {case.query or ''} {case.body!r:.300}"
    assert response.status_code < 500, f"{where}: {response.text}"
    if response.status_code >= 400:
        Error.model_validate(response.json())
    checks = list(CHECKS)
    if case.operation.label not in CROSS_FIELD_RULES:
        checks.append(positive_data_acceptance)
    case.validate_response(response, checks=checks)


@pytest.mark.slow
@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda mode: mode.value)
def test_the_api_answers_every_generated_request_as_documented(seeded_store, seeded_database, mode):
    """schemathesis' pytest integration does not run under pytest 9, so each operation's
    strategy is driven with hypothesis directly (still bounded and derandomized)."""
    from app.settings import Settings
    from app.web import create_app

    app = create_app(
        Settings(database_url=seeded_database, control_rate_limit=0, check_responses=True),
        store=seeded_store,
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
