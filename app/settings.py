"""Settings read once from the environment into a frozen object.

Every setting has a default that works on a fresh machine: no `DATABASE_URL` means an embedded
Postgres in `DATA_DIR`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from app.domain.retention import RetentionPolicy
from app.domain.timerange import iso_duration
from app.observability.logs import DEFAULT_LOG_FORMAT, LogFormatError, parse_log_format


def project_root(package_parent: Path, working_dir: Path) -> Path:
    """The folder holding `alembic.ini`, `migrations/`, `config/` and `seeds/data/`: the
    package's parent in a checkout (an editable install); else the working directory, as in a
    deploy that installed the package into site-packages and runs from its checkout."""
    return package_parent if (package_parent / "alembic.ini").exists() else working_dir


PROJECT_ROOT = project_root(Path(__file__).resolve().parent.parent, Path.cwd())

DEFAULT_PORT = 8000
DEFAULT_CONTROL_RATE_LIMIT = 120
DEFAULT_SEED = 20261125
DEFAULT_DATA_DIR = Path(".marketsim")
DEFAULT_LOG_RETENTION = timedelta(days=14)


class SettingsError(ValueError):
    """An environment variable holds a value the service cannot use."""


@dataclass(frozen=True)
class Settings:
    """What the service needs to know about its environment."""

    database_url: str | None = None
    database_read_url: str | None = None
    """A read replica of `database_url` (DATABASE_READ_URL): the web process reads history's
    live hours and the baseline from it; the log, the feed and every write stay on the
    primary."""
    port: int = DEFAULT_PORT
    sim_seed: int = DEFAULT_SEED
    sim_speed: float | None = None
    """The clock speed to set at start; None leaves the clock as the log has it (1x for a new
    simulation)."""
    data_dir: Path = DEFAULT_DATA_DIR
    admin_token: str | None = None
    secret_key: str | None = None
    """Signs the admin session cookie; unset, it is derived from ADMIN_TOKEN."""
    control_rate_limit: int = DEFAULT_CONTROL_RATE_LIMIT
    """Mutating requests a client may make per minute, per web process (0: no limit)."""
    config_dir: Path = PROJECT_ROOT / "config"
    feed_buffer_events: int = 50_000
    """The most events a web process keeps in memory for resumes (FEED_BUFFER_EVENTS)."""
    proxy_hops: int = 0
    """Proxies in front of the web process whose X-Forwarded-For/-Proto/-Host it trusts (Railway:
    1). With 0 the headers are ignored: a client could set them itself."""
    log_format: str = DEFAULT_LOG_FORMAT
    """`json` (one object a line) or `text` (for people)."""
    log_retention: timedelta | None = DEFAULT_LOG_RETENTION
    """Stream events recorded longer ago (wall time) are dropped from the log (LOG_RETENTION;
    `off`: kept for ever)."""
    log_max_bytes: int | None = None
    """The log's size budget (LOG_MAX_BYTES): past it the oldest stream events go."""
    check_responses: bool = False
    """Validate every JSON answer against its documented model (CHECK_RESPONSES=1): on in the
    tests and for development, off by default (a validation per answer)."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            database_read_url=env.get("DATABASE_READ_URL") or None,
            port=_parse(env, "PORT", int, DEFAULT_PORT),
            sim_seed=_parse(env, "SIM_SEED", int, DEFAULT_SEED),
            sim_speed=_parse_speed(env),
            data_dir=Path(env.get("DATA_DIR") or DEFAULT_DATA_DIR),
            admin_token=env.get("ADMIN_TOKEN") or None,
            secret_key=env.get("SECRET_KEY") or None,
            control_rate_limit=_parse_rate_limit(env),
            config_dir=Path(env.get("CONFIG_DIR") or PROJECT_ROOT / "config"),
            proxy_hops=_parse_proxy_hops(env),
            feed_buffer_events=_parse_buffer_events(env),
            log_format=_parse_log_format(env),
            log_retention=_parse_retention(env),
            log_max_bytes=_parse_max_bytes(env),
            check_responses=_parse_flag(env, "CHECK_RESPONSES"),
        )

    @property
    def retention(self) -> RetentionPolicy:
        return RetentionPolicy(self.log_retention, self.log_max_bytes)

    def with_database(self, url: str) -> Settings:
        return replace(self, database_url=url)


def _parse(env: Mapping[str, str], name: str, convert: type, default: object) -> object:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return convert(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}={raw!r} is not a valid {convert.__name__}") from exc


def _parse_flag(env: Mapping[str, str], name: str) -> bool:
    raw = (env.get(name) or "0").strip().lower()
    if raw not in ("0", "1", "true", "false", "yes", "no", "on", "off"):
        raise SettingsError(f"{name}={raw!r} must be 1 or 0 (true or false)")
    return raw in ("1", "true", "yes", "on")


def _parse_speed(env: Mapping[str, str]) -> float | None:
    speed = _parse(env, "SIM_SPEED", float, None)
    if speed is not None and not 0 < speed <= 100_000:
        raise SettingsError(f"SIM_SPEED={speed!r} must be a number in (0, 100000]")
    return speed


def _parse_log_format(env: Mapping[str, str]) -> str:
    try:
        return parse_log_format(env.get("LOG_FORMAT"))
    except LogFormatError as exc:
        raise SettingsError(str(exc)) from exc


def _parse_buffer_events(env: Mapping[str, str]) -> int:
    events = _parse(env, "FEED_BUFFER_EVENTS", int, 50_000)
    if events < 1_000:
        raise SettingsError(f"FEED_BUFFER_EVENTS={events!r} must be 1000 or more")
    return events


def _parse_proxy_hops(env: Mapping[str, str]) -> int:
    hops = _parse(env, "PROXY_HOPS", int, 0)
    if not 0 <= hops <= 5:
        raise SettingsError(f"PROXY_HOPS={hops!r} must be 0 (no proxy) to 5")
    return hops


def _parse_rate_limit(env: Mapping[str, str]) -> int:
    limit = _parse(env, "CONTROL_RATE_LIMIT", int, DEFAULT_CONTROL_RATE_LIMIT)
    if limit < 0:
        raise SettingsError(f"CONTROL_RATE_LIMIT={limit!r} must be 0 (no limit) or more")
    return limit


_TIMEDELTA = TypeAdapter(timedelta)
_OFF = ("off", "none", "0")


def _parse_retention(env: Mapping[str, str]) -> timedelta | None:
    raw = (env.get("LOG_RETENTION") or "").strip()
    if not raw:
        return DEFAULT_LOG_RETENTION
    if raw.lower() in _OFF:
        return None
    try:
        span = _TIMEDELTA.validate_python(iso_duration(raw))
    except (ValueError, ValidationError):
        span = None
    if span is None or span < timedelta(hours=1):
        raise SettingsError(
            f"LOG_RETENTION={raw!r} must be a duration of an hour or more (14d, 36h, P14D) or off"
        )
    return span


_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?", re.IGNORECASE)
"""A size: a number, then optionally k, M, G or T (powers of 1000; with `i`, of 1024) and B."""


def _parse_max_bytes(env: Mapping[str, str]) -> int | None:
    raw = (env.get("LOG_MAX_BYTES") or "").strip()
    if not raw or raw.lower() in _OFF:
        return None
    match = _SIZE.fullmatch(raw)
    if match is None:
        raise SettingsError(
            f"LOG_MAX_BYTES={raw!r} must be a size such as 2GB, 500MB, 1.5GiB or a number of "
            "bytes, or off"
        )
    number, unit = float(match.group(1)), (match.group(2) or "b").lower()
    power = "bkmgt".index(unit[0])
    size = int(number * (1024 if "i" in unit else 1000) ** power)
    if size < 10**8:
        raise SettingsError(f"LOG_MAX_BYTES={raw!r} must be 100MB or more")
    return size
