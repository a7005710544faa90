"""How the ground truth's `clear` label holds up against detectors a user writes first.

    python -m bench.detectors DIR      # DIR: an export (`marketsim export --labels DIR`)

Runs the 18 variants of tests/e2e/detector.py (a trailing or centred level over 2, 3 or 7
days, flagging at z 3.5, 4 or 4.5) over the export's series and prints, for each, the share
of the clear causal windows and of the subtle ones it finds (a detection inside a window
finds it). The label's criterion (app/domain/labels.py) was chosen on these figures.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import defaultdict
from datetime import datetime
from pathlib import Path

from app.dataset import read_ground_truth
from app.domain.catalog import load_catalog
from app.domain.timerange import from_iso
from app.settings import PROJECT_ROOT
from tests.e2e.detector import detect

VARIANTS = [
    {"centred": centred, "level_hours": 24 * days, "z_limit": z}
    for centred in (False, True)
    for days in (2, 3, 7)
    for z in (3.5, 4.0, 4.5)
]


def found(windows: list[dict], detections: list[dict]) -> list[bool]:
    times: dict[str, list[datetime]] = defaultdict(list)
    for detection in detections:
        times[detection["stream"]].append(from_iso(detection["timestamp"]))
    return [
        any(from_iso(w["start"]) <= t < from_iso(w["end"]) for t in times[w["stream"]])
        for w in windows
    ]


def share(hits: list[bool]) -> float:
    return sum(hits) / len(hits) if hits else float("nan")


def main(folder: Path) -> None:
    catalog = load_catalog(PROJECT_ROOT / "config")
    counts = [name for name, stream in catalog.streams.items() if stream.shape == "entity"]
    truth = read_ground_truth(folder)
    causal = [w for w in truth["windows"] if w["causal"] and w["label"] != "calendar"]
    clear = [w for w in causal if w["detectability"] == "clear"]
    visible = [w for w in causal if w["detectability"] == "visible"]
    subtle = [w for w in causal if w["detectability"] == "subtle"]
    print(
        f"{len(causal)} causal windows: {len(clear)} clear, {len(visible)} visible, "
        f"{len(subtle)} subtle"
    )
    recalls = []
    for variant in VARIANTS:
        detections = detect(folder, counts, **variant)
        recall = share(found(clear, detections))
        recalls.append(recall)
        level = "centred" if variant["centred"] else "trailing"
        print(
            f"{level:<8} {variant['level_hours'] // 24} d  z {variant['z_limit']:<4}  "
            f"clear {recall:6.1%}  visible {share(found(visible, detections)):6.1%}  "
            f"subtle {share(found(subtle, detections)):6.1%}  "
            f"alarms {len(detections)}"
        )
    print(
        f"clear windows found: {min(recalls):.1%} to {max(recalls):.1%}, "
        f"median {statistics.median(recalls):.1%}"
    )
    print(json.dumps({"clearRecallMedian": round(statistics.median(recalls), 4)}))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m bench.detectors DIR  (an export of marketsim export --labels)")
    main(Path(sys.argv[1]))
