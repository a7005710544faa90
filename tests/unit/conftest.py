"""Shared, expensive fixtures of the domain tests: the catalog and generated baselines."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.domain.baseline import Baseline, generate_baseline
from app.domain.catalog import Catalog, load_catalog
from app.domain.history import BaselineView
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
def quiet_view(quiet_baseline: Baseline, catalog: Catalog) -> BaselineView:
    """The quiet baseline ready to serve, as a process loads it from its database."""
    return BaselineView(
        quiet_baseline.streams,
        quiet_baseline.start,
        quiet_baseline.values,
        quiet_baseline.buckets,
        quiet_baseline.statistics_json(),
        quiet_baseline.events_json(),
        {name: catalog.stream(name).aggregation for name in quiet_baseline.streams},
        quiet_baseline.carry_over,
    )


@pytest.fixture(scope="session")
def config_dir() -> Path:
    return PROJECT_ROOT / "config"
