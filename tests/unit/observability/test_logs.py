"""Log lines: one JSON object each with time, level, logger, message and the context fields;
text for people; request ids that are safe to log and echo; the LOG_FORMAT setting."""

from __future__ import annotations

import io
import json
import logging
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from logging.config import dictConfig

import pytest

from app.observability.logs import (
    JsonFormatter,
    LogFormatError,
    TextFormatter,
    bind,
    configure,
    context_fields,
    gunicorn_logging_config,
    parse_log_format,
    request_id_from,
    resolved_format,
    sane_request_id,
)
from app.settings import PROJECT_ROOT, Settings, SettingsError

ISO_UTC_MILLISECONDS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


class Lines:
    """A logger whose lines, formatted by `formatter`, are kept in a string."""

    def __init__(self, formatter: logging.Formatter, name: str = "test.observability") -> None:
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(formatter)
        self.logger = logging.getLogger(name)
        self.logger.addHandler(self.handler)
        self.logger.setLevel(logging.INFO)
        self.logger.propagate = False

    def text(self) -> list[str]:
        return self.stream.getvalue().splitlines()

    def json(self) -> list[dict]:
        return [json.loads(line) for line in self.text()]

    def close(self) -> None:
        self.logger.removeHandler(self.handler)
        self.logger.propagate = True


@pytest.fixture
def json_lines() -> Iterator[Lines]:
    lines = Lines(JsonFormatter())
    yield lines
    lines.close()


@pytest.fixture
def text_lines() -> Iterator[Lines]:
    lines = Lines(TextFormatter())
    yield lines
    lines.close()


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """Put the root and gunicorn loggers back as they were after a test configures them."""
    names = ("", "gunicorn.error", "gunicorn.access")
    saved = {
        name: (logger.handlers[:], logger.level, logger.propagate)
        for name in names
        for logger in [logging.getLogger(name)]
    }
    yield
    for name, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


def test_a_json_line_has_time_level_logger_and_message(json_lines):
    json_lines.logger.info("hello %s", "there")

    [line] = json_lines.json()
    assert list(line) == ["time", "level", "logger", "message"]
    assert (line["level"], line["logger"], line["message"]) == (
        "INFO", "test.observability", "hello there"
    )  # fmt: skip


def test_the_time_is_iso_8601_utc_to_the_millisecond(json_lines):
    before = datetime.now(UTC)
    json_lines.logger.info("now")

    stamp = json_lines.json()[0]["time"]
    assert ISO_UTC_MILLISECONDS.fullmatch(stamp)
    logged = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    assert abs((logged - before).total_seconds()) < 1


def test_extra_fields_are_added_to_the_line(json_lines):
    json_lines.logger.info("done", extra={"status": 201, "duration_ms": 3.5, "scenario": "x"})

    line = json_lines.json()[0]
    assert (line["status"], line["duration_ms"], line["scenario"]) == (201, 3.5, "x")


def test_bound_fields_are_on_every_line_inside_the_block_and_gone_after(json_lines):
    with bind(request_id="r-1"):
        json_lines.logger.info("first")
        with bind(run_id=7):
            json_lines.logger.info("nested")
        json_lines.logger.info("second")
    json_lines.logger.info("outside")

    lines = json_lines.json()
    assert [line.get("request_id") for line in lines] == ["r-1", "r-1", "r-1", None]
    assert [line.get("run_id") for line in lines] == [None, 7, None, None]
    assert context_fields() == {}


def test_a_field_never_replaces_the_four_core_keys(json_lines):
    with bind(level="forged", logger="forged"):
        json_lines.logger.info("real")

    line = json_lines.json()[0]
    assert (line["level"], line["logger"], line["message"]) == (
        "INFO", "test.observability", "real"
    )  # fmt: skip


def test_an_exception_stays_on_one_line_with_its_traceback(json_lines):
    try:
        raise ValueError("broken")
    except ValueError:
        json_lines.logger.exception("it failed")

    [line] = json_lines.json()
    assert line["level"] == "ERROR"
    assert "Traceback" in line["exception"] and "ValueError: broken" in line["exception"]


def test_values_json_cannot_encode_are_written_as_text(json_lines):
    moment = datetime(2026, 11, 25, tzinfo=UTC)
    json_lines.logger.info("odd", extra={"at": moment, "ids": {1, 2} - {2}})

    line = json_lines.json()[0]
    assert (line["at"], line["ids"]) == (str(moment), "{1}")


def test_a_text_line_puts_the_context_fields_after_the_message(text_lines):
    with bind(request_id="r-9"):
        text_lines.logger.warning("slow", extra={"duration_ms": 950.0})

    [line] = text_lines.text()
    stamp, level, logger, rest = line.split(" ", 3)
    assert ISO_UTC_MILLISECONDS.fullmatch(stamp)
    assert (level, logger, rest) == ("WARNING", "test.observability", "slow request_id=r-9 "
                                     "duration_ms=950.0")  # fmt: skip


@pytest.mark.parametrize("header", ["abc-123", "A.b_c-9", "x" * 128, "0"])
def test_a_sane_request_id_is_kept(header):
    assert sane_request_id(header) == header
    assert request_id_from(header) == header


@pytest.mark.parametrize(
    "header",
    [None, "", "x" * 129, "has space", "semi;colon", 'quote"d', "new\nline", "ünïcode", "a/b"],
)
def test_a_missing_or_unsafe_request_id_is_replaced_by_a_fresh_one(header):
    assert sane_request_id(header) is None
    generated = request_id_from(header)
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert generated != request_id_from(header)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, "auto"), ("", "auto"), ("json", "json"), (" TEXT ", "text"), ("Auto", "auto")],
)
def test_log_format_defaults_to_auto_and_accepts_json_and_text(raw, expected):
    assert parse_log_format(raw) == expected


class _Stream(io.StringIO):
    def __init__(self, terminal: bool) -> None:
        super().__init__()
        self.terminal = terminal

    def isatty(self) -> bool:
        return self.terminal


def test_auto_is_text_at_a_terminal_and_json_lines_elsewhere():
    assert resolved_format("auto", _Stream(terminal=True)) == "text"
    assert resolved_format("auto", _Stream(terminal=False)) == "json"
    assert resolved_format("json", _Stream(terminal=True)) == "json"


def test_an_unknown_log_format_is_refused():
    with pytest.raises(LogFormatError, match="LOG_FORMAT='xml' must be one of: auto, json, text"):
        parse_log_format("xml")


def test_settings_read_log_format_and_refuse_a_bad_one_naming_the_variable():
    assert Settings.from_env({}).log_format == "auto"
    assert Settings.from_env({"LOG_FORMAT": "text"}).log_format == "text"
    with pytest.raises(SettingsError, match="LOG_FORMAT='yaml'"):
        Settings.from_env({"LOG_FORMAT": "yaml"})


def test_configure_sends_every_logger_to_stderr_as_json_and_quiets_the_noisy_ones(
    restored_logging, capsys
):
    configure("json")
    logging.getLogger("app.anything").info("from the app")
    logging.getLogger("apscheduler.scheduler").info("noise")
    logging.getLogger("werkzeug").info("a second access line")

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [(line["logger"], line["message"]) for line in lines] == [
        ("app.anything", "from the app")
    ]


def test_gunicorn_error_log_is_formatted_like_the_app_and_its_access_log_is_held(
    restored_logging, capsys
):
    dictConfig(gunicorn_logging_config("json"))
    logging.getLogger("gunicorn.error").info("Booting worker with pid: 1")
    logging.getLogger("gunicorn.access").info('"GET / HTTP/1.1" 200')

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [(line["logger"], line["message"]) for line in lines] == [
        ("gunicorn.error", "Booting worker with pid: 1")
    ]


def test_gunicorn_conf_sets_json_logging_without_importing_the_app_or_psycopg():
    """The master must not import psycopg before gevent patches the workers: the config
    imports the log module, the web app only in the workers."""
    probe = (
        "import runpy, sys; conf = runpy.run_path('gunicorn.conf.py'); "
        "formatter = conf['logconfig_dict']['formatters']['marketsim']['()']; "
        "print(formatter.__name__, 'app.web' in sys.modules, 'psycopg' in sys.modules, "
        "'flask' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"LOG_FORMAT": "json", "PATH": ""},
    )

    assert result.stdout.split() == ["JsonFormatter", "False", "False", "False"]
