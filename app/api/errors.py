"""One error shape for every API failure: {"error": {"code", "message", "hint"}}."""

from __future__ import annotations

import json
import logging

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge, RequestURITooLarge

from app.domain.errors import NotNow, Refused, Unknown

log = logging.getLogger(__name__)

_HINTS = {
    400: "check the request against API.md",
    404: "check the path; API.md lists every endpoint",
    405: "use one of the methods this path allows (see the Allow header)",
    413: "send a smaller request body",
    414: "shorten the URL: name fewer streams, or use a domain wildcard (`customer.*`)",
    415: "send a JSON body with Content-Type: application/json",
    429: "slow down and retry after a moment",
}


_REFUSAL_STATUSES: dict[type[Refused], int] = {Unknown: 404, NotNow: 409}
_REFUSAL_HINTS = {
    "unknown_scenario": "use one of: {options} (GET /api/simulation/scenarios)",
    "unknown_modifier": "GET /api/simulation/state lists the modifiers in force (a reset ends "
    "them all)",
    "unknown_event": "GET /api/events lists the events and their ids",
    "scenario_active": "stop it with POST /api/simulation/stop (it then settles) or reset the "
    "simulation",
    "no_active_scenario": "activate one with POST /api/simulation/scenario",
    "modifier_over": "nothing to end; GET /api/simulation/state lists the modifiers in force",
}


class ApiError(Exception):
    """An error the client can act on: it becomes a JSON response with its status."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        hint: str,
        headers: dict[str, str] | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.hint = hint
        self.headers = headers or {}
        self.field = field
        """The parameter or body field at fault (dotted path), for a form to point at."""


def invalid_field(field: str, message: str, hint: str) -> ApiError:
    """A 400 naming the body field at fault, e.g. `expectedImpact.streams.0.stream`."""
    return ApiError(400, "invalid_field", f"field '{field}': {message}", hint, field=field)


def json_body() -> dict:
    """The request's JSON object, or a 400/415 that says what was wrong with it."""
    if not request.is_json:
        raise ApiError(
            415,
            "unsupported_media_type",
            "the body must be JSON",
            "send Content-Type: application/json and a JSON object",
        )
    data = _whole_body()
    try:
        body = json.loads(data)
    except ValueError:
        body = None
    except RecursionError:
        raise ApiError(
            400,
            "invalid_json",
            "the body is nested too deeply to read",
            "send a JSON object nested no more than a few levels",
        ) from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "the body is not a JSON object", "send a JSON object")
    return body


def _whole_body() -> bytes:
    """The request body, refused with a 413 when it is over the limit. A body with a length
    is refused before it is read; a chunked one (no length) is read up to the limit, and one
    that fills it is refused too, rather than parsed cut short."""
    data = request.get_data(cache=True)
    limit = request.max_content_length
    if limit is not None and request.content_length is None and len(data) >= limit:
        raise RequestEntityTooLarge()
    return data


def error_response(
    status: int, code: str, message: str, hint: str, field: str | None = None
) -> tuple[Response, int]:
    error = {"code": code, "message": message, "hint": hint}
    if field is not None:
        error["field"] = field
    return jsonify({"error": error}), status


MAX_URL_BYTES = 4096
"""The longest path and query string served. The server in front (gunicorn) reads longer
request lines, up to its own bound, so that a long one gets this JSON 414, not its page."""


def register_error_handlers(app: Flask) -> None:
    """Answer every error, expected or not, in the JSON error shape."""

    @app.before_request
    def _refuse_long_urls() -> None:
        url = request.environ.get("RAW_URI") or request.full_path
        if len(url.encode("utf-8", "surrogateescape")) > MAX_URL_BYTES:
            raise RequestURITooLarge(f"the URL is over {MAX_URL_BYTES} bytes")

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> tuple[Response, int]:
        response, status = error_response(exc.status, exc.code, exc.message, exc.hint, exc.field)
        response.headers.update(exc.headers)
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="marketsim"'
        return response, status

    @app.errorhandler(Refused)
    def _refused(exc: Refused) -> tuple[Response, int]:
        return error_response(_refusal_status(exc), exc.code, exc.message, _refusal_hint(exc))

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> tuple[Response, int]:
        status = exc.code or 500
        code = (exc.name or "error").lower().replace(" ", "_")
        hint = _HINTS.get(status, "see API.md")
        response, status = error_response(status, code, exc.description or exc.name, hint)
        if status == 405 and exc.get_response().headers.get("Allow"):
            response.headers["Allow"] = exc.get_response().headers["Allow"]
        return response, status

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[Response, int]:
        log.exception("unhandled error")
        return error_response(
            500,
            "internal_error",
            "the server failed to handle this request",
            "retry; if it persists, the server log has the details",
        )


def _refusal_status(exc: Refused) -> int:
    return next(
        (status for kind, status in _REFUSAL_STATUSES.items() if isinstance(exc, kind)), 409
    )


def _refusal_hint(exc: Refused) -> str:
    hint = _REFUSAL_HINTS.get(exc.code, "see API.md")
    return hint.format(options=", ".join(exc.options))
