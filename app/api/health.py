"""Liveness and readiness, for people and for the platform's health check."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from app.api.openapi import documented
from app.api.schemas import Health, Readiness
from app.extensions import store
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
    """The database answers and its schema is at the code's head revision."""
    state = readiness(store().engine)
    body = {
        "status": "ready" if state.ready else "not_ready",
        "reason": state.reason,
        "revision": state.revision,
        "head": state.head,
    }
    return jsonify(body), 200 if state.ready else 503
