"""The JSON API under /api."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")

from app.api import simulation, streams  # noqa: E402, F401  (their routes register on bp)
