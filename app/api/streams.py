"""The stream catalog: what every stream is, where it comes from and where it leads."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from app.api import bp
from app.api.errors import ApiError
from app.api.openapi import documented
from app.api.params import query
from app.api.schemas import StreamDetail, StreamFilter, StreamList
from app.domain.catalog import Catalog, Edge, Stream
from app.extensions import catalog


def _summary(stream: Stream, catalog_: Catalog) -> dict[str, Any]:
    return {
        "name": stream.name,
        "domain": stream.domain,
        "description": stream.description,
        "shape": stream.shape,
        "cadence": stream.cadence,
        "frequencyGroup": f"{stream.cadence}-frequency",
        "unit": stream.unit,
        "metric": stream.metric,
        "aggregation": stream.aggregation,
        "model": catalog_.baseline(stream.name).model,
    }


def _rule(edge: Edge) -> dict[str, Any]:
    return {
        "rule": edge.rule_id,
        "kind": edge.kind,
        "from": edge.source,
        "to": edge.target,
        "probability": edge.probability,
    }


@bp.get("/streams")
@documented(tag="streams", query=StreamFilter, responses={200: StreamList})
def list_streams() -> Response:
    """Every stream with its domain, cadence group, unit and description (filterable)."""
    catalog_ = catalog()
    chosen = query(StreamFilter)
    domain, cadence = chosen.domain, chosen.cadence
    streams = [
        _summary(stream, catalog_)
        for stream in catalog_.streams.values()
        if (domain is None or stream.domain == domain)
        and (cadence is None or stream.cadence == cadence)
    ]
    return jsonify({"count": len(streams), "streams": streams})


@bp.get("/streams/<name>")
@documented(tag="streams", responses={200: StreamDetail}, errors=(404,))
def get_stream(name: str) -> Response:
    """One stream in full: its event fields, baseline model and the rules in and out."""
    catalog_ = catalog()
    if name not in catalog_.streams:
        raise ApiError(
            404,
            "unknown_stream",
            f"there is no stream named '{name}'",
            "GET /api/streams lists every stream name",
        )
    stream = catalog_.stream(name)
    body = _summary(stream, catalog_) | {
        "bounds": stream.bounds.model_dump(mode="json", by_alias=True, exclude_none=True),
        "fields": {
            field: spec.model_dump(mode="json", by_alias=True, exclude_none=True)
            for field, spec in stream.fields.items()
        },
        "baseline": catalog_.baseline(name).model_dump(
            mode="json", by_alias=True, exclude_none=True
        ),
        "causedBy": [_rule(edge) for edge in catalog_.edges_into(name)],
        "causes": [_rule(edge) for edge in catalog_.edges if edge.source == name],
    }
    if stream.shape == "entity":
        body["expectedPerDay"] = round(catalog_.expected_daily_volume(name), 1)
    return jsonify(body)
