"""External events (list, inject, measured impact), the causes of a stream, ground truth."""

from __future__ import annotations

from datetime import timedelta

from flask import Response, jsonify, request

from app.api import bp
from app.api.bodies import SCORE_BODY_BYTES, EventInjection, ScoreBody, parse
from app.api.errors import ApiError, invalid_field
from app.api.openapi import documented
from app.api.params import body_time, parse_streams, query, time_range
from app.api.schemas import (
    Causes,
    Deliveries,
    DeliveriesParams,
    EventList,
    GroundTruth,
    Impact,
    Injected,
    RangeParams,
    ScoreReport,
    TemplateList,
    TemplateParams,
    TruthParams,
)
from app.domain.commands import external_record
from app.domain.impacts import expected_impact_json, template_json
from app.domain.scoring import DetectionError, read_detections, score
from app.domain.timerange import iso
from app.extensions import simulation
from app.services.scenarios import inject
from app.services.truth import causes, deliveries, ground_truth, impact

MAX_OFFSET = timedelta(days=60)


@bp.get("/events")
@documented(tag="events", query=RangeParams, responses={200: EventList}, errors=(503,))
def list_events() -> Response:
    """External events of a range (default: the last 30 days), baseline and logged."""
    sim = simulation()
    start, end = time_range(query(RangeParams), sim.now(), timedelta(days=30))
    events = sim.events_between(sim.state(), start, end)
    return jsonify(
        {
            "timeRange": {"start": iso(start), "end": iso(end)},
            "count": len(events),
            "events": events,
        }
    )


@bp.get("/events/templates")
@documented(tag="events", query=TemplateParams, responses={200: TemplateList})
def list_templates() -> Response:
    """The external-event library: each template's id (what POST /api/events takes), category,
    severity and expected impact, and how often the baseline's occurrences are causal."""
    catalog = simulation().catalog
    category = query(TemplateParams).type
    if category is None:
        chosen = tuple(catalog.templates.values())
    else:
        chosen = catalog.templates_of_type(category)
    templates = [
        {**template_json(template, catalog), "causalProbability": template.causal_probability}
        for template in chosen
    ]
    return jsonify({"count": len(templates), "templates": templates})


@bp.post("/events")
@documented(tag="events", body=EventInjection, responses={201: Injected}, errors=(429, 503))
def inject_event() -> tuple[Response, int]:
    """Inject an external event from a library template or custom fields, now, in the past
    (history then changes) or in the future (recorded when its time comes)."""
    body = parse(EventInjection)
    sim = simulation()
    catalog = sim.catalog
    now = sim.now()
    at = body_time("timestamp", body.timestamp, now) if body.timestamp else now
    if abs(at - now) > MAX_OFFSET:
        raise invalid_field(
            "timestamp", "more than 60 days from now", "inject within 60 days of the simulated now"
        )
    if body.template is not None:
        if body.template not in catalog.templates:
            raise invalid_field(
                "template",
                f"unknown template '{body.template}'",
                f"use one of: {', '.join(catalog.templates)}",
            )
        record = external_record(
            catalog,
            body.template,
            at,
            title=body.title,
            description=body.description,
            actual=body.actual_impact,
        )
    else:
        record = external_record(catalog, None, at, actual=body.actual_impact, custom=_custom(body))
    return jsonify({"success": True, "event": inject(sim, record, at, now)}), 201


def _custom(body: EventInjection) -> dict:
    missing = [
        name
        for name, value in (
            ("type", body.type),
            ("title", body.title),
            ("expectedImpact", body.expected_impact),
        )
        if value is None
    ]
    if missing:
        raise invalid_field(
            missing[0],
            "required for a custom event (no template given)",
            "give a template, or type, title and expectedImpact",
        )
    catalog = simulation().catalog
    impacts = body.expected_impact
    for i, item in enumerate(impacts.streams):
        if item.stream not in catalog.streams:
            raise invalid_field(
                f"expectedImpact.streams.{i}.stream",
                f"unknown stream '{item.stream}'",
                "GET /api/streams lists the names",
            )
    if impacts.duration <= timedelta(0):
        raise invalid_field("expectedImpact.duration", "must be longer than zero", 'e.g. "PT6H"')
    return {
        "type": body.type,
        "template": None,
        "title": body.title,
        "description": body.description or body.title,
        "severity": body.severity or "info",
        "icon": body.icon or "zap",
        "expectedImpact": expected_impact_json(impacts, catalog),
    }


@bp.get("/events/<event_id>/impact")
@documented(tag="events", responses={200: Impact}, errors=(404, 503))
def event_impact(event_id: str) -> Response:
    """Which streams really moved in the event's window, and how strongly."""
    return jsonify(impact(simulation(), event_id))


@bp.get("/streams/<name>/causes")
@documented(tag="events", responses={200: Causes}, errors=(404, 503))
def stream_causes(name: str) -> Response:
    """The events, scenarios and modifiers that acted on a stream."""
    if name not in simulation().catalog.streams:
        raise ApiError(
            404,
            "unknown_stream",
            f"there is no stream named '{name}'",
            "GET /api/streams lists every stream name",
        )
    return jsonify(causes(simulation(), name))


@bp.get("/ground-truth")
@documented(tag="events", query=TruthParams, responses={200: GroundTruth}, errors=(503,))
def truth() -> Response:
    """Every cause of the range with its labelled windows per stream: where it moved the
    stream's expectation, by how much, how visible that is, and what the data shows."""
    params = query(TruthParams)
    start, end = time_range(params, simulation().now(), timedelta(days=7))
    streams = parse_streams("streams", params.streams, simulation().catalog)
    return jsonify(ground_truth(simulation(), start, end, streams))


@bp.get("/ground-truth/deliveries")
@documented(tag="events", query=DeliveriesParams, responses={200: Deliveries})
def truth_of_deliveries() -> Response:
    """The events that faults of delivery acted on (late, out of order, duplicated, skewed),
    each with what really happened: when it occurred and arrived, what its stamp said, the
    original a duplicate repeats."""
    params = query(DeliveriesParams)
    start, end = time_range(params, simulation().now(), timedelta(days=7))
    streams = parse_streams("streams", params.streams, simulation().catalog)
    return jsonify(
        deliveries(simulation(), start, end, streams, after=params.after, limit=params.limit)
    )


@bp.post("/ground-truth/score")
@documented(
    tag="events", body=ScoreBody, responses={200: ScoreReport}, errors=(503,), read_only=True
)
def score_detections() -> Response:
    """Score a detector's findings (stream and time each) against the ground truth of the
    range: recall per window and cause, precision, false alarms, red herrings, NAB score.
    A read: it changes nothing and needs no token."""
    request.max_content_length = SCORE_BODY_BYTES
    body = parse(ScoreBody)
    sim = simulation()
    now = sim.now()
    end = body_time("end", body.end, now) if body.end else now
    start = body_time("start", body.start, now) if body.start else end - timedelta(days=7)
    if start >= end:
        raise invalid_field("start", "must be before end", "swap them")
    streams = parse_streams("streams", body.streams, sim.catalog)
    try:
        detections = read_detections(
            {"detections": [d.model_dump(exclude_none=True) for d in body.detections]},
            body.min_score,
        )
    except DetectionError as exc:
        raise invalid_field("detections", str(exc), "see API.md, Scoring") from None
    windows = ground_truth(sim, start, end, streams)["windows"]
    return jsonify(score(windows, detections, start, end, streams, body.calendar))
