"""The process shape of ``polku serve SERVICE``, wired from :mod:`services.runtime`'s builders.

:func:`build` runs inside each gunicorn worker process (see :mod:`shared.web.server`): it builds
the service, starts its background work, and wraps the Flask app in the production stack,
outermost first: the ``/metrics`` listener, request metrics, the body limit, then the app with
its rate limits. :func:`background_work` names what a process runs besides its API, so the
command can refuse several worker processes for it: each would run its own projector or coach-
scope follower.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask
from prometheus_client import CollectorRegistry

from services import runtime
from services.tracking.readmodels import ReadModels
from shared.polling import start_worker
from shared.positions import RelayPositions
from shared.relay import Relay
from shared.settings import Settings
from shared.web import ratelimit
from shared.web.jobs import JOBS
from shared.web.metrics import Gauges, RequestMetrics, metrics_listener, record_routes
from shared.web.server import BodyLimit, Built, WSGIApp

log = logging.getLogger("polku.serve")

IMPORT_JOBS_EXTENSION = "polku.import_jobs"
"""Where a service app may put a callable returning its import jobs by state, ``{state: n}``;
``/metrics`` exposes them as ``polku_import_jobs``."""


def background_work(settings: Settings, service: str, projector: bool) -> str | None:
    """What the process runs besides its API, if anything."""
    if service == ALL:
        return "the projector" + (" and the relays" if settings.feed == "kafka" else "")
    if service == "tracking":
        return "the projector" if projector else None
    if service == "assessment" and (
        settings.kafka_bootstrap_servers or "enrolment" in settings.service_urls
    ):
        return "the coach-scope follower"
    return None


ALL = "all"
"""``polku serve all``: the three services in one process, as ``polku up`` builds them."""


def build(settings: Settings, service: str, projector: bool, start: bool = True) -> Built:
    """The served application of one service (or ``all``); ``start=False`` builds without
    starting the background work (the master's check that the configuration works, before
    any fork)."""
    stop = threading.Event()
    closers: list[Callable[[], None]] = []
    gauges = Gauges()
    try:
        if service == ALL:
            inner, apps = _embedded(settings, start, closers, gauges)
        elif service == "tracking":
            apps = [_tracking(settings, projector, start, stop, closers, gauges)]
            inner = apps[0]
        else:
            apps = [_write_service(settings, service, start, stop, closers, gauges)]
            inner = apps[0]
    except BaseException:
        _close(stop, closers)
        raise
    registry = CollectorRegistry()
    registry.register(gauges)
    gauges.add(
        "polku_import_jobs",
        "Import jobs kept, by state, over all the service's worker processes.",
        ("service", "state"),
        lambda: {
            (app.extensions["polku.service"], state): n
            for app in apps
            for state, n in _import_jobs(app).items()
        },
    )
    for app in apps:
        app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
        # A request refused by the rate limit has its route too.
        ratelimit.install(app, settings.rate_limits, before=[record_routes(app)])
    wsgi = RequestMetrics(BodyLimit(inner, settings.max_body_bytes), service, registry)
    return Built(
        metrics_listener(wsgi, registry, settings.metrics_port), lambda: _close(stop, closers)
    )


def _embedded(
    settings: Settings, start: bool, closers: list[Callable[[], None]], gauges: Gauges
) -> tuple[WSGIApp, list[Flask]]:
    embedded = runtime.build_embedded(settings)
    closers.append(embedded.close)
    if start:
        embedded.start()
    for name, write in embedded.services.items():
        write_gauges(gauges, settings, write, name)
    for name, relay in embedded.relays.items():
        relay_gauges(gauges, name, relay)
    _projector_gauges(gauges, embedded.tracking.readmodels)
    return embedded.wsgi, list(embedded.apps.values())


def relay_gauges(gauges: Gauges, service: str, relay: Relay) -> None:
    """What a relay process shows on ``/metrics``: whether it leads, and what it published."""
    gauges.add(
        "polku_relay_leading",
        "1 while this process's relay holds the service's leader lock and publishes; 0 while it"
        " stands by. Exactly one relay per service should read 1.",
        ("service",),
        lambda: {(service,): 1.0 if relay.stats.leading else 0.0},
    )
    gauges.add(
        "polku_relay_published_events",
        "Events this process's relay has published since it started.",
        ("service",),
        lambda: {(service,): relay.stats.published},
    )
    gauges.add(
        "polku_relay_failures",
        "Rounds of this process's relay that failed (the broker or the store was unreachable).",
        ("service",),
        lambda: {(service,): relay.stats.failures},
    )


def _close(stop: threading.Event, closers: list[Callable[[], None]]) -> None:
    stop.set()
    for closer in closers:
        closer()


def _import_jobs(app: Flask) -> Mapping[str, int]:
    jobs = app.extensions.get(IMPORT_JOBS_EXTENSION)
    if callable(jobs):
        return jobs()  # type: ignore[no-any-return]
    registry = app.extensions.get(JOBS)
    return registry.by_state() if registry is not None else {}


def _tracking(
    settings: Settings,
    projector: bool,
    start: bool,
    stop: threading.Event,
    closers: list[Callable[[], None]],
    gauges: Gauges,
) -> Flask:
    tracking = runtime.build_tracking(settings, project=projector)
    closers.append(tracking.close)
    app = runtime.tracking_app(settings, tracking)
    if projector and start:
        worker = start_worker(
            "projector", tracking.projector.run_forever, stop, settings.poll_interval
        )
        # Let the batch under way finish before its feed and database are closed.
        closers.insert(0, lambda: worker.join(timeout=30))
    if start:
        _join_on_close(closers, runtime.audit_workers([app], settings, stop))
    _projector_gauges(gauges, tracking.readmodels)
    return app


def _projector_gauges(gauges: Gauges, readmodels: ReadModels) -> None:
    def per_partition(key: str) -> Callable[[], dict[tuple[str, ...], float]]:
        def read() -> dict[tuple[str, ...], float]:
            return {
                (row["source"], str(row["partition"])): row[key]
                for row in readmodels.status()["sources"]
                if row[key] is not None
            }

        return read

    labels = ("source", "partition")
    gauges.add(
        "polku_projector_lag_events",
        "Events recorded at the feed's head and not yet projected, per partition.",
        labels,
        per_partition("lag"),
    )
    gauges.add(
        "polku_projector_position", "Last position projected.", labels, per_partition("position")
    )
    gauges.add(
        "polku_projector_head",
        "The feed's head as the projector last read it.",
        labels,
        per_partition("head"),
    )
    gauges.add(
        "polku_dead_letters",
        "Events the projector could not apply and set aside, per source.",
        ("source",),
        lambda: {(source,): n for source, n in readmodels.dead_letter_count().items()},
    )


def _write_service(
    settings: Settings,
    service: str,
    start: bool,
    stop: threading.Event,
    closers: list[Callable[[], None]],
    gauges: Gauges,
) -> Flask:
    write = runtime.build_write_service(settings, service)
    closers.append(write.close)
    app = runtime.write_service_app(settings, write)
    if write.scope is not None:
        _follow_scope(settings, write, start, stop, closers)
    if start:
        _join_on_close(closers, runtime.audit_workers([app], settings, stop))
    write_gauges(gauges, settings, write, service)
    return app


def write_gauges(gauges: Gauges, settings: Settings, write: Any, service: str) -> None:
    outbox = write.outbox
    scope = write.scope
    if scope is not None:
        gauges.add(
            "polku_coach_scope_dead_letters",
            "Enrolment events assessment's coach scope set aside as breaking their contract.",
            (),
            lambda: {(): scope.dead_letter_count()},
        )
    gauges.add(
        "polku_outbox_head",
        "The newest notification id of the service's event log.",
        ("service",),
        lambda: {(service,): outbox.head()},
    )
    if settings.kafka_bootstrap_servers:
        # Wherever the relay runs, its position is in this service's database.
        positions = RelayPositions(write.database, service)

        def lag() -> dict[tuple[str, ...], float]:
            return {(service,): max(0, outbox.head() - positions.get("kafka"))}

        gauges.add(
            "polku_relay_lag_events",
            "Notifications in the event log not yet published to Kafka.",
            ("service",),
            lag,
        )


def _follow_scope(
    settings: Settings,
    write: Any,
    start: bool,
    stop: threading.Event,
    closers: list[Callable[[], None]],
) -> None:
    """Keeps the assessment service's coach scope current from enrolment's events."""
    follower = runtime.scope_follower(settings, write)
    if follower is None:
        log.warning(
            "no Kafka and no POLKU_ENROLMENT_URL: the coach scope is not followed, so coaches "
            "it does not know yet are refused"
        )
        return
    closers.insert(0, follower.close)  # before write.close closes the database it writes to
    if start:
        worker = start_worker("coach-scope", follower.run_forever, stop, settings.poll_interval)
        closers.insert(0, lambda: worker.join(timeout=30))


def _join_on_close(closers: list[Callable[[], None]], threads: list[threading.Thread]) -> None:
    """Background verification passes finish before the stores they read are closed."""
    for thread in threads:
        closers.insert(0, lambda thread=thread: thread.join(timeout=30))  # type: ignore[misc]
