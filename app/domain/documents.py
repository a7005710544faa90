"""How the baseline is written down: export documents with stable bytes, numbers as JSON shows
them, and the checksums that prove a stored baseline is the one generated (recomputable from
the database: arrays as float64, documents as canonical JSON)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np


def number_list(values: np.ndarray) -> list[float | int]:
    """Numbers as JSON should show them: whole numbers as integers."""
    return [int(v) if float(v).is_integer() else float(v) for v in values]


def array_checksum(streams: tuple[str, ...], values: np.ndarray) -> str:
    """sha256 over each stream's name and its values as little-endian float64 (so the figure
    can be recomputed from the database, where every value is a float8)."""
    digest = hashlib.sha256()
    for name, row in zip(streams, values, strict=True):
        digest.update(name.encode() + b"\n")
        digest.update(np.asarray(row, dtype="<f8").tobytes())
    return digest.hexdigest()


def json_checksum(document: Any) -> str:
    """sha256 of canonical JSON (sorted keys, no spaces): stable through jsonb round trips."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def render_document(document: Any) -> str:
    """How the export files are written (stable bytes for a given content)."""
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"
