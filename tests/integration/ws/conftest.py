"""Fixtures for the feed's integration tests: a served app with a hub of short timings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.integration.ws.feedclient import FeedServer, serve

QUICK = {
    "ping_interval": None,
    "stale_timeout": 60.0,
    "batch_window": 0.05,
    "poll_interval": 0.2,
    "send_timeout": 2.0,
}


@pytest.fixture
def feed_server(app, store, database_url) -> Iterator[Callable[..., FeedServer]]:
    """A factory: `feed_server(**options)` serves the app with a fresh hub of those options
    (short timings by default) on a free port. A second call serves a second app, with its
    own hub, as a second web process would."""
    from app.extensions import catalog
    from app.settings import Settings
    from app.web import create_app
    from app.ws import FeedOptions, Hub

    running: list[FeedServer] = []

    def start(**options: Any) -> FeedServer:
        served = app if not running else create_app(Settings(database_url=database_url), store)
        with served.app_context():
            the_catalog = catalog()
        hub = Hub(store, the_catalog, FeedOptions(**{**QUICK, **options}))
        server = serve(served, hub)
        running.append(server)
        return server

    yield start
    for server in running:
        server.stop()
