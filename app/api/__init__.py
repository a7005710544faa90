"""The JSON API under /api."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api", template_folder="templates")

from app.api import docs, events, scenarios, simulation, streams  # noqa: E402, F401  (routes on bp)
