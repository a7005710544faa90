"""Query-parameter parsing with errors that name the parameter and say what would work."""

from __future__ import annotations

from datetime import datetime

from app.api.errors import ApiError
from app.domain.catalog import Catalog
from app.domain.timerange import from_iso


def invalid(name: str, message: str, hint: str) -> ApiError:
    return ApiError(400, "invalid_parameter", f"parameter '{name}': {message}", hint, field=name)


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
            "use ISO-8601 such as 2026-11-20T12:00:00Z, a date such as 2026-11-20, or 'now'",
        ) from None


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
