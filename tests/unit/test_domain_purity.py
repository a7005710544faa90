"""The domain stays pure: it never imports the web framework, the database, the store or the
parts of the service around it, and importing it loads none of them."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import app.domain

FORBIDDEN = (
    "flask", "flask_sock", "sqlalchemy", "psycopg", "alembic", "app.store", "app.api",
    "app.services", "app.ws", "app.web", "app.extensions", "app.settings", "app.auth",
    "app.admin", "app.observability", "app.cli", "app.client",
)  # fmt: skip
DOMAIN = Path(app.domain.__file__).parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_domain_module_imports_framework_database_or_store():
    offenders = {
        f"{path.relative_to(DOMAIN)}: {name}"
        for path in DOMAIN.rglob("*.py")
        for name in _imports(path)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    }

    assert offenders == set()


def test_importing_the_generator_loads_neither_the_web_nor_the_database():
    """The scheduler, the seeds and the unit tests import the domain: not Flask with it."""
    probe = (
        "import sys, app.domain.generator, app.domain.ground_truth; "
        "print(sorted(m for m in ('flask', 'sqlalchemy', 'psycopg') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()

    assert loaded == "[]"
