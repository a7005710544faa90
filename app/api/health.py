"""Liveness and readiness, for people and for the platform's health check."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from app.api.openapi import documented
from app.api.schemas import Health, Readiness
from app.extensions import simulation, store
from app.store.migrations import readiness

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@documented(tag="operations", responses={200: Health})
def healthz() -> Response:
    """The process is up and answering."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
@documented(tag="operations", responses={200: Readiness, 503: Readiness})
def readyz() -> tuple[Response, int]:
    """The database answers and its schema is at the code's head revision (and the read
    replica too, when there is one). Once it is, the body also says whether live generation
    is catching up (it serves meanwhile)."""
    state = readiness(store().engine)
    replica = store().read_engine
    if state.ready and replica is not None:
        state = readiness(replica, role="read replica")
    body = {
        "status": "ready" if state.ready else "not_ready",
        "reason": state.reason,
        "revision": state.revision,
        "head": state.head,
    }
    if state.ready:
        body["generation"] = simulation().generation_progress().to_json()
    return jsonify(body), 200 if state.ready else 503
