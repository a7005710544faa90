"""`/metrics`: the service's figures in Prometheus' text exposition format.

Registering `bp` gives the app its own registry (several apps in one process, as in the
tests, never mix their figures) and installs the request hooks of `app.observability.http`
(request id, access line, request figures). Everything but the request figures is read when
Prometheus scrapes: events appended (from the hourly rollup, cheap with millions of rows),
this process's WebSocket feed, the scheduler's leadership and the simulation's state.

Per process: under gunicorn each worker has its own registry, feed hub and request counters,
and a scrape reaches one of them; the log, leadership and simulation figures come from the
database and are the same from any process. SIMULATOR.md lists every metric.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

from flask import Blueprint, Flask, Response, current_app, request
from flask.blueprints import BlueprintSetupState
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder

from app import extensions
from app.domain.catalog import Catalog
from app.domain.generator import GROUPS
from app.domain.retention import RetentionPolicy
from app.domain.simulation_state import SimulationState
from app.observability import http
from app.store.eventlog import LogSize
from app.store.metric_reads import EventCounts, MetricsReads

log = logging.getLogger(__name__)

bp = Blueprint("observability", __name__)

_REGISTRY = "marketsim.metrics"
PHASES = ("active", "settling", "none")
"""A scenario's phase in `marketsim_scenario_phase`: `none` when it is not running (never
activated, or settled)."""
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@bp.record_once
def _install(state: BlueprintSetupState) -> None:
    app = state.app
    registry = CollectorRegistry()
    requests = RequestMetrics(registry)
    registry.register(ServiceCollector(app))
    app.extensions[_REGISTRY] = registry
    http.install(app, requests.observe)


@bp.get("/metrics")
def metrics() -> Response:
    """Every figure, read now (OpenMetrics when the scraper asks for it)."""
    registry: CollectorRegistry = current_app.extensions[_REGISTRY]
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    return Response(encode(registry), content_type=content_type)


class RequestMetrics:
    """HTTP requests answered by this process, counted as they finish."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "marketsim_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "marketsim_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template "
            "(for /ws: the WebSocket connection's whole life).",
            ["method", "route"],
            registry=registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        method = method if method in KNOWN_METHODS else "other"
        self.requests.labels(method, route, str(status)).inc()
        self.duration.labels(method, route).observe(seconds)


Part = Callable[[], list[Metric]]


class ServiceCollector:
    """The figures read at scrape time, in parts (log, feed, leader, simulation). A part
    that fails (the database is down) is left out of that scrape, logged, and shown by
    `marketsim_collector_up`: the others are still served."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.events = EventCounter()
        self.parts: dict[str, Part] = {
            "log": self._log_metrics,
            "feed": feed_metrics,
            "leader": leader_metrics,
            "simulation": simulation_metrics,
        }

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "marketsim_collector_up",
            "1 when the collector read its figures at this scrape, 0 when it failed.",
            labels=["collector"],
        )
        took = GaugeMetricFamily(
            "marketsim_collector_duration_seconds",
            "Time the collector took at this scrape.",
            labels=["collector"],
        )
        families: list[Metric] = []
        with self.app.app_context():
            for name, read in self.parts.items():
                started = time.perf_counter()
                try:
                    families += read()
                except Exception:  # one part's failure must not fail the whole scrape
                    log.warning("metrics: the %s collector failed", name, exc_info=True)
                    up.add_metric([name], 0)
                else:
                    up.add_metric([name], 1)
                took.add_metric([name], time.perf_counter() - started)
        yield from families
        yield up
        yield took

    def _log_metrics(self) -> list[Metric]:
        size = extensions.store().log.size()
        return log_metrics(self.events.read(_reads())) + log_size_metrics(
            size, extensions.settings().retention
        )


class EventCounter:
    """Events appended, counted in full at the first scrape, then by the rows appended since
    the previous scrape: a scrape stays cheap however long the log grows."""

    def __init__(self) -> None:
        self._counts: EventCounts | None = None
        self._lock = threading.Lock()

    def read(self, reads: MetricsReads) -> EventCounts:
        with self._lock:
            if self._counts is None:
                self._counts = reads.event_counts()
            else:
                self._counts = reads.event_counts_after(self._counts)
            return self._counts


def _reads() -> MetricsReads:
    return MetricsReads(extensions.store().engine)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def log_metrics(counts: EventCounts) -> list[Metric]:
    appended = CounterMetricFamily(
        "marketsim_events_appended",
        "Events appended to the log since it began (every epoch), by kind and, for stream "
        "events, stream.",
        labels=["kind", "stream"],
    )
    for (kind, stream), events in sorted(counts.totals.items(), key=_by_kind_and_stream):
        appended.add_metric([kind, stream or ""], events)
    head = _gauge(
        "marketsim_log_position", "The highest position in the event log.", counts.through
    )
    return [appended, head]


def log_size_metrics(size: LogSize, policy: RetentionPolicy) -> list[Metric]:
    oldest = size.oldest_recorded_at
    figures = [
        ("marketsim_log_bytes", "The event log's size on disk, indexes included.", size.bytes),
        ("marketsim_log_rows", "Rows in the event log (Postgres's statistics).", size.rows),
        (
            "marketsim_log_retained_from_position",
            "Every stream event from this position on is in the log (retention dropped older).",
            size.retained_from,
        ),
        (
            "marketsim_log_oldest_event_recorded_timestamp_seconds",
            "When the oldest stream event the log holds was written (Unix time).",
            None if oldest is None else oldest.timestamp(),
        ),
        (
            "marketsim_log_retention_seconds",
            "Stream events recorded longer ago are dropped (LOG_RETENTION).",
            None if policy.max_age is None else policy.max_age.total_seconds(),
        ),
        ("marketsim_log_max_bytes", "The log's size budget (LOG_MAX_BYTES).", policy.max_bytes),
    ]
    return [_gauge(name, text, value) for name, text, value in figures if value is not None]


def _by_kind_and_stream(item: tuple[tuple[str, str | None], int]) -> tuple[str, str]:
    (kind, stream), _ = item
    return kind, stream or ""


def feed_metrics() -> list[Metric]:
    hub = extensions.feed()
    depths = hub.queue_depths()
    stats = hub.stats()
    families = [
        _gauge(
            "marketsim_feed_running",
            "1 when this process's feed hub is tailing the log.",
            int(hub.started),
        ),
        _gauge(
            "marketsim_ws_clients",
            "WebSocket clients connected to this process.",
            stats["clients"],
        ),
        _gauge(
            "marketsim_ws_clients_reading_log",
            "Clients of this process catching up from the log, out of the live fan-out.",
            stats["readingLog"],
        ),
        _gauge(
            "marketsim_ws_send_queue_events",
            "Events waiting in this process's WebSocket send queues, all clients together.",
            sum(depths),
        ),
        _gauge(
            "marketsim_ws_send_queue_max_events",
            "Events waiting in the longest WebSocket send queue of this process.",
            max(depths, default=0),
        ),
    ]
    if hub.started:
        position = hub.position
        families.append(
            _gauge(
                "marketsim_feed_lag_events",
                "The log's head position minus the last position this process's feed hub "
                "read and handed to its clients.",
                max(_reads().head_position() - position, 0),
            )
        )
        since_read = hub.seconds_since_read()
        if since_read is not None:
            families.append(
                _gauge(
                    "marketsim_feed_seconds_since_read",
                    "Seconds since this process's feed hub last read the log.",
                    since_read,
                )
            )
    return families


def leader_metrics() -> list[Metric]:
    pid = _reads().leader_backend_pid()
    families = [
        _gauge(
            "marketsim_scheduler_leader",
            "1 when a scheduler process holds the generator's leader lock.",
            int(pid is not None),
        )
    ]
    if pid is not None:
        families.append(
            _gauge(
                "marketsim_scheduler_leader_backend_pid",
                "Postgres backend pid of the leader lock's connection (pg_stat_activity.pid).",
                pid,
            )
        )
    return families


def simulation_metrics() -> list[Metric]:
    simulation = extensions.simulation()
    state = simulation.state()
    clock = simulation.clock()
    now = clock.now(simulation.wall())
    phase = GaugeMetricFamily(
        "marketsim_scenario_phase",
        "1 for each scenario's current phase (active, settling or none), 0 for the others.",
        labels=["scenario", "phase"],
    )
    for scenario, current in scenario_phases(state, simulation.catalog, now):
        for candidate in PHASES:
            phase.add_metric([scenario, candidate], int(candidate == current))
    behind = GaugeMetricFamily(
        "marketsim_generation_behind_seconds",
        "Simulated seconds between now and how far each cadence group's generation has got "
        "in this epoch (its last tick); up to its job's interval times the clock speed is "
        "normal.",
        labels=["group"],
    )
    for group, reached in simulation.store.generation.frontiers(state.epoch, GROUPS).items():
        behind.add_metric([group], max((now - reached).total_seconds(), 0.0))
    return [
        phase,
        behind,
        _gauge(
            "marketsim_epoch", "The simulation's current epoch (a reset opens one).", state.epoch
        ),
        _gauge(
            "marketsim_clock_speed",
            "Simulated seconds per wall second of the simulation clock.",
            clock.speed,
        ),
    ]


def scenario_phases(
    state: SimulationState, catalog: Catalog, now: datetime
) -> Iterable[tuple[str, str]]:
    """Each scenario (of the catalog, and of any run in the state) with its phase at `now`:
    `active` over `settling` (a run may settle while another one is active) over `none`."""
    phases = dict.fromkeys(catalog.scenarios, "none")
    rank = {name: order for order, name in enumerate(reversed(PHASES))}
    for run in state.runs:
        current = run.phase(now)
        current = current if current in rank else "none"
        previous = phases.get(run.scenario_id, "none")
        phases[run.scenario_id] = max(previous, current, key=rank.__getitem__)
    return sorted(phases.items())
