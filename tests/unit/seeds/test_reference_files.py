"""The checked-in baseline files are exactly what the default seed generates."""

from __future__ import annotations

import pytest

from app.domain.documents import render_document
from app.settings import DEFAULT_SEED
from seeds.baseline import DATA_DIR, REFERENCE_END, build


@pytest.fixture(scope="module")
def fresh_documents(catalog, config_dir):
    baseline = build(catalog, config_dir, seed=DEFAULT_SEED, end=REFERENCE_END)
    return {name: render_document(doc) for name, doc in baseline.documents().items()}


@pytest.mark.parametrize(
    "name",
    ["baseline-full-30day.json", "baseline-statistics.json", "baseline-events-30day.json"],
)
def test_a_fresh_export_equals_the_checked_in_file_byte_for_byte(fresh_documents, name):
    checked_in = (DATA_DIR / name).read_bytes()

    assert fresh_documents[name].encode("utf-8") == checked_in, (
        f"seeds/data/{name} is stale: regenerate it with `marketsim seed --no-database "
        f"--export seeds/data --end {REFERENCE_END:%Y-%m-%dT%H:%M:%SZ}`"
    )
