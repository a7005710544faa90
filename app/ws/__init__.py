"""The live WebSocket feed at `/ws`: topics, snapshots, exact resume, batched live events.

    hub = ws.init_app(app, store, catalog)     # in create_app; the hub starts lazily
    hub.start()                                # or at once (gunicorn.conf.py does, per worker)

Layout: `topics`, `protocol`, `policy`, `buffer`, `resume` and `mailbox` are pure (no Flask,
no database) and unit-tested alone; `hub` tails the log and fans out; `session` serves one
client; `routes` is the flask-sock route; `watch` is the terminal client. API.md documents
the protocol.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask

from app import extensions
from app.ws.hub import FeedOptions, Hub

if TYPE_CHECKING:
    from app.domain.catalog import Catalog
    from app.store import Store

__all__ = ["FeedOptions", "Hub", "init_app", "install"]


def init_app(app: Flask, store: Store, catalog: Catalog, options: FeedOptions | None = None) -> Hub:
    """Register `/ws` and attach a hub (not started: it starts on the first connection)."""
    from app.ws.routes import bp

    hub = Hub(store, catalog, options)
    install(app, hub)
    app.register_blueprint(bp)
    return hub


def install(app: Flask, hub: Hub) -> None:
    """Make `hub` the one `/ws` uses (tests install one with short timings)."""
    extensions.init_feed(app, hub)
    options = dict(app.config.get("SOCK_SERVER_OPTIONS") or {})
    options["max_message_size"] = hub.options.hard_message_bytes
    app.config["SOCK_SERVER_OPTIONS"] = options
