"""The admin console (`/admin`) and the data inspector (`/inspect`): server-rendered shells.

The pages hold no data of their own: their ES modules (static/) read everything from the
JSON API and the `/ws` feed, so what an operator sees is exactly what a client of the API
would get. The assets are served by the app itself (no CDN): the console works offline.
"""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint(
    "admin",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/admin/static",
)


@bp.get("/admin")
def console() -> str:
    """Simulation control: state, scenarios, clock, injections, saved scenarios."""
    return render_template("admin/console.html", page="admin", script="admin.js")


@bp.get("/inspect")
def inspector() -> str:
    """Streams, timelines with anomalies and external events, live tail, statistics."""
    return render_template("admin/inspect.html", page="inspect", script="inspector.js")
