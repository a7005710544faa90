"""Logs for every process (`marketsim run`, `marketsim scheduler`, gunicorn's master and
workers): one JSON object a line by default, or readable text for people (`LOG_FORMAT`).

    configure(settings.log_format)                       # app/cli.py
    logconfig_dict = gunicorn_logging_config("json")     # gunicorn.conf.py

Each line has `time` (ISO-8601 UTC), `level`, `logger` and `message`, then the fields of its
context: those bound with `bind(...)` for everything logged inside (a request's `request_id`;
threads and gevent greenlets each have their own context) and those passed to one line as
`extra={...}` (`status`, `scenario`, `run_id`, ...).

The standard library only, on purpose: gunicorn.conf.py loads this file by its path in the
master process, which must not import the `app` package (and with it psycopg) before gevent
patches the workers.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from logging.config import dictConfig
from typing import Any

LOG_FORMATS = ("auto", "json", "text")
DEFAULT_LOG_FORMAT = "auto"
"""`auto`: text for a person at a terminal, JSON lines for a log collector (stderr not a tty)."""
QUIET_LOGGERS = ("pgserver", "alembic", "apscheduler", "werkzeug")
"""Loggers held at WARNING: their INFO lines are noise (werkzeug's is a second access log)."""

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")

_context: ContextVar[Mapping[str, Any] | None] = ContextVar("marketsim_log_context", default=None)

_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}
"""What every LogRecord carries; anything else on a record came from `extra`."""


class LogFormatError(ValueError):
    """`LOG_FORMAT` names no known format."""


def parse_log_format(raw: str | None) -> str:
    """The format `LOG_FORMAT` names: `auto` when unset or empty, else `auto`, `json` or
    `text`."""
    if raw is None or not raw.strip():
        return DEFAULT_LOG_FORMAT
    value = raw.strip().lower()
    if value not in LOG_FORMATS:
        raise LogFormatError(f"LOG_FORMAT={raw!r} must be one of: {', '.join(LOG_FORMATS)}")
    return value


# Context ------------------------------------------------------------------------------------


def sane_request_id(raw: str | None) -> str | None:
    """The client's request id when it is safe to log and echo: 1-128 characters of
    letters, digits, `.`, `_` and `-`; None otherwise."""
    if raw is not None and _SANE_REQUEST_ID.fullmatch(raw):
        return raw
    return None


def request_id_from(header: str | None) -> str:
    """The request id to use: the client's `X-Request-ID` when sane, else a new one."""
    return sane_request_id(header) or uuid.uuid4().hex


def context_fields() -> dict[str, Any]:
    """The fields bound in the current context."""
    return dict(_context.get() or {})


def bind_fields(**fields: Any) -> Token:
    """Add fields to the current context until `unbind(token)`: for hooks that open and
    close a context in two calls (a request's start and teardown)."""
    return _context.set({**context_fields(), **fields})


def unbind(token: Token) -> None:
    _context.reset(token)


@contextmanager
def bind(**fields: Any) -> Iterator[None]:
    """Add fields to every line logged inside the block (in this thread or greenlet)."""
    token = bind_fields(**fields)
    try:
        yield
    finally:
        unbind(token)


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The context fields of a line: those bound in its context, then its `extra`."""
    extras = {
        key: value
        for key, value in vars(record).items()
        if key not in _RECORD_ATTRIBUTES and not key.startswith("_")
    }
    return {**context_fields(), **extras}


# Formatters ---------------------------------------------------------------------------------


def utc_time(created: float) -> str:
    """A record's time, ISO-8601 UTC to the millisecond with a `Z`."""
    moment = datetime.fromtimestamp(created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, then the context fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": utc_time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record_fields(record).items():
            entry.setdefault(key, value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """For people: `time LEVEL logger message key=value ...`, tracebacks below."""

    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{key}={value}" for key, value in record_fields(record).items())
        line = f"{utc_time(record.created)} {record.levelname} {record.name} "
        line += record.getMessage()
        if fields:
            line += f" {fields}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


FORMATTERS: dict[str, type[logging.Formatter]] = {"json": JsonFormatter, "text": TextFormatter}


# Configuration ------------------------------------------------------------------------------


def resolved_format(log_format: str | None, stream: Any = None) -> str:
    """`json` or `text`: `auto` is text when `stream` (stderr) is a terminal."""
    chosen = parse_log_format(log_format)
    if chosen != "auto":
        return chosen
    stream = sys.stderr if stream is None else stream
    return "text" if getattr(stream, "isatty", lambda: False)() else "json"


def logging_config(log_format: str | None) -> dict[str, Any]:
    """A `dictConfig` that sends every logger, at INFO, to stderr in `log_format` (as
    `parse_log_format` reads it: None is the default)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"marketsim": {"()": FORMATTERS[resolved_format(log_format)]}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "marketsim",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": "INFO", "handlers": ["stderr"]},
        "loggers": {name: {"level": "WARNING"} for name in QUIET_LOGGERS},
    }


def configure(log_format: str = DEFAULT_LOG_FORMAT) -> None:
    """Configure this process's logging (replacing any handler on the root logger)."""
    dictConfig(logging_config(log_format))


def gunicorn_logging_config(log_format: str | None) -> dict[str, Any]:
    """`logging_config` for gunicorn's `logconfig_dict`: its error log loses its own handler
    and goes through the root's, formatted like the app's, at the level gunicorn gives it
    (`--log-level`). Its access log is held at WARNING: the app writes one access line per
    request itself, with the request id (a `logconfig_dict` would switch gunicorn's on)."""
    config = logging_config(log_format)
    config["loggers"]["gunicorn.error"] = {"handlers": [], "propagate": True}
    config["loggers"]["gunicorn.access"] = {"level": "WARNING", "handlers": [], "propagate": True}
    return config
