"""A labelled dataset on disk, in the shapes the anomaly-detection community reads (NAB's):

    DIR/data/<stream>.csv          timestamp,value   one row per complete hour
    DIR/combined_windows.json      {"data/<stream>.csv": [[start, end], ...]}  causal windows
    DIR/combined_windows_clear.json   the same, only the windows marked clear
    DIR/ground_truth.json          the whole ground truth: causes, windows with every field
    DIR/deliveries.json            the events faults of delivery acted on, with what happened

NAB writes times as `YYYY-MM-DD HH:MM:SS.ffffff` (UTC here); `ground_truth.json` keeps the
API's ISO-8601. `marketsim export --labels DIR` writes it, `marketsim score --labels DIR`
scores against it without a server.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from app.domain.ground_truth import ANOMALOUS, combined_windows
from app.domain.timerange import from_iso

GROUND_TRUTH = "ground_truth.json"
WINDOWS = "combined_windows.json"
CLEAR_WINDOWS = "combined_windows_clear.json"
DELIVERIES = "deliveries.json"


def nab_time(text: str) -> str:
    """An ISO-8601 time as NAB writes it."""
    return from_iso(text).strftime("%Y-%m-%d %H:%M:%S.%f")


def data_file(stream: str) -> str:
    return f"data/{stream}.csv"


def write_dataset(
    folder: Path,
    series: Mapping[str, Iterable[Mapping[str, Any]]],
    truth: Mapping[str, Any],
    calendar: str = "expected",
    deliveries: Sequence[Mapping[str, Any]] = (),
) -> list[Path]:
    """Write the series (history points; those still running are left out), the ground
    truth and the faulted deliveries (`GET /api/ground-truth/deliveries`'s items).
    `calendar="anomaly"` counts the calendar's windows among the causal ones."""
    written = []
    (folder / "data").mkdir(parents=True, exist_ok=True)
    for stream, points in series.items():
        path = folder / data_file(stream)
        with path.open("w", newline="") as handle:
            rows = csv.writer(handle)
            rows.writerow(["timestamp", "value"])
            for point in points:
                if not point.get("partial"):
                    stamp = from_iso(point["timestamp"]).strftime("%Y-%m-%d %H:%M:%S")
                    rows.writerow([stamp, point["value"]])
        written.append(path)
    kinds = (*ANOMALOUS, "calendar") if calendar == "anomaly" else ANOMALOUS
    for name, clear_only in ((WINDOWS, False), (CLEAR_WINDOWS, True)):
        merged = combined_windows(truth["windows"], kinds, clear_only)
        nab = {
            data_file(stream): [[nab_time(a), nab_time(b)] for a, b in merged.get(stream, [])]
            for stream in sorted(series)
        }
        written.append(_write_json(folder / name, nab))
    written.append(_write_json(folder / GROUND_TRUTH, dict(truth)))
    written.append(_write_json(folder / DELIVERIES, list(deliveries)))
    return written


def read_ground_truth(folder: Path) -> dict[str, Any]:
    """The ground truth an export wrote."""
    return json.loads((folder / GROUND_TRUTH).read_text())


def _write_json(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document, indent=1) + "\n")
    return path
