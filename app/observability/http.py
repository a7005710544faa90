"""Per request: an id, one access line, and the request's figures for `/metrics`.

The hooks hang on Flask's `request_started` and `request_finished` signals, which fire
before every `before_request` function and after every `after_request` one: a request that
another hook answers early (an auth check) still gets its id, its line and its figures.
The id is bound to the logging context for the whole request, so every line logged while
serving it (a WebSocket session's too) carries it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextvars import Token
from dataclasses import dataclass

from flask import Flask, Response, g, request, request_finished, request_started

from app.observability.logs import REQUEST_ID_HEADER, bind_fields, request_id_from, unbind

access_log = logging.getLogger("marketsim.http")

UNMATCHED_ROUTE = "unmatched"
"""The route label of a request that matched no URL rule (a 404)."""

Observe = Callable[[str, str, int, float], None]
"""Records one request's figures: method, route template, status, seconds."""

_STATE = "observability_request"
_OBSERVE = "marketsim.observe_request"


@dataclass
class RequestState:
    request_id: str
    started: float
    token: Token


def install(app: Flask, observe: Observe) -> None:
    """Give `app`'s requests an id, an access line and their figures (through `observe`)."""
    app.extensions[_OBSERVE] = observe
    request_started.connect(_started, app)
    request_finished.connect(_finished, app)
    app.teardown_request(_teardown)


def route_of() -> str:
    """The current request's route template (`/api/streams/<name>`), never the raw path: a
    label with one value per URL would grow without bound."""
    rule = request.url_rule
    return rule.rule if rule is not None else UNMATCHED_ROUTE


def _started(sender: Flask, **_: object) -> None:
    request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
    token = bind_fields(request_id=request_id)
    setattr(g, _STATE, RequestState(request_id, time.perf_counter(), token))


def _finished(sender: Flask, response: Response, **_: object) -> None:
    state: RequestState | None = getattr(g, _STATE, None)
    if state is None:
        return
    seconds = time.perf_counter() - state.started
    response.headers[REQUEST_ID_HEADER] = state.request_id
    route = route_of()
    sender.extensions[_OBSERVE](request.method, route, response.status_code, seconds)
    access_log.info(
        "%s %s %d",
        request.method,
        request.path,
        response.status_code,
        extra={
            "method": request.method,
            "path": request.path,
            "route": route,
            "status": response.status_code,
            "duration_ms": round(seconds * 1000, 2),
        },
    )


def _teardown(_: BaseException | None) -> None:
    state: RequestState | None = getattr(g, _STATE, None)
    if state is not None:
        unbind(state.token)
        delattr(g, _STATE)
