"""The baseline seed job: generate the 30-day baseline, write it to Postgres, export it.

    marketsim seed [--seed N] [--end ISO] [--if-missing] [--export DIR] [--no-database]

The files generated with the default seed and `REFERENCE_END` are checked in under
`seeds/data/`; a test regenerates them and compares the bytes.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from app.domain.baseline import Baseline, generate_baseline
from app.domain.calendar import floor_hours
from app.domain.catalog import CONFIG_FILES, Catalog
from app.domain.documents import render_document
from app.store.baseline_tables import BaselineStore

DATA_DIR = Path(__file__).resolve().parent / "data"
REFERENCE_END = datetime(2026, 11, 25, tzinfo=UTC)
"""The end of the checked-in reference baseline (the default seed's export)."""


def config_checksum(config_dir: Path) -> str:
    """sha256 over the config files, in a fixed order: which marketplace made the data."""
    digest = hashlib.sha256()
    for name in CONFIG_FILES:
        digest.update(name.encode() + b"\n" + (config_dir / name).read_bytes())
    return digest.hexdigest()


def default_end(now: datetime | None = None) -> datetime:
    """The last 12-hour boundary at or before `now`: where a fresh baseline ends."""
    return floor_hours(now or datetime.now(UTC), 12)


def build(catalog: Catalog, config_dir: Path, *, seed: int, end: datetime) -> Baseline:
    return generate_baseline(
        catalog, seed=seed, end=end, config_checksum=config_checksum(config_dir)
    )


def export(baseline: Baseline, directory: Path) -> list[Path]:
    """Write the three baseline files into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, document in baseline.documents().items():
        path = directory / name
        path.write_text(render_document(document), encoding="utf-8")
        written.append(path)
    return written


@dataclass(frozen=True)
class SeedOutcome:
    run_id: int | None
    created: bool
    generate_seconds: float
    write_seconds: float
    baseline: Baseline | None


def seed_baseline(
    baselines: BaselineStore | None,
    catalog: Catalog,
    config_dir: Path,
    *,
    seed: int,
    end: datetime,
    if_missing: bool = False,
) -> SeedOutcome:
    """Generate and (with a store) write a baseline. With `if_missing`, do nothing when one is
    already seeded (the release step runs this on every deploy)."""
    if baselines is not None and if_missing:
        existing = baselines.latest_run()
        if existing is not None:
            return SeedOutcome(existing.id, False, 0.0, 0.0, None)
    started = time.perf_counter()
    baseline = build(catalog, config_dir, seed=seed, end=end)
    generated = time.perf_counter()
    run_id = baselines.write(baseline) if baselines is not None else None
    return SeedOutcome(
        run_id, run_id is not None, generated - started, time.perf_counter() - generated, baseline
    )
