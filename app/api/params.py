"""Query-parameter parsing with errors that name the parameter and say what would work."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypeVar

from flask import request
from pydantic import BaseModel, ValidationError

from app.api.errors import ApiError, invalid_field
from app.api.schemas import RangeParams
from app.domain.catalog import Catalog
from app.domain.timerange import TimeRangeError, from_iso, parse_range

Query = TypeVar("Query", bound=BaseModel)
TIME_HINT = "use ISO-8601 such as 2026-11-20T12:00:00Z, a date such as 2026-11-20, or 'now'"
_HINTS = {"start": TIME_HINT, "end": TIME_HINT}


def invalid(name: str, message: str, hint: str) -> ApiError:
    return ApiError(400, "invalid_parameter", f"parameter '{name}': {message}", hint, field=name)


def query(model: type[Query]) -> Query:
    """The request's query parameters as the endpoint's documented model (the one its
    OpenAPI entry shows): a parameter the endpoint does not take, one given twice, or a value
    the model's types and patterns refuse is a 400 naming it."""
    names = {field.alias or name: name for name, field in model.model_fields.items()}
    for name in request.args:
        if name not in names:
            raise invalid(
                name,
                "this endpoint takes no such parameter",
                f"use: {', '.join(names)}" if names else "send no parameters",
            )
        if len(request.args.getlist(name)) > 1:
            raise invalid(name, "given more than once", "give it once")
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise _refused_value(model, exc.errors()[0]) from None


def _refused_value(model: type[BaseModel], error: dict) -> ApiError:
    name = str(error["loc"][0])
    if error["type"] == "literal_error":
        return invalid(name, f"unknown value {error['input']!r}", f"use {error['ctx']['expected']}")
    field = next(f for n, f in model.model_fields.items() if (f.alias or n) == name)
    hint = _HINTS.get(name) or f"give {field.description}"
    return invalid(name, f"{error['input']!r} is not in the accepted form", hint)


def time_range(params: RangeParams, now: datetime, default: timedelta) -> tuple[datetime, datetime]:
    """The range the parameters ask for: `range` words, or `start` and `end` (`end` defaults
    to now, `start` to `default` before `end`), never both; `start` must come first."""
    if params.range is not None:
        if params.start is not None or params.end is not None:
            raise invalid("range", "cannot be combined with start or end", "give one or the other")
        try:
            start, end = parse_range(params.range, now)
        except TimeRangeError as exc:
            raise invalid("range", str(exc), "e.g. range=past 3 days") from None
    else:
        end = parse_time("end", params.end, now) if params.end is not None else now
        start = (
            parse_time("start", params.start, now) if params.start is not None else end - default
        )
    if start >= end:
        raise invalid("start", "must be before end", "swap them, or leave start out")
    return start, end


def parse_time(name: str, raw: str, now: datetime) -> datetime:
    """ISO-8601 (a `Z` or an offset; none means UTC), a date alone (midnight UTC), or `now`."""
    if raw.strip().lower() == "now":
        return now
    try:
        return from_iso(raw)
    except ValueError:
        raise invalid(
            name,
            f"{raw!r} is not a time",
            TIME_HINT,
        ) from None


def body_time(name: str, raw: str, now: datetime) -> datetime:
    """`parse_time` for a body field: a refusal names the field."""
    try:
        return parse_time(name, raw, now)
    except ApiError as exc:
        raise invalid_field(name, exc.message.split(": ", 1)[-1], exc.hint) from None


def parse_streams(name: str, raw: str | None, catalog: Catalog) -> tuple[str, ...]:
    """A comma-separated list of stream names or `domain.*` patterns; all streams when absent.
    An empty list, or an empty name in it, is refused (as the OpenAPI pattern says)."""
    if raw is None:
        return tuple(catalog.streams)
    items = [part.strip() for part in raw.split(",")]
    if "" in items:
        raise invalid(
            name,
            "an empty stream name",
            "give stream names or domain.* separated by commas, or leave the parameter out "
            "for every stream",
        )
    chosen: list[str] = []
    unknown: list[str] = []
    for item in items:
        if item.endswith(".*"):
            found = [s.name for s in catalog.streams_in_domain(item[:-2])]
        else:
            found = [item] if item in catalog.streams else []
        if not found:
            unknown.append(item)
        chosen.extend(s for s in found if s not in chosen)
    if unknown:
        raise invalid(
            name,
            f"unknown stream(s): {', '.join(unknown)}",
            "GET /api/streams lists the names; a domain is written like customer.*",
        )
    return tuple(chosen)
