"""The feed's pure parts import neither the web framework nor the database: they are tested
here without either, and stay that way."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import app.ws

PURE = ("topics", "protocol", "policy", "buffer", "resume", "mailbox")
FORBIDDEN = (
    "flask",
    "flask_sock",
    "simple_websocket",
    "sqlalchemy",
    "psycopg",
    "app.store",
    "app.api",
    "app.ws.hub",
    "app.ws.session",
)
PACKAGE = Path(app.ws.__file__).parent


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", PURE)
def test_a_pure_feed_module_imports_no_framework_and_no_database(module):
    found = imports(PACKAGE / f"{module}.py")
    offenders = sorted(n for n in found if any(n == f or n.startswith(f + ".") for f in FORBIDDEN))
    assert offenders == []
