"""Prometheus metrics of one served process: its requests, and gauges read at scrape time.

Requests are counted by the WSGI wrapper :class:`RequestMetrics`, by service, method, route
template (``/tracking/cohorts/<uuid:cohort_id>/funnel``, never the ids) and status, with a
latency histogram; answers given before routing (a 413, a 408) count under the route
``unmatched``. Lags, dead letters and import jobs are not kept in memory: a :class:`Gauges`
collector asks the database (through the callables the composition root gives it) at each
scrape, so any process reports the same figures. The counters are per worker process.

``/metrics`` is served by :func:`metrics_listener` on a port of its own, without a token:
Prometheus cannot renew bearer tokens, and the figures hold no personal data; keep that port
off the public network.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from flask import Flask, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from shared.web.server import WSGIApp, problem_body

ROUTE_KEY = "polku.route"
UNMATCHED = "unmatched"
PROCESS_PATHS = frozenset({"/", "/healthz", "/readyz"})
"""Answered by the process itself (embedded mode's root app), not a service's routes."""

Gauge = Callable[[], Mapping[tuple[str, ...], float]]
"""Returns ``{label values: value}`` for one gauge, read at scrape time."""


class Gauges:
    """A collector of gauges whose values are read when Prometheus scrapes. Gauges added
    under one name (each write service's outbox head) are one family."""

    def __init__(self) -> None:
        self._gauges: dict[str, tuple[str, tuple[str, ...], list[Gauge]]] = {}

    def add(self, name: str, documentation: str, labels: tuple[str, ...], read: Gauge) -> None:
        known = self._gauges.setdefault(name, (documentation, labels, []))
        if known[1] != labels:
            raise ValueError(f"{name} is labelled {known[1]}, not {labels}")
        known[2].append(read)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        for name, (documentation, labels, readers) in self._gauges.items():
            family = GaugeMetricFamily(name, documentation, labels=list(labels))
            for read in readers:
                try:
                    values = read()
                except Exception:  # an unreachable database: the scrape goes on without it
                    continue
                for label_values, value in values.items():
                    family.add_metric(list(label_values), value)
            yield family

    def describe(self) -> Iterator[GaugeMetricFamily]:
        return iter(())  # read at scrape time only: registering must not query anything


class RequestMetrics:
    """Counts and times every request the wrapped WSGI application answers."""

    def __init__(self, app: WSGIApp, service: str, registry: CollectorRegistry) -> None:
        self.app = app
        self.service = service
        self.requests = Counter(
            "polku_http_requests",
            "HTTP requests answered, by route template and status.",
            ("service", "method", "route", "status"),
            registry=registry,
        )
        self.latency = Histogram(
            "polku_http_request_duration_seconds",
            "Time to the response's status line, by route template.",
            ("service", "method", "route"),
            registry=registry,
        )

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        started = time.perf_counter()

        def recording(status: str, headers: Any, exc_info: Any = None) -> Any:
            route = environ.get(ROUTE_KEY)
            if route is None:
                path = environ.get("PATH_INFO", "")
                route = path if path in PROCESS_PATHS else UNMATCHED
            method = environ.get("REQUEST_METHOD", "")
            self.requests.labels(self.service, method, route, status.split(" ", 1)[0]).inc()
            self.latency.labels(self.service, method, route).observe(time.perf_counter() - started)
            return start_response(status, headers, exc_info)

        return self.app(environ, recording)


def record_routes(app: Flask) -> Callable[[], None]:
    """Tells :class:`RequestMetrics` the route template each request matched; returns the
    request hook that does it."""

    @app.before_request
    def remember_route() -> None:
        if request.url_rule is not None:
            request.environ[ROUTE_KEY] = request.url_rule.rule

    return remember_route


def metrics_listener(app: WSGIApp, registry: CollectorRegistry, port: int | None) -> WSGIApp:
    """``app`` on every port but ``port``, where only ``GET /metrics`` is answered."""
    if port is None:
        return app
    metrics_port = str(port)

    def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("SERVER_PORT") != metrics_port:
            return app(environ, start_response)
        path = environ.get("PATH_INFO", "")
        if path != "/metrics":
            body = problem_body(404, "Not Found", "this port serves /metrics only", path)
            start_response(
                "404 Not Found",
                [("Content-Type", "application/problem+json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        output = generate_latest(registry)
        start_response(
            "200 OK", [("Content-Type", CONTENT_TYPE_LATEST), ("Content-Length", str(len(output)))]
        )
        return [output]

    return dispatch
