"""The OpenAPI 3.1 document of the REST API, built from the views' own models.

A view declares what it reads and answers with `@documented(...)`: its query-parameter
model, its body model (the one `parse()` validates with) and its response models. The
document is built from the application's URL map, so a route without `@documented` is
simply not in it, and a test checks that every `/api` route is. With `CHECK_RESPONSES` on
(every test runs so), each JSON answer is validated against the model its view documents for
its status (`Error` for an error) before it leaves: the models are the answers' one
definition, and an answer that strays from them is a 500 that names where.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Flask, Response, current_app, jsonify, request
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from app.api.schemas import Error

View = TypeVar("View", bound=Callable[..., Any])

_REF = "#/components/schemas/{model}"
_PATH_PARAMETER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
_ERROR_MEANINGS = {
    400: "A parameter or field is invalid; the message names it",
    401: "ADMIN_TOKEN is set and the request did not carry it",
    403: "The CSRF token is missing or wrong (cookie sessions only)",
    404: "No such resource",
    409: "Refused in the current state (e.g. a scenario is already active)",
    413: "The request body is too large",
    415: "The body is not JSON",
    429: "Too many control requests; retry after the Retry-After header's seconds",
    503: "The baseline is not seeded yet, or the database is not ready",
}


@dataclass(frozen=True)
class Operation:
    """What one view reads and answers."""

    tag: str
    responses: Mapping[int, type[BaseModel]]
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    content_type: str = "application/json"
    description: str = field(default="", compare=False)
    read_only: bool = False
    """A POST that changes nothing (its input is too big for a query string): no token."""


def documented(
    *,
    tag: str,
    responses: Mapping[int, type[BaseModel]],
    query: type[BaseModel] | None = None,
    body: type[BaseModel] | None = None,
    errors: tuple[int, ...] = (),
    read_only: bool = False,
) -> Callable[[View], View]:
    """Attach an `Operation` to a view; its docstring becomes the summary and description."""

    def attach(view: View) -> View:
        view.openapi = Operation(  # type: ignore[attr-defined]
            tag=tag,
            responses=responses,
            query=query,
            body=body,
            errors=errors,
            description=inspect.getdoc(view) or "",
            read_only=read_only,
        )
        return view

    return attach


def check_responses(app: Flask) -> None:
    """Validate each JSON answer of a documented view against the model documented for its
    status; an error status documented with none answers in the `Error` shape."""
    app.after_request(_checked)


def _checked(response: Response) -> Response:
    view = current_app.view_functions.get(request.endpoint or "")
    operation: Operation | None = getattr(view, "openapi", None)
    if operation is None or not response.is_json:
        return response
    status = response.status_code
    model = operation.responses.get(status) or (Error if status >= 400 else None)
    where = f"{request.method} {request.path} answered {status}"
    if model is None:
        return _stray(f"{where}, a status its documentation does not list")
    try:
        model.model_validate(response.get_json())
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(part) for part in first["loc"]) or "the body"
        return _stray(f"{where} not in the shape of {model.__name__}: {path}: {first['msg']}")
    return response


def _stray(message: str) -> Response:
    current_app.logger.error("undocumented answer: %s", message)
    hint = "the view and its documented model (app/api/schemas.py) disagree: mend one"
    error = {"code": "undocumented_response", "message": message, "hint": hint}
    response = jsonify({"error": error})
    response.status_code = 500
    return response


def operations(app: Flask) -> list[tuple[str, str, Operation, str]]:
    """(method, OpenAPI path, operation, endpoint) for every documented route of `app`."""
    found = []
    for rule in app.url_map.iter_rules():
        operation = getattr(app.view_functions[rule.endpoint], "openapi", None)
        if operation is None:
            continue
        path = _PATH_PARAMETER.sub(r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((method, path, operation, rule.endpoint))
    return sorted(found, key=lambda item: (item[1], item[0]))


def build_document(app: Flask, *, version: str, auth_required: bool) -> dict[str, Any]:
    """The whole document: paths from the URL map, components from the models."""
    found = operations(app)
    schemas = _component_schemas(found)
    paths: dict[str, dict[str, Any]] = {}
    for method, path, operation, endpoint in found:
        paths.setdefault(path, {})[method.lower()] = _operation(
            method, path, operation, endpoint, schemas.refs, auth_required
        )
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "marketsim: the marketplace stream simulator",
            "version": version,
            "description": (
                "A simulated online tutoring marketplace: 50+ streams, a 30-day baseline, "
                "scenarios and external events with ground truth, on a Postgres event log. "
                "The live feed is a WebSocket at /ws (see API.md)."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": schemas.definitions,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "ADMIN_TOKEN; required on mutating endpoints when set",
                }
            },
        },
    }
    return document


def with_catalog_values(
    document: dict[str, Any],
    *,
    streams: list[str],
    scenarios: list[str],
    templates: list[str],
) -> dict[str, Any]:
    """Name the values this deployment's config allows (stream names, scenario ids, event
    templates) as enums, so that a reader and a fuzzer both see the real choices."""
    schemas = document["components"]["schemas"]
    stream_list = _stream_list_pattern(streams)
    choices = {
        ("ManualModifierBody", "stream"): ("enum", streams),
        ("StreamImpact", "stream"): ("enum", streams),
        ("ScenarioActivation", "scenarioId"): ("enum", scenarios),
        ("EventInjection", "template"): ("enum", templates),
        ("ScoreBody", "streams"): ("pattern", stream_list),
    }
    for (model, name), (keyword, allowed) in choices.items():
        prop = schemas.get(model, {}).get("properties", {}).get(name)
        if prop is None:
            continue
        target = next((o for o in prop.get("anyOf", []) if o.get("type") == "string"), prop)
        target[keyword] = allowed
    for methods in document["paths"].values():
        for operation in methods.values():
            for parameter in operation["parameters"]:
                if parameter["in"] == "path" and parameter["name"] == "name":
                    parameter["schema"] = {"type": "string", "enum": streams}
                if parameter["in"] == "query" and parameter["name"] == "streams":
                    parameter["schema"] = {**parameter["schema"], "pattern": stream_list}
    return document


def _stream_list_pattern(streams: list[str]) -> str:
    """A comma-separated list of stream names and `domain.*` patterns, as a regex."""
    domains = sorted({name.split(".")[0] for name in streams})
    choices = [re.escape(name) for name in streams] + [rf"{d}\.\*" for d in domains]
    item = "(" + "|".join(choices) + ")"
    return rf"^{item}(,{item})*$"


@dataclass
class _Schemas:
    refs: dict[tuple[type[BaseModel], JsonSchemaMode], dict[str, Any]]
    definitions: dict[str, Any]


def _component_schemas(found: list[tuple[str, str, Operation, str]]) -> _Schemas:
    wanted: set[tuple[type[BaseModel], JsonSchemaMode]] = {(Error, "serialization")}
    for _, _, operation, _ in found:
        if operation.body is not None:
            wanted.add((operation.body, "validation"))
        wanted.update((model, "serialization") for model in operation.responses.values())
    ordered = sorted(wanted, key=lambda item: (item[0].__name__, item[1]))
    refs, top = models_json_schema(ordered, ref_template=_REF)
    return _Schemas(refs=dict(refs), definitions=top.get("$defs", {}))


def _operation(
    method: str,
    path: str,
    operation: Operation,
    endpoint: str,
    refs: Mapping[tuple[type[BaseModel], JsonSchemaMode], dict[str, Any]],
    auth_required: bool,
) -> dict[str, Any]:
    summary, _, description = operation.description.partition("\n\n")
    body: dict[str, Any] = {
        "operationId": endpoint.replace(".", "_"),
        "tags": [operation.tag],
        "summary": " ".join(summary.split()),
        "parameters": _path_parameters(path) + _query_parameters(operation.query),
        "responses": _responses(operation, refs, mutating=_mutating(method, operation)),
    }
    if description:
        body["description"] = description
    if operation.body is not None:
        body["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(operation.body, "validation")]}},
        }
    if _mutating(method, operation):
        body["security"] = [{"bearer": []}] if auth_required else [{}, {"bearer": []}]
    return body


def _mutating(method: str, operation: Operation) -> bool:
    return method != "GET" and not operation.read_only


def is_read_only(view: Callable[..., Any] | None) -> bool:
    """Whether a view is documented as a read, whatever its method."""
    return bool(getattr(getattr(view, "openapi", None), "read_only", False))


def _path_parameters(path: str) -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{([^}]+)}", path)
    ]


def _query_parameters(model: type[BaseModel] | None) -> list[dict[str, Any]]:
    if model is None:
        return []
    schema = model.model_json_schema(ref_template=_REF)
    parameters = []
    for name, field_info in model.model_fields.items():
        wire = field_info.alias or name
        prop = dict(schema["properties"][wire])
        description = prop.pop("description", None)
        prop.pop("title", None)
        parameter: dict[str, Any] = {
            "name": wire,
            "in": "query",
            "required": field_info.is_required(),
            "schema": _without_null(prop),
        }
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """`str | None = None` is an optional parameter, not one that may be sent as null."""
    options = schema.get("anyOf")
    if options is None:
        return schema
    kept = [option for option in options if option != {"type": "null"}]
    rest = {k: v for k, v in schema.items() if k != "anyOf"}
    return {**rest, **kept[0]} if len(kept) == 1 else {**rest, "anyOf": kept}


def _responses(
    operation: Operation,
    refs: Mapping[tuple[type[BaseModel], JsonSchemaMode], dict[str, Any]],
    *,
    mutating: bool,
) -> dict[str, Any]:
    responses: dict[str, Any] = {
        str(status): {
            "description": "OK" if status < 300 else "Created",
            "content": {operation.content_type: {"schema": refs[(model, "serialization")]}},
        }
        for status, model in operation.responses.items()
        if status < 400
    }
    error = {"schema": refs[(Error, "serialization")]}
    statuses = set(operation.errors)
    if operation.query is not None or operation.body is not None:
        statuses.add(400)
    if operation.body is not None:
        statuses |= {413, 415}
    if mutating:
        statuses |= {401, 403}
    for status in sorted(statuses):
        model = operation.responses.get(status)
        schema = {"schema": refs[(model, "serialization")]} if model else error
        responses[str(status)] = {
            "description": _ERROR_MEANINGS.get(status, "Error"),
            "content": {"application/json": schema},
        }
    responses["500"] = {
        "description": "The server failed; nothing already recorded is lost",
        "content": {"application/json": error},
    }
    return responses
