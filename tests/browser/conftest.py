"""Browser tests: Debian's chromium driven by Playwright against a real `marketsim run`.

The server runs on the test run's seeded database (a real Postgres, baseline written once)
with its generator going, for the whole `tests/browser` package, and is stopped before any
other package's tests touch that database. Screenshots go to `tests/browser/artifacts/`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Response, expect, sync_playwright
from psycopg import sql

from app.settings import PROJECT_ROOT
from app.store.database import libpq_url

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).parent / "artifacts"
LIVE_TABLES = ("event_log", "stream_hourly", "projection_position")
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

expect.set_options(timeout=10_000)


def _chromium() -> str | None:
    if CHROMIUM.exists():
        return str(CHROMIUM)
    return shutil.which("chromium")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _empty_the_log(database_url: str) -> None:
    """Start from the baseline alone: no live event from an earlier test package."""
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute(
            sql.SQL("TRUNCATE {} RESTART IDENTITY").format(
                sql.SQL(", ").join(sql.Identifier(t) for t in LIVE_TABLES)
            )
        )


def _wait_for_state(url: str, process: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"marketsim run exited:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/api/simulation/state", timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"marketsim run did not answer within {timeout} s:\n{log.read_text()}")


@pytest.fixture(scope="package")
def chromium_path() -> str:
    path = _chromium()
    if path is None:
        pytest.skip(
            "chromium not found at /usr/bin/chromium or on PATH: install Debian's package "
            "(apt-get install chromium; .ci/run does this when apt-get is available)"
        )
    return path


@pytest.fixture(scope="package")
def server(
    chromium_path: str, seeded_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """`marketsim run` on a free port: API, pages, feed and the generator, at 1x."""
    _empty_the_log(seeded_database)
    port = _free_port()
    log = tmp_path_factory.mktemp("browser-server") / "marketsim.log"
    env = {**os.environ, "DATABASE_URL": seeded_database}
    env.pop("SIM_SPEED", None)
    env.pop("ADMIN_TOKEN", None)
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "run", "--port", str(port)],
            cwd=PROJECT_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_state(url, process, log)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="package")
def browser(chromium_path: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="package")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


class Api:
    """Plain HTTP calls to the server under test, to set up and check what the page shows."""

    def __init__(self, base: str) -> None:
        self.base = base

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.base}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"} if data is not None else {},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            raise AssertionError(f"{method} {path}: {error.code} {error.read()!r}") from None

    def get(self, path: str) -> dict:
        return self.call("GET", path)

    def refusal(self, path: str, body: dict) -> str:
        """The message of the API's refusal of a POST (what the page must show), without its
        "field 'name': " prefix."""
        request = urllib.request.Request(
            f"{self.base}{path}",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            urllib.request.urlopen(request, timeout=30).close()
        except urllib.error.HTTPError as error:
            message = json.loads(error.read())["error"]["message"]
            return re.sub(r"^(?:field|parameter) '[^']+':\s*", "", message)
        raise AssertionError(f"POST {path} {body} was accepted")

    def post(self, path: str, body: dict | None = None) -> dict:
        return self.call("POST", path, {} if body is None else body)


@pytest.fixture
def server_api(server: str) -> Api:
    """The API of the server under test, as earlier tests left the simulation."""
    return Api(server)


@pytest.fixture
def api(server_api: Api) -> Api:
    """The API, with the simulation reset to the baseline (a new epoch) for this test."""
    server_api.post("/api/simulation/reset")
    return server_api


def _is_page_error(message: ConsoleMessage) -> bool:
    """A console error the page did not expect. Chromium logs every HTTP error answer as
    "Failed to load resource"; the API's refusals are expected (the page shows them), and a
    missing page asset is caught from the responses instead."""
    return message.type == "error" and not message.text.startswith("Failed to load resource")


def _is_broken_asset(response: Response) -> bool:
    return response.status >= 400 and not urlparse(response.url).path.startswith("/api/")


def open_page(browser: Browser, url: str, viewport: dict) -> tuple[Page, list[str]]:
    """A fresh page at `url`, once its script says it is ready; the list collects the
    page's errors (uncaught exceptions, console errors, assets that failed to load)."""
    page = browser.new_page(viewport=viewport)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    page.on(
        "console",
        lambda message: (
            errors.append(f"console: {message.text}") if _is_page_error(message) else None
        ),
    )
    page.on(
        "response",
        lambda response: (
            errors.append(f"{response.status}: {response.url}")
            if _is_broken_asset(response)
            else None
        ),
    )
    page.goto(url)
    expect(page.locator("body")).to_have_attribute("data-ready", "true", timeout=30_000)
    return page, errors


@pytest.fixture
def console(browser: Browser, server: str, api: Api) -> Iterator[Page]:
    """The admin console at desktop width, on a freshly reset simulation."""
    page, errors = open_page(browser, f"{server}/admin", DESKTOP)
    expect(page.locator("#feed-status")).to_have_attribute("data-status", "live")
    yield page
    page.close()
    assert errors == []


@pytest.fixture
def inspector(browser: Browser, server: str) -> Iterator[Page]:
    """The data inspector at desktop width (it only reads: no reset needed)."""
    page, errors = open_page(browser, f"{server}/inspect", DESKTOP)
    yield page
    page.close()
    assert errors == []
