"""Fixtures for the observability tests: JSON log lines as a process would write them, and
`/metrics` parsed the way Prometheus reads it."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.observability.logs import JsonFormatter


class JsonLines(logging.Handler):
    """Keeps each record as the JSON object the service would write for it."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))

    def of(self, logger: str) -> list[dict[str, Any]]:
        return [line for line in self.lines if line["logger"] == logger]


@pytest.fixture
def log_lines() -> Iterator[JsonLines]:
    """Every INFO line logged anywhere during the test, as parsed JSON."""
    handler = JsonLines()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse_metrics(text: str) -> tuple[dict[str, Any], Samples]:
    """The families (by name) and every sample, keyed by name and sorted labels."""
    families = {family.name: family for family in text_string_to_metric_families(text)}
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in families.values()
        for sample in family.samples
    }
    return families, samples


@pytest.fixture
def scrape() -> Callable[[Any], Samples]:
    """`scrape(client)`: GET /metrics and return its samples."""

    def read(client: Any) -> Samples:
        response = client.get("/metrics")
        assert response.status_code == 200, response.get_data(as_text=True)
        return parse_metrics(response.get_data(as_text=True))[1]

    return read


def sample(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))
