"""Gunicorn for the `web` process: REST, admin pages and the WebSocket feed.

    gunicorn                         # reads this file from the working directory
    gunicorn --workers 2             # flags override it (GUNICORN_CMD_ARGS too)

The worker class is gevent, by measurement: `python -m bench.ws_load` on the 2-core
development machine, clients on the same cores, one worker, every client subscribed to `*`,
50 events/s appended in batches every 100 ms (so a frame every 100 ms to every client), 30 s
a run, machine otherwise idle (load average about 1):

    worker                          clients  p50       p99       lost  dup  worker CPU  threads
    gevent, worker_connections 1000     100    8.3 ms   32.0 ms     0    0     8%          2
    gevent                              500   28.6 ms   74.4 ms     0    0    38%          2
    gevent, 10 minutes                  500   27.7 ms   76.9 ms     0    0    39%          2
    gthread, --threads 1600             100    9.8 ms   21.9 ms     0    0    16%        304
    gthread                             500  127.8 ms  336.8 ms     0    0   115%       1504

Over the 10-minute gevent run the worker's memory stayed flat: 127.1 MB once the feed's
one-minute buffer was full, 127.5 MB at the end (+0.3%). Under gevent each client costs three
greenlets (its handler, simple-websocket's reader, the feed's message reader); under gthread
three OS threads, one of them from `--threads`, which must exceed the number of clients: a
fallback only. The sync worker's timeout kills open WebSockets (flask-sock issue #68): never.

gevent monkey-patches the standard library when the worker starts, before it imports the app
(no `preload_app`: a master that imported the app would hand its workers a psycopg that chose
its blocking, non-gevent wait function at import). So nothing here imports the web app at
module level (`app.observability.logs` is the standard library only, and the `app` package
imports nothing); the hooks import it inside the worker, and the worker logs the wait
function psycopg chose (`wait_poll` under gevent; `wait_c` would block every client on each
query).
"""

from __future__ import annotations

import os

from app.observability.logs import gunicorn_logging_config

wsgi_app = "app.web:create_app()"
bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
worker_class = "gevent"
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
worker_connections = 1000
"""Each WebSocket client holds one of these for its whole life: 500 clients fit with room."""
timeout = 30
graceful_timeout = 10
"""On a restart, clients are cut after this; they reconnect and resume from their position."""
keepalive = 5
limit_request_line = 0
"""gunicorn's own bound (1 MiB) rather than its default 4 KiB, which it refuses with a page of
HTML: the app refuses URLs over 4 KiB itself, as a JSON 414 (app/api/errors.py)."""
preload_app = False


logconfig_dict = gunicorn_logging_config(os.environ.get("LOG_FORMAT"))
"""gunicorn's error log and the app's logs, as JSON lines (or text: `LOG_FORMAT=text`)."""


def post_worker_init(worker) -> None:
    """Start the feed hub as the worker boots, so that its rolling buffer is warm before the
    first client and stays so with none connected. If the database is not reachable yet, the
    hub starts on the first WebSocket connection instead."""
    from app import extensions

    try:
        with worker.wsgi.app_context():
            extensions.feed().start()  # the hub logs its position and psycopg's wait function
    except Exception as exc:
        worker.log.warning(
            "feed hub not started at boot (%s); it starts with the first client", exc
        )
    freeze_startup_objects()


def freeze_startup_objects() -> None:
    """Keep the garbage collector's full passes rare and short.

    What the worker built at boot (modules, the catalog, the baseline, the app) is frozen out
    of every later pass; and a larger first generation lets the short-lived objects of a
    fan-out (hundreds of clients woken ten times a second) die young instead of being
    promoted. Without both, bench.ws_load at 500 clients saw a full pass every few seconds,
    each stalling every client for 20-160 ms.
    """
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def worker_exit(server, worker) -> None:
    """Close the hub's LISTEN connection and tell the worker's clients to go elsewhere."""
    wsgi = getattr(worker, "wsgi", None)
    if wsgi is None:
        return
    from app import extensions

    try:
        with wsgi.app_context():
            extensions.feed().stop(timeout=2)
    except Exception as exc:
        worker.log.warning("feed hub did not stop cleanly: %s", exc)
