"""Shared, expensive fixtures of the domain tests: the catalog and generated baselines."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.domain.baseline import Baseline, generate_baseline
from app.domain.catalog import Catalog, load_catalog
from app.settings import PROJECT_ROOT

QUIET_END = datetime(2026, 11, 1, tzinfo=UTC)
"""A baseline ending here (Oct 2 - Nov 1) meets no season or holiday: trends show plainly."""


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(PROJECT_ROOT / "config")


@pytest.fixture(scope="session")
def quiet_baseline(catalog: Catalog) -> Baseline:
    return generate_baseline(catalog, seed=7, end=QUIET_END, config_checksum="test")


@pytest.fixture(scope="session")
def config_dir() -> Path:
    return PROJECT_ROOT / "config"
