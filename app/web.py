"""The web application: `create_app()` builds it (gunicorn runs `app.web:create_app()`)."""

from __future__ import annotations

import logging

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app import auth, extensions, ws
from app.admin import bp as admin_bp
from app.api import bp as api_bp
from app.api import ratelimit
from app.api.bodies import MAX_BODY_BYTES
from app.api.errors import register_error_handlers
from app.api.health import bp as health_bp
from app.api.openapi import check_responses
from app.domain.catalog import load_catalog
from app.observability.metrics import bp as observability_bp
from app.services import Simulation
from app.services.clock import WallClock, system_wall
from app.settings import Settings, SettingsError
from app.store import Store
from app.ws import FeedOptions

app_log = logging.getLogger("marketsim")


def create_app(
    settings: Settings | None = None, store: Store | None = None, wall: WallClock = system_wall
) -> Flask:
    """Build the web application.

    `settings` default to the environment; the database must be named (`DATABASE_URL`):
    `marketsim run` starts an embedded Postgres and passes its URL here.
    """
    settings = settings or Settings.from_env()
    if store is None:
        if not settings.database_url:
            raise SettingsError("DATABASE_URL is not set; `marketsim run` starts Postgres itself")
        store = Store.connect(settings.database_url, settings.database_read_url)
    catalog = load_catalog(settings.config_dir)
    for problem in catalog.problems:
        app_log.warning("config: %s (scenario skipped)", problem)
    app = Flask(__name__)
    if settings.proxy_hops:
        app.wsgi_app = ProxyFix(
            app.wsgi_app,
            x_for=settings.proxy_hops,
            x_proto=settings.proxy_hops,
            x_host=settings.proxy_hops,
        )
    app.json.sort_keys = False
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    simulation = Simulation(store, catalog, settings.sim_seed, wall=wall)
    simulation.try_load_baseline()
    extensions.init_app(app, settings, simulation)
    register_error_handlers(app)
    if settings.check_responses:
        check_responses(app)
    ratelimit.init_app(app, settings.control_rate_limit, key=auth.caller_key)
    auth.init_app(app, settings)
    app.register_blueprint(health_bp)
    app.register_blueprint(observability_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(admin_bp)
    ws.init_app(
        app, simulation.store, catalog, FeedOptions(buffer_events=settings.feed_buffer_events)
    )
    return app
