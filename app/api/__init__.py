"""The JSON API under /api."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")

from app.api import events, scenarios, simulation, streams  # noqa: E402, F401  (routes on bp)
