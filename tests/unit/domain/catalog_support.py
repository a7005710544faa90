"""Helpers for the catalog tests: a writable copy of config/ and a way to read its problems."""

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.domain.catalog import Catalog, ConfigError, load_catalog

CONFIG_DIR = Path(__file__).resolve().parents[3] / "config"

Json = Any


def copy_config(tmp_path: Path) -> Path:
    """A copy of the shipped config/ that a test may break."""
    target = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, target)
    return target


def edit(config_dir: Path, file: str, change: Callable[[Json], object]) -> None:
    """Load one config file, let `change` mutate the parsed JSON, write it back."""
    path = config_dir / file
    document = json.loads(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")


def fatal_problems(config_dir: Path) -> list[str]:
    """The problems of a config that must not load, as their messages."""
    with pytest.raises(ConfigError) as raised:
        load_catalog(config_dir)
    return [str(problem) for problem in raised.value.problems]


def skipped_problems(config_dir: Path) -> tuple[Catalog, list[str]]:
    """The catalog of a config that loads, and the problems of what it skipped."""
    catalog = load_catalog(config_dir)
    return catalog, [str(problem) for problem in catalog.problems]


def stream_entry(document: Json, name: str) -> Json:
    """The entry of streams.json called `name`."""
    return next(stream for stream in document["streams"] if stream["name"] == name)


def by_id(items: list[Json], item_id: str) -> Json:
    """The item of a list whose id is `item_id`."""
    return next(item for item in items if item["id"] == item_id)


def assert_reported(problems: list[str], expected: str) -> None:
    """`expected` (file, entry, field and the gist of the message) is one of the problems."""
    assert any(expected in problem for problem in problems), "\n".join(
        [f"expected a problem containing: {expected}", "got:", *problems]
    )
