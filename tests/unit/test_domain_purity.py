"""The domain stays pure: it never imports the web framework, the database or the store."""

from __future__ import annotations

import ast
from pathlib import Path

import app.domain

FORBIDDEN = ("flask", "flask_sock", "sqlalchemy", "psycopg", "alembic", "app.store", "app.api")
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
