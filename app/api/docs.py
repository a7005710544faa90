"""The OpenAPI document and a page that reads it, both served by the app (no CDN)."""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from flask import Response, current_app, jsonify, render_template

from app.api import bp
from app.api.openapi import build_document, with_catalog_values
from app.extensions import catalog, settings


def _version() -> str:
    try:
        return version("marketsim")
    except PackageNotFoundError:
        return "0.0.0"


def document() -> dict[str, Any]:
    """The document for this app, built once per app (the routes do not change)."""
    cached = current_app.extensions.get("marketsim.openapi")
    if cached is None:
        catalog_ = catalog()
        cached = with_catalog_values(
            build_document(
                current_app, version=_version(), auth_required=settings().admin_token is not None
            ),
            streams=list(catalog_.streams),
            scenarios=list(catalog_.scenarios),
            templates=list(catalog_.templates),
        )
        current_app.extensions["marketsim.openapi"] = cached
    return cached


@bp.get("/openapi.json")
def openapi_json() -> Response:
    """The OpenAPI 3.1 document of this API."""
    return jsonify(document())


@bp.get("/docs")
def docs_page() -> str:
    """The API reference as a page: every operation with its parameters, body, responses
    and the schemas they use."""
    doc = document()
    return render_template(
        "api/docs.html",
        doc=doc,
        by_tag=_by_tag(doc),
        schema_json={name: json.dumps(schema, indent=2) for name, schema in _schemas(doc)},
    )


def _by_tag(doc: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    tags: dict[str, list[dict[str, Any]]] = {}
    for path, methods in doc["paths"].items():
        for method, operation in methods.items():
            tags.setdefault(operation["tags"][0], []).append(
                {"method": method.upper(), "path": path, **operation}
            )
    return tags


def _schemas(doc: dict[str, Any]) -> list[tuple[str, Any]]:
    return sorted(doc["components"]["schemas"].items())
